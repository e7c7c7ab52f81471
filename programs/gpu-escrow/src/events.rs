//! One event per state transition, carrying the amounts moved, for receipts and indexers.
use anchor_lang::prelude::*;

#[event]
pub struct ConfigInitialized {
    pub admin: Pubkey,
    pub arbiter: Pubkey,
    pub treasury: Pubkey,
    pub fee_bps: u16,
}

#[event]
pub struct ConfigUpdated {
    pub arbiter: Pubkey,
    pub treasury: Pubkey,
    pub fee_bps: u16,
    pub activation_timeout_secs: u32,
    pub dispute_timeout_secs: u32,
}

#[event]
pub struct AdminProposed {
    pub admin: Pubkey,
    pub pending_admin: Pubkey,
}

#[event]
pub struct AdminAccepted {
    pub previous_admin: Pubkey,
    pub admin: Pubkey,
}

#[event]
pub struct MarketPauseSet {
    pub paused: bool,
}

#[event]
pub struct MintAdded {
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub decimals: u8,
}

#[event]
pub struct MintRemoved {
    pub mint: Pubkey,
}

#[event]
pub struct ProviderRegistered {
    pub provider: Pubkey,
}

#[event]
pub struct ListingCreated {
    pub listing: Pubkey,
    pub provider: Pubkey,
    pub listing_id: u64,
    pub mint: Pubkey,
    pub price_per_hour: u64,
}

#[event]
pub struct ListingUpdated {
    pub listing: Pubkey,
    pub price_per_hour: u64,
    pub capacity: u16,
}

#[event]
pub struct ListingPauseSet {
    pub listing: Pubkey,
    pub paused: bool,
}

#[event]
pub struct ListingClosed {
    pub listing: Pubkey,
}

#[event]
pub struct RentalOpened {
    pub rental: Pubkey,
    pub listing: Pubkey,
    pub renter: Pubkey,
    pub provider: Pubkey,
    pub mint: Pubkey,
    pub deposited: u64,
    pub price_per_hour: u64,
    pub fee_bps: u16,
    pub opened_at: i64,
}

#[event]
pub struct RentalToppedUp {
    pub rental: Pubkey,
    pub amount: u64,
    pub deposited: u64,
    pub end_at: i64,
}

#[event]
pub struct RentalActivated {
    pub rental: Pubkey,
    pub activated_at: i64,
    pub end_at: i64,
}

#[event]
pub struct RentalCancelled {
    pub rental: Pubkey,
    pub by: Pubkey,
    pub refunded: u64,
    /// True when the provider declined, false when the renter (or a crank) cancelled.
    pub declined: bool,
    pub no_show: bool,
}

#[event]
pub struct HeartbeatRecorded {
    pub rental: Pubkey,
    pub at: i64,
}

#[event]
pub struct Claimed {
    pub rental: Pubkey,
    pub provider_amount: u64,
    pub fee_amount: u64,
    pub provider_paid: u64,
    pub fee_paid: u64,
    pub at: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettleReason {
    Stopped,
    Finalized,
    DisputeResolved,
    DisputeExpired,
}

#[event]
pub struct RentalSettled {
    pub rental: Pubkey,
    pub reason: SettleReason,
    pub billed_seconds: u64,
    pub provider_amount: u64,
    pub fee_amount: u64,
    pub refund_amount: u64,
    pub provider_paid: u64,
    pub fee_paid: u64,
    pub refunded: u64,
    pub ended_at: i64,
}

#[event]
pub struct DisputeOpened {
    pub rental: Pubkey,
    pub by: Pubkey,
    pub reason_code: u8,
    pub locked: u64,
    pub refund_amount: u64,
    pub at: i64,
}

#[event]
pub struct RentalClosed {
    pub rental: Pubkey,
    pub rating: u8,
}
