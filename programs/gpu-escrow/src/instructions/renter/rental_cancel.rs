use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::RentalCancelled;
use crate::instructions::now;
use crate::seeds;
use crate::state::{Listing, Provider, Rental, RentalState};
use crate::token::{pay_from_vault, sweep_and_close};

/// Ends a rental that was never activated, refunding the whole deposit. Used by
/// `cancel_rental` (the renter any time; anyone after the activation timeout, so no escrow
/// waits forever) and `decline_rental` (the provider).
#[derive(Accounts)]
pub struct EndUnactivated<'info> {
    pub caller: Signer<'info>,
    #[account(mut, has_one = listing, has_one = renter, has_one = mint @ EscrowError::WrongMint)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(mut)]
    pub listing: Box<Account<'info, Listing>>,
    #[account(mut, seeds = [seeds::PROVIDER, rental.provider.as_ref()], bump = provider_profile.bump)]
    pub provider_profile: Box<Account<'info, Provider>>,
    /// CHECK: receives the vault's rent lamports; bound to rental.renter by has_one.
    #[account(mut)]
    pub renter: UncheckedAccount<'info>,
    #[account(mut, seeds = [seeds::VAULT, rental.key().as_ref()], bump = rental.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = mint, token::authority = rental.renter, token::token_program = token_program)]
    pub renter_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl EndUnactivated<'_> {
    fn timed_out(&self, t: i64) -> bool {
        t >= self.rental.opened_at.saturating_add(self.rental.activation_timeout_secs as i64)
    }

    pub fn validate_cancel(&self, t: i64) -> Result<()> {
        require!(self.rental.state == RentalState::Funded, EscrowError::RentalNotFunded);
        require!(self.caller.key() == self.rental.renter || self.timed_out(t), EscrowError::CancelTooEarly);
        Ok(())
    }

    pub fn validate_decline(&self) -> Result<()> {
        require!(self.rental.state == RentalState::Funded, EscrowError::RentalNotFunded);
        require_keys_eq!(self.caller.key(), self.rental.provider, EscrowError::NotProvider);
        Ok(())
    }

    pub fn cancel(ctx: Context<Self>) -> Result<()> {
        let t = now()?;
        ctx.accounts.validate_cancel(t)?;
        let no_show = ctx.accounts.timed_out(t);
        if no_show {
            let p = &mut ctx.accounts.provider_profile;
            p.no_shows = p.no_shows.saturating_add(1);
        }
        ctx.accounts.refund_all(t, false, no_show)
    }

    pub fn decline(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.validate_decline()?;
        let t = now()?;
        ctx.accounts.refund_all(t, true, false)
    }

    fn refund_all(&mut self, t: i64, declined: bool, no_show: bool) -> Result<()> {
        let amount = self.rental.deposited;
        let rental_info = self.rental.to_account_info();
        self.rental.with_signer(|signer| {
            pay_from_vault(
                &self.token_program,
                &self.vault,
                &self.mint,
                &self.renter_token,
                rental_info.clone(),
                signer,
                amount,
            )?;
            sweep_and_close(
                &self.token_program,
                &mut self.vault,
                &self.mint,
                &self.renter_token,
                self.renter.to_account_info(),
                rental_info,
                signer,
            )
        })?;
        let r = &mut self.rental;
        r.refunded = r.refunded.checked_add(amount).ok_or(EscrowError::AmountOverflow)?;
        r.state = RentalState::Cancelled;
        r.ended_at = t;
        self.listing.active_rentals = self.listing.active_rentals.saturating_sub(1);
        emit!(RentalCancelled { rental: r.key(), by: self.caller.key(), refunded: amount, declined, no_show });
        Ok(())
    }
}
