use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::RentalActivated;
use crate::instructions::now;
use crate::math;
use crate::state::{Rental, RentalAccess, RentalState, SEALED_MAX};

/// The provider has granted access: billing starts now, not at funding. The connection
/// details, sealed to the renter's key, are stored beside the rental; the program bounds
/// their size and never reads them.
#[derive(Accounts)]
pub struct ActivateRental<'info> {
    pub provider: Signer<'info>,
    #[account(mut, has_one = provider @ EscrowError::NotProvider)]
    pub rental: Account<'info, Rental>,
    #[account(mut, has_one = rental)]
    pub access: Box<Account<'info, RentalAccess>>,
}

impl ActivateRental<'_> {
    pub fn validate(&self, sealed: &[u8], t: i64) -> Result<()> {
        require!(self.rental.state == RentalState::Funded, EscrowError::RentalNotFunded);
        // Past the deadline the renter (or anyone) may cancel; activating then would let a
        // provider front-run the cancel and turn a no-show into a paid rental.
        require!(t < self.rental.activation_deadline(), EscrowError::ActivationExpired);
        require!(sealed.len() <= SEALED_MAX, EscrowError::SealedAccessTooLong);
        Ok(())
    }

    pub fn handle(ctx: Context<Self>, sealed: Vec<u8>) -> Result<()> {
        let t = now()?;
        ctx.accounts.validate(&sealed, t)?;
        let sealed_len = sealed.len() as u16;
        ctx.accounts.access.sealed = sealed;
        let r = &mut ctx.accounts.rental;
        r.state = RentalState::Active;
        r.activated_at = t;
        r.last_heartbeat = t;
        r.end_at = math::end_at(t, r.deposited, r.price_per_hour)?;
        emit!(RentalActivated { rental: r.key(), activated_at: t, end_at: r.end_at, sealed_len });
        Ok(())
    }
}
