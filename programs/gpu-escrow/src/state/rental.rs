use anchor_lang::prelude::*;

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
#[account]
#[derive(InitSpace, Debug)]
pub struct Rental {
    pub renter: Pubkey,
    pub provider: Pubkey,
    pub listing: Pubkey,
    pub mint: Pubkey,
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
    pub bump: u8,
    pub vault_bump: u8,
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

    pub fn is_party(&self, key: &Pubkey) -> bool {
        *key == self.renter || *key == self.provider
    }

    /// Runs `f` with the rental PDA's signer seeds (the vault's authority).
    pub fn with_signer<R>(&self, f: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
        let id = self.rental_id.to_le_bytes();
        let bump = [self.bump];
        let seeds: &[&[u8]] = &[seeds::RENTAL, self.listing.as_ref(), self.renter.as_ref(), &id, &bump];
        f(&[seeds])
    }
}
