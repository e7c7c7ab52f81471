use anchor_lang::prelude::*;

/// A provider's profile. Reputation fields are written only by the program.
#[account]
#[derive(InitSpace, Debug)]
pub struct Provider {
    pub authority: Pubkey,
    pub registered_at: i64,
    /// Next listing id; listing ids are never reused.
    pub listings_created: u64,
    pub rentals_completed: u64,
    pub seconds_billed: u64,
    /// Rentals cancelled after the activation timeout without being activated.
    pub no_shows: u32,
    pub disputes_against: u32,
    pub disputes_lost: u32,
    pub rating_sum: u64,
    pub rating_count: u32,
    pub heartbeats: u64,
    pub bump: u8,
}

impl Provider {
    /// Average rating × 100 (e.g. 450 = 4.50 stars); None before the first rating.
    pub fn rating_x100(&self) -> Option<u64> {
        (self.rating_count > 0).then(|| self.rating_sum * 100 / self.rating_count as u64)
    }
}
