use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::ListingClosed;
use crate::state::Listing;

#[derive(Accounts)]
pub struct CloseListing<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(mut, close = authority,
        constraint = listing.provider == authority.key() @ EscrowError::NotProvider)]
    pub listing: Account<'info, Listing>,
}

impl CloseListing<'_> {
    pub fn validate(&self) -> Result<()> {
        let l = &self.listing;
        require!(l.active_rentals == 0 && l.disputed_rentals == 0, EscrowError::ListingHasRentals);
        Ok(())
    }

    pub fn handle(ctx: Context<Self>) -> Result<()> {
        emit!(ListingClosed { listing: ctx.accounts.listing.key() });
        Ok(())
    }
}
