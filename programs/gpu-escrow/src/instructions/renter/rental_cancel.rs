use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::RentalCancelled;
use crate::instructions::now;
use crate::state::{Listing, Provider, Rental, RentalState};
use crate::token::Vault;

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
    #[account(mut, constraint = provider_profile.authority == rental.provider @ EscrowError::WrongProviderProfile)]
    pub provider_profile: Box<Account<'info, Provider>>,
    /// CHECK: receives the vault's rent lamports; bound to rental.renter by has_one.
    #[account(mut)]
    pub renter: UncheckedAccount<'info>,
    #[account(mut, address = rental.vault)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: refunded only if this is the renter's live account for the mint; otherwise the
    /// refund stays held in the vault for the renter (`token::can_receive`).
    #[account(mut)]
    pub renter_token: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl EndUnactivated<'_> {
    fn timed_out(&self, t: i64) -> bool {
        t >= self.rental.activation_deadline()
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

    /// Declining is always allowed (the renter is refunded at once), but a decline after the
    /// activation deadline is still a no-show: the provider let the renter wait it out.
    pub fn decline(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.validate_decline()?;
        let t = now()?;
        let no_show = ctx.accounts.timed_out(t);
        if no_show {
            let p = &mut ctx.accounts.provider_profile;
            p.no_shows = p.no_shows.saturating_add(1);
        }
        ctx.accounts.refund_all(t, true, no_show)
    }

    /// Refunds the whole deposit (and anything others sent to the vault) to the renter, or
    /// holds it for the renter if its account cannot receive; closes the vault when empty.
    fn refund_all(&mut self, t: i64, declined: bool, no_show: bool) -> Result<()> {
        let amount = self.rental.deposited;
        let renter = self.rental.renter;
        let held = self.vault.amount;
        let swept = held.checked_sub(amount).ok_or(EscrowError::LedgerInconsistent)?;
        let mut renter_owed = 0;
        let authority = self.rental.to_account_info();
        let renter_info = self.renter.to_account_info();
        self.rental.with_signer(|signer| -> Result<()> {
            let v = Vault {
                token_program: &self.token_program,
                vault: &self.vault,
                mint: &self.mint,
                authority,
                signer,
                caller: self.caller.key(),
            };
            v.pay_share(&self.renter_token, &renter, held, &mut renter_owed)?;
            if renter_owed == 0 {
                v.close(renter_info)?;
            }
            Ok(())
        })?;
        let r = &mut self.rental;
        r.refunded = r.refunded.checked_add(amount).ok_or(EscrowError::AmountOverflow)?;
        r.renter_owed = renter_owed;
        r.swept = r.swept.checked_add(swept).ok_or(EscrowError::AmountOverflow)?;
        r.state = RentalState::Cancelled;
        r.ended_at = t;
        self.listing.active_rentals = self.listing.active_rentals.saturating_sub(1);
        emit!(RentalCancelled {
            rental: r.key(),
            by: self.caller.key(),
            refunded: amount,
            declined,
            no_show,
            swept,
            renter_owed,
        });
        Ok(())
    }
}
