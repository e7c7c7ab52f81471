//! One event per state transition, carrying the amounts moved, for receipts and indexers.
//!
//! Events are logged with `emit!`. Logs are capped per transaction, and anyone who cranks a
//! permissionless instruction (finalize, expired dispute, timed-out cancel) could pad the
//! transaction to truncate them; so no receipt depends on them alone: `RentalClosed`, in the
//! renter's own closing transaction, carries the complete final ledger, and while the rental
//! account exists it is the source of truth. (`emit_cpi!` would survive truncation at the
//! cost of a self-CPI signed by a PDA per event; BENCHMARKS.md measures both.)
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
    pub min_rated_gross: u64,
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

/// Every value the listing now has, so an indexer needs no account read.
#[event]
pub struct ListingUpdated {
    pub listing: Pubkey,
    pub params: crate::state::ListingParams,
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
    pub rental_id: u64,
    pub deposited: u64,
    pub price_per_hour: u64,
    pub fee_bps: u16,
    pub heartbeat_interval_secs: u32,
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
    /// Length of the sealed access blob stored in the rental's access account.
    pub sealed_len: u16,
}

#[event]
pub struct RentalCancelled {
    pub rental: Pubkey,
    pub by: Pubkey,
    pub refunded: u64,
    /// True when the provider declined, false when the renter (or a crank) cancelled.
    pub declined: bool,
    pub no_show: bool,
    /// Tokens sent to the vault by others, returned to the renter with the refund.
    pub swept: u64,
    /// Part of the refund (and sweep) held in the vault because the renter's account could not receive.
    pub renter_owed: u64,
}

#[event]
pub struct HeartbeatRecorded {
    pub rental: Pubkey,
    pub at: i64,
    /// False when this heartbeat did not extend the SLA (same second as the last one).
    pub counted: bool,
}

#[event]
pub struct Claimed {
    pub rental: Pubkey,
    pub provider_amount: u64,
    pub fee_amount: u64,
    pub provider_paid: u64,
    pub fee_paid: u64,
    /// Held in the vault for a payee whose account could not receive (totals after this claim).
    pub provider_owed: u64,
    pub fee_owed: u64,
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
    pub renter: Pubkey,
    pub provider: Pubkey,
    pub mint: Pubkey,
    pub reason: SettleReason,
    pub billed_seconds: u64,
    /// Allotted by this settlement (the "paid now" figures).
    pub provider_amount: u64,
    pub fee_amount: u64,
    pub refund_amount: u64,
    /// Totals over the whole rental.
    pub provider_paid: u64,
    pub fee_paid: u64,
    pub refunded: u64,
    /// Tokens sent to the vault by others, returned to the renter.
    pub swept: u64,
    /// Held in the vault for payees whose accounts could not receive; each withdraws later.
    pub provider_owed: u64,
    pub fee_owed: u64,
    pub renter_owed: u64,
    pub ended_at: i64,
}

#[event]
pub struct DisputeOpened {
    pub rental: Pubkey,
    pub by: Pubkey,
    pub reason_code: u8,
    pub locked: u64,
    pub refund_amount: u64,
    pub renter_owed: u64,
    pub at: i64,
}

/// A payee took out what was held for it after its account could not receive.
#[event]
pub struct Withdrawn {
    pub rental: Pubkey,
    /// The renter, the provider or the treasury wallet (one wallet may hold several roles).
    pub payee: Pubkey,
    pub to: Pubkey,
    /// Everything paid out, `surplus` included.
    pub amount: u64,
    /// Tokens others had sent to the vault, recognised after the end: part of `amount` when
    /// the renter withdraws, otherwise added to `renter_owed`.
    pub surplus: u64,
    /// Still held in the vault for each payee after this withdrawal.
    pub provider_owed: u64,
    pub fee_owed: u64,
    pub renter_owed: u64,
    /// True when this withdrawal emptied and closed the vault.
    pub vault_closed: bool,
}

/// Held shares delivered by anyone to the payees' associated token accounts.
#[event]
pub struct OwedDelivered {
    pub rental: Pubkey,
    pub by: Pubkey,
    pub provider_amount: u64,
    pub fee_amount: u64,
    /// To the renter, `surplus` included.
    pub renter_amount: u64,
    /// Tokens others had sent to the vault, paid (or now held) for the renter after the end.
    pub surplus: u64,
    /// Still held after this delivery (a payee whose account still cannot receive).
    pub provider_owed: u64,
    pub fee_owed: u64,
    pub renter_owed: u64,
    pub vault_closed: bool,
}

#[event]
pub struct RentalRated {
    pub rental: Pubkey,
    pub provider: Pubkey,
    pub rating: u8,
}

/// The rental's complete final ledger, emitted in the renter's own closing transaction, so
/// receipts survive the account's closing even if other transactions' logs were truncated.
#[event]
pub struct RentalClosed {
    pub rental: Pubkey,
    pub listing: Pubkey,
    pub renter: Pubkey,
    pub provider: Pubkey,
    pub mint: Pubkey,
    pub rental_id: u64,
    /// Settled or Cancelled.
    pub settled: bool,
    pub price_per_hour: u64,
    pub fee_bps: u16,
    pub deposited: u64,
    pub provider_paid: u64,
    pub fee_paid: u64,
    pub refunded: u64,
    pub billed_seconds: u64,
    pub opened_at: i64,
    pub activated_at: i64,
    pub ended_at: i64,
    /// Tokens others sent to the vault, returned to the renter on top of `refunded`.
    pub swept: u64,
    /// 1-5 given with this close, or 0.
    pub rating: u8,
    /// True when the rental had been rated before (`rate_rental`).
    pub rated_before: bool,
}
