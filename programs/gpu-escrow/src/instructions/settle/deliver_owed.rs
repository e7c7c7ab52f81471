use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::OwedDelivered;
use crate::state::{Config, Rental};
use crate::token::Vault;

/// Anyone delivers what a rental's vault holds for its payees to their associated token
/// accounts, once those can receive (an issuer unfroze one, a payee recreated a closed one).
/// So held money never waits on its payee's own action, and the vault closes (rent to the
/// renter) once the rental is over and nothing is held. A payee whose account still cannot
/// receive keeps its share held; it can also withdraw it anywhere it likes (`withdraw_owed`).
#[derive(Accounts)]
pub struct DeliverOwed<'info> {
    pub caller: Signer<'info>,
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
    /// CHECK: the renter's associated token account (any of its own if the renter calls);
    /// checked only when something is held for the renter (`Vault::pay_or_hold`).
    #[account(mut)]
    pub renter_token: UncheckedAccount<'info>,
    /// CHECK: as above, for the provider.
    #[account(mut)]
    pub provider_token: UncheckedAccount<'info>,
    /// CHECK: as above, for the config's treasury.
    #[account(mut)]
    pub treasury_token: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl DeliverOwed<'_> {
    /// Tokens others sent to the vault after the rental ended; they belong to the renter.
    fn surplus(&self) -> Result<u64> {
        if !self.rental.is_ended() {
            return Ok(0);
        }
        let owed = self.rental.owed_total().ok_or(EscrowError::AmountOverflow)?;
        Ok(self.vault.amount.checked_sub(owed).ok_or(EscrowError::LedgerInconsistent)?)
    }

    pub fn validate(&self) -> Result<()> {
        let owed = self.rental.owed_total().ok_or(EscrowError::AmountOverflow)?;
        require!(owed > 0 || self.surplus()? > 0, EscrowError::NothingOwed);
        Ok(())
    }

    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let a = ctx.accounts;
        let surplus = a.surplus()?;
        let r = &a.rental;
        let (renter, provider, treasury) = (r.renter, r.provider, a.config.treasury);
        let (mut provider_owed, mut fee_owed, mut renter_owed) = (r.provider_owed, r.fee_owed, r.renter_owed);
        let (provider_before, fee_before, renter_before) = (provider_owed, fee_owed, renter_owed + surplus);
        let ended = r.is_ended();
        let authority = r.to_account_info();
        let renter_info = a.renter.to_account_info();
        let caller = a.caller.key();
        let mut closed = false;
        a.rental.with_signer(|signer| -> Result<()> {
            let v =
                Vault { token_program: &a.token_program, vault: &a.vault, mint: &a.mint, authority, signer, caller };
            v.pay_share(&a.provider_token, &provider, 0, &mut provider_owed)?;
            v.pay_share(&a.treasury_token, &treasury, 0, &mut fee_owed)?;
            v.pay_share(&a.renter_token, &renter, surplus, &mut renter_owed)?;
            if ended && provider_owed == 0 && fee_owed == 0 && renter_owed == 0 {
                v.close(renter_info)?;
                closed = true;
            }
            Ok(())
        })?;
        let (provider_amount, fee_amount, renter_amount) =
            (provider_before - provider_owed, fee_before - fee_owed, renter_before - renter_owed);
        // A crank that moves nothing should learn so, not pay for a no-op.
        require!(provider_amount + fee_amount + renter_amount > 0, EscrowError::NothingDelivered);
        let r = &mut a.rental;
        (r.provider_owed, r.fee_owed, r.renter_owed) = (provider_owed, fee_owed, renter_owed);
        r.swept = r.swept.checked_add(surplus).ok_or(EscrowError::AmountOverflow)?;
        emit!(OwedDelivered {
            rental: r.key(),
            by: caller,
            provider_amount,
            fee_amount,
            renter_amount,
            surplus,
            provider_owed,
            fee_owed,
            renter_owed,
            vault_closed: closed,
        });
        Ok(())
    }
}
