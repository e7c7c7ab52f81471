use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::SettleReason;
use crate::instructions::now;
use crate::state::RentalState;

use super::Settle;

impl Settle<'_> {
    /// Either party ends an Active rental now.
    pub fn validate_stop(&self) -> Result<()> {
        require!(self.rental.state == RentalState::Active, EscrowError::RentalNotActive);
        require!(self.rental.is_party(&self.caller.key()), EscrowError::NotParty);
        Ok(())
    }

    pub fn stop(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.validate_stop()?;
        let t = now()?;
        let s = ctx.accounts.rental.meter().settle_at(t)?;
        let ended = t.min(ctx.accounts.rental.meter().billing_stops_at());
        ctx.accounts.payout_and_close(s, ended, SettleReason::Stopped, true)
    }
}
