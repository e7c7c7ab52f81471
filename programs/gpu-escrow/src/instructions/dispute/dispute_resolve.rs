use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::SettleReason;
use crate::instructions::{now, Settle};
use crate::state::RentalState;

impl Settle<'_> {
    pub fn validate_resolve(&self, provider_amount: u64, t: i64) -> Result<()> {
        require_keys_eq!(self.caller.key(), self.config.arbiter, EscrowError::NotArbiter);
        // An arbiter who is a party would judge its own case; the timeout rule settles it instead.
        require!(!self.rental.is_party(&self.caller.key()), EscrowError::ArbiterIsParty);
        require!(self.rental.state == RentalState::Disputed, EscrowError::RentalNotDisputed);
        // Once the timeout has passed the outcome is the objective rule's, not a late ruling's.
        require!(t < self.rental.dispute_deadline(), EscrowError::DisputeTimedOut);
        require!(provider_amount <= self.rental.dispute_locked, EscrowError::AwardExceedsLocked);
        Ok(())
    }

    /// The arbiter awards `provider_amount` of the locked funds to the provider side (the fee
    /// taken on the cumulative total, as in every settlement) and the rest to the renter.
    pub fn resolve(ctx: Context<Self>, provider_amount: u64) -> Result<()> {
        ctx.accounts.validate_resolve(provider_amount, now()?)?;
        ctx.accounts.award(provider_amount, SettleReason::DisputeResolved)
    }

    pub(crate) fn award(&mut self, provider_amount: u64, reason: SettleReason) -> Result<()> {
        let r = &self.rental;
        let s = r.meter().award(r.dispute_locked, provider_amount, r.billed_seconds)?;
        let lost = provider_amount < r.dispute_locked;
        if lost {
            let p = &mut self.provider_profile;
            p.disputes_lost = p.disputes_lost.saturating_add(1);
        }
        let ended_at = self.rental.dispute_opened_at;
        self.payout_and_close(s, ended_at, reason, !lost)
    }
}
