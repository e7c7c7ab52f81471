use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::SettleReason;
use crate::instructions::{now, Settle};
use crate::state::RentalState;

impl Settle<'_> {
    pub fn validate_resolve_expired(&self, t: i64) -> Result<()> {
        require!(self.rental.state == RentalState::Disputed, EscrowError::RentalNotDisputed);
        require!(t >= self.rental.dispute_deadline(), EscrowError::DisputeNotExpired);
        Ok(())
    }

    /// The objective rule when the arbiter stays silent: anyone may settle as earned.
    pub fn resolve_expired(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.validate_resolve_expired(now()?)?;
        let locked = ctx.accounts.rental.dispute_locked;
        ctx.accounts.award(locked, SettleReason::DisputeExpired)
    }
}
