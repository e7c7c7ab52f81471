use anchor_lang::prelude::*;

/// A provider's profile. Reputation fields are written only by the program, and each costs
/// what it claims (SECURITY.md, "Reputation"): rentals, seconds and heartbeats are credited
/// only from rentals that count (`Rental::counts_for_reputation`: 600 s billed and the
/// mint's minimum gross paid, renter not the provider), disputes only when decided.
#[account]
#[derive(InitSpace, Debug)]
pub struct Provider {
    pub authority: Pubkey,
    pub registered_at: i64,
    /// Next listing id; listing ids are never reused.
    pub listings_created: u64,
    /// Settled rentals that count.
    pub rentals_completed: u64,
    /// Seconds billed on rentals that count.
    pub seconds_billed: u64,
    /// Rentals cancelled after the activation timeout without being activated.
    pub no_shows: u32,
    /// Disputes the arbiter decided against the provider (awarded it less than was locked).
    /// A dispute that times out, or that the arbiter awards in full, does not count.
    pub disputes_lost: u32,
    pub rating_sum: u64,
    pub rating_count: u32,
    /// SLA heartbeats on rentals that count, at most one per interval of billed time.
    pub heartbeats: u64,
    pub bump: u8,
}

impl Provider {
    pub fn add_rating(&mut self, stars: u8) {
        self.rating_sum = self.rating_sum.saturating_add(stars as u64);
        self.rating_count = self.rating_count.saturating_add(1);
    }

    /// Credits a settled rental's figures, if it counts.
    pub fn credit(&mut self, rental: &crate::state::Rental) {
        if rental.counts_for_reputation() {
            self.rentals_completed = self.rentals_completed.saturating_add(1);
            self.seconds_billed = self.seconds_billed.saturating_add(rental.billed_seconds);
            self.heartbeats = self.heartbeats.saturating_add(rental.creditable_heartbeats());
        }
    }

    /// Average rating × 100 (e.g. 450 = 4.50 stars); None before the first rating.
    pub fn rating_x100(&self) -> Option<u64> {
        (self.rating_count > 0).then(|| self.rating_sum * 100 / self.rating_count as u64)
    }
}
