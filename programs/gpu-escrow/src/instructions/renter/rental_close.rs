use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::RentalClosed;
use crate::state::{AcceptedMint, Provider, Rental, RentalAccess, RentalState};

/// Closes a finished rental and its access account, returning their account deposits (SOL)
/// to the renter, with an optional 1–5 rating. Closing deletes the account, so a rental can
/// be rated at most once; rental ids never repeat, so neither can its address.
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
    /// CHECK: the AcceptedMint entry of the rental's mint, read only for a rating (its
    /// minimum amount); a removed mint leaves none, and then no rating can count.
    pub accepted_mint: UncheckedAccount<'info>,
}

impl CloseRental<'_> {
    pub fn validate(&self, rating: Option<u8>) -> Result<()> {
        let r = &self.rental;
        require!(r.is_ended(), EscrowError::RentalNotFinished);
        // The vault still holds someone's money until they withdraw it.
        require!(r.owed_total() == Some(0), EscrowError::FundsStillOwed);
        if let Some(stars) = rating {
            require!((1..=5).contains(&stars), EscrowError::InvalidRating);
            require!(r.state == RentalState::Settled, EscrowError::RatingNotAllowed);
            // A rating must cost real rental time and a real amount, not just transaction fees.
            require!(r.billed_seconds >= Rental::MIN_RATED_BILLED_SECS, EscrowError::RatingNotEarned);
            let min = AcceptedMint::load(&self.accepted_mint, &r.mint).ok_or(EscrowError::MintNotAccepted)?;
            let gross = r.provider_paid.saturating_add(r.fee_paid);
            require!(gross >= min.min_rated_gross, EscrowError::RatingNotEarned);
        }
        Ok(())
    }

    pub fn handle(ctx: Context<Self>, rating: Option<u8>) -> Result<()> {
        if let Some(stars) = rating {
            let p = &mut ctx.accounts.provider_profile;
            p.rating_sum = p.rating_sum.saturating_add(stars as u64);
            p.rating_count = p.rating_count.saturating_add(1);
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
            rating: rating.unwrap_or(0),
        });
        Ok(())
    }
}
