use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::Withdrawn;
use crate::state::{Config, Rental};
use crate::token::{can_receive, Vault};

/// A payee whose token account could not receive when it was paid (frozen, closed, memo
/// required) takes out what the vault holds for it, into an account of its choice that can
/// receive. The renter, the provider and the config's treasury each withdraw their own
/// share; the vault closes (rent to the renter) once the rental is over and nothing is held.
#[derive(Accounts)]
pub struct WithdrawOwed<'info> {
    pub payee: Signer<'info>,
    pub config: Account<'info, Config>,
    #[account(mut, has_one = renter, has_one = mint @ EscrowError::WrongMint)]
    pub rental: Box<Account<'info, Rental>>,
    /// CHECK: receives the vault's rent lamports when it closes; bound to rental.renter by has_one.
    #[account(mut)]
    pub renter: UncheckedAccount<'info>,
    #[account(mut, address = rental.vault)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: must be the payee's own live account for the mint (checked in `validate`).
    #[account(mut)]
    pub destination: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl WithdrawOwed<'_> {
    /// What is held for the signer, over every role it has in this rental.
    fn owed_to_payee(&self) -> u64 {
        self.rental.owed_to(&self.payee.key(), &self.config.treasury)
    }

    pub fn validate(&self) -> Result<()> {
        require!(self.owed_to_payee() > 0, EscrowError::NothingOwed);
        let can = can_receive(&self.destination, &self.mint.key(), &self.payee.key(), &self.token_program.key());
        require!(can, EscrowError::PayeeCannotReceive);
        Ok(())
    }

    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let a = ctx.accounts;
        let amount = a.owed_to_payee();
        let who = a.payee.key();
        let r = &mut a.rental;
        if who == r.renter {
            r.renter_owed = 0;
        }
        if who == r.provider {
            r.provider_owed = 0;
        }
        if who == a.config.treasury {
            r.fee_owed = 0;
        }
        let ended = r.is_ended();
        let still_owed = r.owed_total().ok_or(EscrowError::AmountOverflow)?;
        // Once the rental is over, whatever else the vault holds was sent by others and
        // belongs to the renter: paid out with the renter's own withdrawal, else held for it.
        let rest = a.vault.amount.checked_sub(amount).ok_or(EscrowError::LedgerInconsistent)?;
        let surplus = if ended { rest.checked_sub(still_owed).ok_or(EscrowError::LedgerInconsistent)? } else { 0 };
        let (pay, close) = match (ended, who == r.renter) {
            (true, true) => {
                r.swept = r.swept.checked_add(surplus).ok_or(EscrowError::AmountOverflow)?;
                (amount + surplus, still_owed == 0)
            }
            (true, false) => {
                r.renter_owed = r.renter_owed.checked_add(surplus).ok_or(EscrowError::AmountOverflow)?;
                r.swept = r.swept.checked_add(surplus).ok_or(EscrowError::AmountOverflow)?;
                (amount, still_owed == 0 && surplus == 0)
            }
            (false, _) => (amount, false),
        };
        let authority = r.to_account_info();
        let renter_info = a.renter.to_account_info();
        a.rental.with_signer(|signer| -> Result<()> {
            let v = Vault {
                token_program: &a.token_program,
                vault: &a.vault,
                mint: &a.mint,
                authority,
                signer,
                caller: a.payee.key(),
            };
            v.pay(&a.destination, pay)?;
            if close {
                v.close(renter_info)?;
            }
            Ok(())
        })?;
        let r = &a.rental;
        emit!(Withdrawn {
            rental: r.key(),
            payee: who,
            to: a.destination.key(),
            amount: pay,
            surplus,
            provider_owed: r.provider_owed,
            fee_owed: r.fee_owed,
            renter_owed: r.renter_owed,
            vault_closed: close,
        });
        Ok(())
    }
}
