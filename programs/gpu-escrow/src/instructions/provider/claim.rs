use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::Claimed;
use crate::instructions::now;
use crate::seeds;
use crate::state::{Config, Rental, RentalState};
use crate::token::pay_from_vault;

/// Pays the provider what is earned to date, less what was already paid, and the matching
/// fee to the treasury, in one instruction. Only while Active: a dispute freezes claims.
#[derive(Accounts)]
pub struct Claim<'info> {
    pub provider: Signer<'info>,
    #[account(seeds = [seeds::CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, has_one = provider @ EscrowError::NotProvider, has_one = mint @ EscrowError::WrongMint)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(mut, seeds = [seeds::VAULT, rental.key().as_ref()], bump = rental.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = mint, token::authority = provider, token::token_program = token_program)]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, dup, token::mint = mint, token::authority = config.treasury, token::token_program = token_program)]
    pub treasury_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Claim<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.rental.state == RentalState::Active, EscrowError::RentalNotActive);
        Ok(())
    }

    pub fn handle(mut ctx: Context<Self>) -> Result<()> {
        let t = now()?;
        let a = &mut ctx.accounts;
        let due = a.rental.meter().claim_at(t)?;
        require!(due.provider_delta > 0 || due.fee_delta > 0, EscrowError::NothingToClaim);
        let rental_info = a.rental.to_account_info();
        a.rental.with_signer(|signer| {
            pay_from_vault(
                &a.token_program,
                &a.vault,
                &a.mint,
                &a.provider_token,
                rental_info.clone(),
                signer,
                due.provider_delta,
            )?;
            pay_from_vault(&a.token_program, &a.vault, &a.mint, &a.treasury_token, rental_info, signer, due.fee_delta)
        })?;
        let r = &mut a.rental;
        r.provider_paid = r.provider_paid.checked_add(due.provider_delta).ok_or(EscrowError::AmountOverflow)?;
        r.fee_paid = r.fee_paid.checked_add(due.fee_delta).ok_or(EscrowError::AmountOverflow)?;
        emit!(Claimed {
            rental: r.key(),
            provider_amount: due.provider_delta,
            fee_amount: due.fee_delta,
            provider_paid: r.provider_paid,
            fee_paid: r.fee_paid,
            at: t,
        });
        Ok(())
    }
}
