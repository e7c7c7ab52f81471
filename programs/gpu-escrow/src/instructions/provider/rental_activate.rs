use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::RentalActivated;
use crate::instructions::now;
use crate::math;
use crate::state::{Rental, RentalState};

/// The provider has granted access: billing starts now, not at funding.
#[derive(Accounts)]
pub struct ActivateRental<'info> {
    pub provider: Signer<'info>,
    #[account(mut, has_one = provider @ EscrowError::NotProvider)]
    pub rental: Account<'info, Rental>,
}

impl ActivateRental<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.rental.state == RentalState::Funded, EscrowError::RentalNotFunded);
        Ok(())
    }

    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let t = now()?;
        let r = &mut ctx.accounts.rental;
        r.state = RentalState::Active;
        r.activated_at = t;
        r.last_heartbeat = t;
        r.end_at = math::end_at(t, r.deposited, r.price_per_hour)?;
        emit!(RentalActivated { rental: r.key(), activated_at: t, end_at: r.end_at });
        Ok(())
    }
}
