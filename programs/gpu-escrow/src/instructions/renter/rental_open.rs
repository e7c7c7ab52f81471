use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::RentalOpened;
use crate::instructions::now;
use crate::math;
use crate::seeds;
use crate::state::{AcceptedMint, Config, Listing, Rental, RentalState};
use crate::token::deposit_to_vault;

/// Funds a new escrow. `rental_id` is chosen by the client; because it is part of the PDA,
/// a resent transaction cannot open (or charge) the same rental twice.
#[derive(Accounts)]
#[instruction(rental_id: u64)]
pub struct OpenRental<'info> {
    #[account(mut)]
    pub renter: Signer<'info>,
    #[account(seeds = [seeds::CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
    #[account(seeds = [seeds::ACCEPTED_MINT, listing.mint.as_ref()], bump = accepted_mint.bump)]
    pub accepted_mint: Account<'info, AcceptedMint>,
    #[account(mut, seeds = [seeds::LISTING, listing.provider.as_ref(), &listing.listing_id.to_le_bytes()], bump = listing.bump)]
    pub listing: Account<'info, Listing>,
    #[account(init, payer = renter, space = 8 + Rental::INIT_SPACE,
        seeds = [seeds::RENTAL, listing.key().as_ref(), renter.key().as_ref(), &rental_id.to_le_bytes()], bump)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(init, payer = renter, seeds = [seeds::VAULT, rental.key().as_ref()], bump,
        token::mint = mint, token::authority = rental, token::token_program = token_program)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = listing.mint @ EscrowError::WrongMint, mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = mint, token::authority = renter, token::token_program = token_program)]
    pub renter_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

/// The rental time a deposit buys must fall inside the listing's window.
pub(crate) fn check_duration(deposit: u64, price_per_hour: u64, min_secs: u32, max_secs: u32) -> Result<()> {
    let secs = math::seconds_for_deposit(deposit, price_per_hour)?;
    require!(secs >= min_secs as u64, EscrowError::DepositBelowMinimum);
    require!(secs <= max_secs as u64, EscrowError::DepositAboveMaximum);
    Ok(())
}

impl OpenRental<'_> {
    pub fn validate(&self, deposit: u64) -> Result<()> {
        require!(!self.config.paused, EscrowError::MarketPaused);
        require!(!self.listing.paused, EscrowError::ListingPaused);
        require!(self.listing.active_rentals < self.listing.capacity, EscrowError::ListingAtCapacity);
        require_keys_neq!(self.renter.key(), self.listing.provider, EscrowError::SelfRental);
        require!(deposit > 0, EscrowError::ZeroAmount);
        check_duration(deposit, self.listing.price_per_hour, self.listing.min_rental_secs, self.listing.max_rental_secs)
    }

    pub fn handle(mut ctx: Context<Self>, rental_id: u64, deposit: u64) -> Result<()> {
        let t = now()?;
        let a = &mut ctx.accounts;
        deposit_to_vault(&a.token_program, &a.renter_token, &a.mint, &a.vault, a.renter.to_account_info(), deposit)?;
        // Record what the vault actually received, not what was asked for.
        a.vault.reload()?;
        let received = a.vault.amount;
        let l = &mut a.listing;
        check_duration(received, l.price_per_hour, l.min_rental_secs, l.max_rental_secs)?;
        l.active_rentals += 1;
        a.rental.set_inner(Rental {
            renter: a.renter.key(),
            provider: l.provider,
            listing: l.key(),
            mint: l.mint,
            rental_id,
            state: RentalState::Funded,
            price_per_hour: l.price_per_hour,
            fee_bps: a.config.fee_bps,
            heartbeat_interval_secs: l.heartbeat_interval_secs,
            max_rental_secs: l.max_rental_secs,
            activation_timeout_secs: a.config.activation_timeout_secs,
            dispute_timeout_secs: a.config.dispute_timeout_secs,
            deposited: received,
            provider_paid: 0,
            fee_paid: 0,
            refunded: 0,
            opened_at: t,
            activated_at: 0,
            end_at: 0,
            last_heartbeat: 0,
            ended_at: 0,
            billed_seconds: 0,
            dispute_opened_by: Pubkey::default(),
            dispute_reason: 0,
            dispute_opened_at: 0,
            dispute_locked: 0,
            bump: ctx.bumps.rental,
            vault_bump: ctx.bumps.vault,
        });
        emit!(RentalOpened {
            rental: a.rental.key(),
            listing: l.key(),
            renter: a.renter.key(),
            provider: l.provider,
            mint: l.mint,
            deposited: received,
            price_per_hour: l.price_per_hour,
            fee_bps: a.config.fee_bps,
            opened_at: t,
        });
        Ok(())
    }
}
