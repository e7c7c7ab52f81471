use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::ListingUpdated;
use crate::instructions::provider::listing_create::validate_params;
use crate::state::{Listing, ListingParams};

/// Changes apply to rentals opened afterwards; running rentals keep their snapshot.
#[derive(Accounts)]
pub struct UpdateListing<'info> {
    pub authority: Signer<'info>,
    #[account(mut, constraint = listing.provider == authority.key() @ EscrowError::NotProvider)]
    pub listing: Account<'info, Listing>,
}

impl UpdateListing<'_> {
    pub fn validate(&self, params: &ListingParams) -> Result<()> {
        validate_params(params)?;
        // Shrinking capacity below the rentals already open would strand the count.
        require!(params.capacity >= self.listing.active_rentals, EscrowError::ListingHasRentals);
        Ok(())
    }

    pub fn handle(ctx: Context<Self>, p: ListingParams) -> Result<()> {
        let l = &mut ctx.accounts.listing;
        l.price_per_hour = p.price_per_hour;
        l.gpu_model = p.gpu_model;
        l.region = p.region;
        l.gpu_count = p.gpu_count;
        l.vram_gb = p.vram_gb;
        l.cpu_cores = p.cpu_cores;
        l.ram_gb = p.ram_gb;
        l.disk_gb = p.disk_gb;
        l.min_rental_secs = p.min_rental_secs;
        l.max_rental_secs = p.max_rental_secs;
        l.heartbeat_interval_secs = p.heartbeat_interval_secs;
        l.capacity = p.capacity;
        emit!(ListingUpdated { listing: l.key(), params: p });
        Ok(())
    }
}
