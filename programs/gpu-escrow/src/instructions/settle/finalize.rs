use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::SettleReason;
use crate::instructions::now;
use crate::state::RentalState;

use super::Settle;

impl Settle<'_> {
    /// Anyone (a crank) may settle an Active rental once its paid time or SLA has run out.
    pub fn validate_finalize(&self, t: i64) -> Result<()> {
        require!(self.rental.state == RentalState::Active, EscrowError::RentalNotActive);
        require!(t >= self.rental.meter().billing_stops_at(), EscrowError::RentalNotExpired);
        Ok(())
    }

    pub fn finalize(ctx: Context<Self>) -> Result<()> {
        let t = now()?;
        ctx.accounts.validate_finalize(t)?;
        let meter = ctx.accounts.rental.meter();
        let s = meter.settle_at(t)?;
        ctx.accounts.payout_and_close(s, meter.billing_stops_at(), SettleReason::Finalized, true)
    }
}
