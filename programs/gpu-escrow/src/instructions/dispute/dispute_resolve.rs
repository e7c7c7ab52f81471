use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::SettleReason;
use crate::instructions::Settle;
use crate::math::{self, Settlement};
use crate::state::RentalState;

impl Settle<'_> {
    pub fn validate_resolve(&self, provider_amount: u64) -> Result<()> {
        require_keys_eq!(self.caller.key(), self.config.arbiter, EscrowError::NotArbiter);
        require!(self.rental.state == RentalState::Disputed, EscrowError::RentalNotDisputed);
        require!(provider_amount <= self.rental.dispute_locked, EscrowError::AwardExceedsLocked);
        Ok(())
    }

    /// The arbiter awards `provider_amount` of the locked funds to the provider (fee taken
    /// from it) and the rest to the renter.
    pub fn resolve(ctx: Context<Self>, provider_amount: u64) -> Result<()> {
        ctx.accounts.validate_resolve(provider_amount)?;
        ctx.accounts.award(provider_amount, SettleReason::DisputeResolved)
    }

    pub(crate) fn award(&mut self, provider_amount: u64, reason: SettleReason) -> Result<()> {
        let r = &self.rental;
        let locked = r.dispute_locked;
        let award = math::dispute_award(locked, provider_amount, r.fee_bps)?;
        let s = Settlement {
            billable_seconds: r.billed_seconds,
            earned: r.provider_paid + r.fee_paid + locked,
            provider_delta: award.provider,
            fee_delta: award.fee,
            refund: award.renter,
        };
        if provider_amount < locked {
            let p = &mut self.provider_profile;
            p.disputes_lost = p.disputes_lost.saturating_add(1);
        }
        let ended_at = r.dispute_opened_at;
        self.payout_and_close(s, ended_at, reason)
    }
}
