use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::RentalClosed;
use crate::state::{Provider, Rental, RentalAccess, RentalState};

/// Closes a finished rental and its access account, returning their account deposits (SOL)
/// to the renter, with an optional 1–5 rating (the rule of `rate_rental`; a rental is rated
/// once). Rental ids never repeat, so neither can a closed rental's address.
#[derive(Accounts)]
pub struct CloseRental<'info> {
    #[account(mut)]
    pub renter: Signer<'info>,
    #[account(mut, close = renter, has_one = renter @ EscrowError::NotRenter)]
    pub rental: Account<'info, Rental>,
    #[account(mut, close = renter, has_one = rental)]
    pub access: Box<Account<'info, RentalAccess>>,
    #[account(mut, constraint = provider_profile.authority == rental.provider @ EscrowError::WrongProviderProfile)]
    pub provider_profile: Account<'info, Provider>,
}

impl CloseRental<'_> {
    pub fn validate(&self, rating: Option<u8>) -> Result<()> {
        let r = &self.rental;
        require!(r.is_ended(), EscrowError::RentalNotFinished);
        // The vault still holds someone's money until they withdraw it.
        require!(r.owed_total() == Some(0), EscrowError::FundsStillOwed);
        if let Some(stars) = rating {
            r.check_rating(stars)?;
        }
        Ok(())
    }

    pub fn handle(ctx: Context<Self>, rating: Option<u8>) -> Result<()> {
        if let Some(stars) = rating {
            ctx.accounts.provider_profile.add_rating(stars);
        }
        let r = &ctx.accounts.rental;
        emit!(RentalClosed {
            rental: r.key(),
            listing: r.listing,
            renter: r.renter,
            provider: r.provider,
            mint: r.mint,
            rental_id: r.rental_id,
            settled: r.state == RentalState::Settled,
            price_per_hour: r.price_per_hour,
            fee_bps: r.fee_bps,
            deposited: r.deposited,
            provider_paid: r.provider_paid,
            fee_paid: r.fee_paid,
            refunded: r.refunded,
            billed_seconds: r.billed_seconds,
            opened_at: r.opened_at,
            activated_at: r.activated_at,
            ended_at: r.ended_at,
            swept: r.swept,
            rating: rating.unwrap_or(0),
            rated_before: r.rated,
        });
        Ok(())
    }
}
