use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::RentalRated;
use crate::state::{Provider, Rental};

/// The renter rates a settled rental 1-5, once, whether or not anyone still has funds held
/// in its vault: a rating never waits on the other party's withdrawals. (`close_rental`
/// takes the same rating as an option, under the same rule.)
#[derive(Accounts)]
pub struct RateRental<'info> {
    pub renter: Signer<'info>,
    #[account(mut, has_one = renter @ EscrowError::NotRenter)]
    pub rental: Account<'info, Rental>,
    #[account(mut, constraint = provider_profile.authority == rental.provider @ EscrowError::WrongProviderProfile)]
    pub provider_profile: Account<'info, Provider>,
}

impl RateRental<'_> {
    pub fn validate(&self, stars: u8) -> Result<()> {
        self.rental.check_rating(stars)
    }

    pub fn handle(ctx: Context<Self>, stars: u8) -> Result<()> {
        let a = ctx.accounts;
        a.provider_profile.add_rating(stars);
        a.rental.rated = true;
        emit!(RentalRated { rental: a.rental.key(), provider: a.rental.provider, rating: stars });
        Ok(())
    }
}
