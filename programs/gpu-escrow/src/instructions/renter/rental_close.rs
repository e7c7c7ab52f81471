use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::RentalClosed;
use crate::seeds;
use crate::state::{Provider, Rental, RentalState};

/// Closes a finished rental, returning its rent to the renter, with an optional 1–5 rating.
/// Closing deletes the account, so a rental can be rated at most once.
#[derive(Accounts)]
pub struct CloseRental<'info> {
    #[account(mut)]
    pub renter: Signer<'info>,
    #[account(mut, close = renter, has_one = renter @ EscrowError::NotRenter)]
    pub rental: Account<'info, Rental>,
    #[account(mut, seeds = [seeds::PROVIDER, rental.provider.as_ref()], bump = provider_profile.bump)]
    pub provider_profile: Account<'info, Provider>,
}

impl CloseRental<'_> {
    pub fn validate(&self, rating: Option<u8>) -> Result<()> {
        let state = self.rental.state;
        require!(matches!(state, RentalState::Settled | RentalState::Cancelled), EscrowError::RentalNotFinished);
        if let Some(r) = rating {
            require!((1..=5).contains(&r), EscrowError::InvalidRating);
            require!(state == RentalState::Settled, EscrowError::RatingNotAllowed);
        }
        Ok(())
    }

    pub fn handle(ctx: Context<Self>, rating: Option<u8>) -> Result<()> {
        if let Some(r) = rating {
            let p = &mut ctx.accounts.provider_profile;
            p.rating_sum = p.rating_sum.saturating_add(r as u64);
            p.rating_count = p.rating_count.saturating_add(1);
        }
        emit!(RentalClosed { rental: ctx.accounts.rental.key(), rating: rating.unwrap_or(0) });
        Ok(())
    }
}
