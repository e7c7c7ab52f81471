use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::math::Meter;
use crate::seeds;

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RentalState {
    /// Deposit in the vault, waiting for the provider to activate.
    Funded,
    /// Access granted; billing runs from activated_at.
    Active,
    /// Accrual stopped; earned-but-unclaimed funds frozen until resolution.
    Disputed,
    /// All funds distributed; kept until the renter closes it.
    Settled,
    /// Ended before activation with a full refund.
    Cancelled,
}

/// One rental's escrow. Terms are snapshotted at open, so later listing or config changes
/// never alter a running rental.
///
/// `provider_paid`, `fee_paid` and `refunded` are what the settlement rules have allotted to
/// each party (the settlement math works on these totals). A payee whose token account could
/// not receive at that moment keeps its share in the vault, recorded in its `*_owed` field,
/// until it withdraws; so one party's broken account never blocks another party's payout.
#[account]
#[derive(InitSpace, Debug)]
pub struct Rental {
    pub renter: Pubkey,
    pub provider: Pubkey,
    pub listing: Pubkey,
    pub mint: Pubkey,
    /// The rental's token account. Stored so every instruction checks the vault by
    /// comparison instead of re-deriving its address (1,500 CU each time).
    pub vault: Pubkey,
    pub rental_id: u64,
    pub state: RentalState,
    pub price_per_hour: u64,
    pub fee_bps: u16,
    pub heartbeat_interval_secs: u32,
    pub max_rental_secs: u32,
    pub activation_timeout_secs: u32,
    pub dispute_timeout_secs: u32,
    pub deposited: u64,
    pub provider_paid: u64,
    pub fee_paid: u64,
    pub refunded: u64,
    pub opened_at: i64,
    pub activated_at: i64,
    /// Paid-through time; 0 until activation.
    pub end_at: i64,
    pub last_heartbeat: i64,
    pub ended_at: i64,
    pub billed_seconds: u64,
    pub dispute_opened_by: Pubkey,
    pub dispute_reason: u8,
    pub dispute_opened_at: i64,
    pub dispute_locked: u64,
    pub provider_owed: u64,
    pub fee_owed: u64,
    /// Refunds (and any surplus sent to the vault) the renter's account could not take.
    pub renter_owed: u64,
    pub bump: u8,
    pub vault_bump: u8,
    /// The access account's bump (canonical, like the others; kept so clients need not search).
    pub access_bump: u8,
    /// The accepted mint's `min_rated_gross` when the rental opened: the gross a rental must
    /// bill to count towards reputation, fixed for this rental like its other terms.
    pub min_counted_gross: u64,
    /// Heartbeats that moved this rental's SLA forward; added to the provider's figure only
    /// if the rental counts, and at most one per interval of billed time.
    pub heartbeats: u32,
    /// Set once the renter has rated this rental; a rental is rated at most once.
    pub rated: bool,
    /// Tokens others sent to the vault, returned to the renter over the rental's life (on
    /// top of `refunded`), so the final ledger accounts for every token that left the vault.
    pub swept: u64,
}

impl Rental {
    pub const RENTER_OFFSET: usize = 8;
    pub const PROVIDER_OFFSET: usize = Self::RENTER_OFFSET + 32;
    pub const LISTING_OFFSET: usize = Self::PROVIDER_OFFSET + 32;

    pub fn meter(&self) -> Meter {
        Meter {
            price_per_hour: self.price_per_hour,
            fee_bps: self.fee_bps,
            deposited: self.deposited,
            provider_paid: self.provider_paid,
            fee_paid: self.fee_paid,
            refunded: self.refunded,
            activated_at: self.activated_at,
            end_at: self.end_at,
            last_heartbeat: self.last_heartbeat,
            heartbeat_interval_secs: self.heartbeat_interval_secs,
        }
    }

    /// Only rentals that billed at least this long count towards reputation or may be rated,
    /// so each counted rental, second or rating costs real rental time (and its platform
    /// fee), not just transaction fees.
    pub const MIN_RATED_BILLED_SECS: u64 = 600;

    /// Whether this rental counts towards the provider's reputation: settled, with at least
    /// `MIN_RATED_BILLED_SECS` billed and at least `min_counted_gross` paid for them (the
    /// renter cannot be the provider: `open_rental` refuses that).
    pub fn counts_for_reputation(&self) -> bool {
        self.state == RentalState::Settled
            && self.billed_seconds >= Self::MIN_RATED_BILLED_SECS
            && self.provider_paid.saturating_add(self.fee_paid) >= self.min_counted_gross
    }

    /// A renter's 1-5 rating is accepted once per rental, and only for a rental that counts.
    pub fn check_rating(&self, stars: u8) -> Result<()> {
        require!((1..=5).contains(&stars), EscrowError::InvalidRating);
        require!(self.state == RentalState::Settled, EscrowError::RatingNotAllowed);
        require!(!self.rated, EscrowError::AlreadyRated);
        require!(self.counts_for_reputation(), EscrowError::RatingNotEarned);
        Ok(())
    }

    /// Heartbeats the provider's profile may credit for this rental: those recorded, but no
    /// more than one per heartbeat interval of billed time (plus the first).
    pub fn creditable_heartbeats(&self) -> u64 {
        if self.heartbeat_interval_secs == 0 {
            return 0;
        }
        let bound = self.billed_seconds / self.heartbeat_interval_secs as u64 + 1;
        (self.heartbeats as u64).min(bound)
    }

    pub fn is_party(&self, key: &Pubkey) -> bool {
        *key == self.renter || *key == self.provider
    }

    /// Settled or Cancelled: no more billing, only withdrawals of owed funds and closing.
    pub fn is_ended(&self) -> bool {
        matches!(self.state, RentalState::Settled | RentalState::Cancelled)
    }

    /// What is held for `who`, over every role it has in this rental (renter, provider,
    /// and the config's current `treasury`).
    pub fn owed_to(&self, who: &Pubkey, treasury: &Pubkey) -> u64 {
        let mut owed = 0u64;
        if *who == self.renter {
            owed = owed.saturating_add(self.renter_owed);
        }
        if *who == self.provider {
            owed = owed.saturating_add(self.provider_owed);
        }
        if who == treasury {
            owed = owed.saturating_add(self.fee_owed);
        }
        owed
    }

    /// Tokens in the vault that belong to a party whose account could not receive them.
    pub fn owed_total(&self) -> Option<u64> {
        self.provider_owed.checked_add(self.fee_owed)?.checked_add(self.renter_owed)
    }

    /// The moment after which the provider may no longer activate (and anyone may cancel).
    pub fn activation_deadline(&self) -> i64 {
        self.opened_at.saturating_add(self.activation_timeout_secs as i64)
    }

    /// After this moment the arbiter may no longer rule and anyone may settle as earned.
    pub fn dispute_deadline(&self) -> i64 {
        self.dispute_opened_at.saturating_add(self.dispute_timeout_secs as i64)
    }

    /// Runs `f` with the rental PDA's signer seeds (the vault's authority).
    pub fn with_signer<R>(&self, f: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
        let id = self.rental_id.to_le_bytes();
        let bump = [self.bump];
        let seeds: &[&[u8]] = &[seeds::RENTAL, self.listing.as_ref(), &id, &bump];
        f(&[seeds])
    }
}
