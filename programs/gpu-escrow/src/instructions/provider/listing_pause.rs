use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::ListingPauseSet;
use crate::state::Listing;

/// A paused listing takes no new rentals; running ones continue.
#[derive(Accounts)]
pub struct SetListingPaused<'info> {
    pub authority: Signer<'info>,
    #[account(mut, constraint = listing.provider == authority.key() @ EscrowError::NotProvider)]
    pub listing: Account<'info, Listing>,
}

impl SetListingPaused<'_> {
    pub fn handle(ctx: Context<Self>, paused: bool) -> Result<()> {
        ctx.accounts.listing.paused = paused;
        emit!(ListingPauseSet { listing: ctx.accounts.listing.key(), paused });
        Ok(())
    }
}
