use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::ListingCreated;
use crate::seeds;
use crate::state::{AcceptedMint, Config, Listing, ListingParams, Provider};

#[derive(Accounts)]
pub struct CreateListing<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    pub config: Account<'info, Config>,
    #[account(mut, constraint = provider.authority == authority.key() @ EscrowError::WrongProviderProfile)]
    pub provider: Account<'info, Provider>,
    /// CHECK: only its address is used, as the listing's payment token; it must be accepted.
    pub mint: UncheckedAccount<'info>,
    /// CHECK: must be the live AcceptedMint entry for `mint` (see `AcceptedMint::load`).
    #[account(constraint = AcceptedMint::load(&accepted_mint, &mint.key()).is_some() @ EscrowError::MintNotAccepted)]
    pub accepted_mint: UncheckedAccount<'info>,
    #[account(init, payer = authority, space = 8 + Listing::INIT_SPACE,
        seeds = [seeds::LISTING, authority.key().as_ref(), &provider.listings_created.to_le_bytes()], bump)]
    pub listing: Account<'info, Listing>,
    pub system_program: Program<'info, System>,
}

pub(crate) fn validate_params(p: &ListingParams) -> Result<()> {
    require!(p.price_per_hour > 0, EscrowError::ZeroPrice);
    require!(p.gpu_count > 0, EscrowError::ZeroGpuCount);
    require!(p.capacity > 0, EscrowError::ZeroCapacity);
    require!(p.min_rental_secs > 0 && p.min_rental_secs <= p.max_rental_secs, EscrowError::InvalidRentalWindow);
    Ok(())
}

impl CreateListing<'_> {
    pub fn validate(&self, params: &ListingParams) -> Result<()> {
        require!(!self.config.paused, EscrowError::MarketPaused);
        validate_params(params)
    }

    pub fn handle(mut ctx: Context<Self>, params: ListingParams) -> Result<()> {
        let a = &mut ctx.accounts;
        let listing_id = a.provider.listings_created;
        a.provider.listings_created = listing_id.checked_add(1).ok_or(EscrowError::AmountOverflow)?;
        a.listing.set_inner(Listing {
            provider: a.authority.key(),
            listing_id,
            mint: a.mint.key(),
            price_per_hour: params.price_per_hour,
            gpu_model: params.gpu_model,
            region: params.region,
            gpu_count: params.gpu_count,
            vram_gb: params.vram_gb,
            cpu_cores: params.cpu_cores,
            ram_gb: params.ram_gb,
            disk_gb: params.disk_gb,
            min_rental_secs: params.min_rental_secs,
            max_rental_secs: params.max_rental_secs,
            heartbeat_interval_secs: params.heartbeat_interval_secs,
            capacity: params.capacity,
            active_rentals: 0,
            paused: false,
            bump: ctx.bumps.listing,
            rentals_opened: 0,
            disputed_rentals: 0,
        });
        emit!(ListingCreated {
            listing: a.listing.key(),
            provider: a.authority.key(),
            listing_id,
            mint: a.listing.mint,
            price_per_hour: params.price_per_hour,
        });
        Ok(())
    }
}
