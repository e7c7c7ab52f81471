use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::RentalToppedUp;
use crate::instructions::now;
use crate::instructions::renter::rental_open::check_duration;
use crate::math;
use crate::state::{Config, Rental, RentalState};
use crate::token::{deposit_to_vault, token_amount};

/// Adds funds and extends the paid-through time. Refused once the paid time has run out,
/// so a top-up can never buy back seconds that were already unpaid, and once a Funded
/// rental's activation deadline has passed (it can then only be cancelled).
#[derive(Accounts)]
pub struct TopUp<'info> {
    pub renter: Signer<'info>,
    pub config: Box<Account<'info, Config>>,
    #[account(mut, has_one = renter @ EscrowError::NotRenter, has_one = mint @ EscrowError::WrongMint)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(mut, address = rental.vault)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = mint, token::authority = renter, token::token_program = token_program)]
    pub renter_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl TopUp<'_> {
    pub fn validate(&self, amount: u64, t: i64) -> Result<()> {
        require!(!self.config.paused, EscrowError::MarketPaused);
        require!(amount > 0, EscrowError::ZeroAmount);
        let r = &self.rental;
        match r.state {
            // Past its activation deadline a Funded rental can only be cancelled: money added
            // then would buy nothing and only wait for the refund.
            RentalState::Funded => require!(t < r.activation_deadline(), EscrowError::ActivationExpired),
            RentalState::Active => {
                require!(t < r.meter().billing_stops_at(), EscrowError::RentalExpired);
            }
            _ => return err!(EscrowError::RentalNotOpen),
        }
        let total = r.deposited.checked_add(amount).ok_or(EscrowError::AmountOverflow)?;
        check_duration(total, r.price_per_hour, 1, r.max_rental_secs)
    }

    pub fn handle(mut ctx: Context<Self>, amount: u64) -> Result<()> {
        let t = now()?;
        ctx.accounts.validate(amount, t)?;
        let a = &mut ctx.accounts;
        let before = a.vault.amount;
        let vault = a.vault.to_account_info();
        deposit_to_vault(
            &a.token_program,
            &a.renter_token,
            &a.mint,
            vault.clone(),
            a.renter.to_account_info(),
            amount,
        )?;
        // Record what the vault actually received, not what was asked for.
        let received = token_amount(&vault)?.checked_sub(before).ok_or(EscrowError::LedgerInconsistent)?;
        let r = &mut a.rental;
        r.deposited = r.deposited.checked_add(received).ok_or(EscrowError::AmountOverflow)?;
        if r.state == RentalState::Active {
            r.end_at = math::end_at(r.activated_at, r.deposited, r.price_per_hour)?;
        }
        emit!(RentalToppedUp { rental: r.key(), amount: received, deposited: r.deposited, end_at: r.end_at });
        Ok(())
    }
}
