use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::Claimed;
use crate::instructions::now;
use crate::state::{Config, Rental, RentalState};
use crate::token::Vault;

/// Pays the provider what is earned to date, less what was already paid, and the matching
/// fee to the treasury, in one instruction. Only while Active: a dispute freezes claims.
#[derive(Accounts)]
pub struct Claim<'info> {
    pub provider: Signer<'info>,
    pub config: Box<Account<'info, Config>>,
    #[account(mut, has_one = provider @ EscrowError::NotProvider, has_one = mint @ EscrowError::WrongMint)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(mut, address = rental.vault)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: paid only if it is the provider's live account for this mint (`token::can_receive`);
    /// otherwise the share stays held in the vault for the provider.
    #[account(mut)]
    pub provider_token: UncheckedAccount<'info>,
    /// CHECK: as above, for the treasury wallet of the config; a blocked treasury never blocks the provider.
    #[account(mut)]
    pub treasury_token: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Claim<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.rental.state == RentalState::Active, EscrowError::RentalNotActive);
        Ok(())
    }

    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let t = now()?;
        let a = ctx.accounts;
        let due = a.rental.meter().claim_at(t)?;
        require!(due.provider_delta > 0 || due.fee_delta > 0, EscrowError::NothingToClaim);
        let (mut provider_owed, mut fee_owed) = (a.rental.provider_owed, a.rental.fee_owed);
        let (provider, treasury) = (a.rental.provider, a.config.treasury);
        let authority = a.rental.to_account_info();
        a.rental.with_signer(|signer| {
            let v = Vault {
                token_program: &a.token_program,
                vault: &a.vault,
                mint: &a.mint,
                authority,
                signer,
                caller: a.provider.key(),
            };
            v.pay_share(&a.provider_token, &provider, due.provider_delta, &mut provider_owed)?;
            v.pay_share(&a.treasury_token, &treasury, due.fee_delta, &mut fee_owed)
        })?;
        let r = &mut a.rental;
        r.provider_paid = r.provider_paid.checked_add(due.provider_delta).ok_or(EscrowError::AmountOverflow)?;
        r.fee_paid = r.fee_paid.checked_add(due.fee_delta).ok_or(EscrowError::AmountOverflow)?;
        r.provider_owed = provider_owed;
        r.fee_owed = fee_owed;
        emit!(Claimed {
            rental: r.key(),
            provider_amount: due.provider_delta,
            fee_amount: due.fee_delta,
            provider_paid: r.provider_paid,
            fee_paid: r.fee_paid,
            provider_owed,
            fee_owed,
            at: t,
        });
        Ok(())
    }
}
