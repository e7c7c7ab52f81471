use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::{RentalSettled, SettleReason};
use crate::math::Settlement;
use crate::seeds;
use crate::state::{Config, Listing, Provider, Rental, RentalState};
use crate::token::{pay_from_vault, sweep_and_close};

/// Everything a final payout touches: the three payees, the vault, and the counters on the
/// listing and provider. Shared by stop, finalize and both dispute resolutions.
#[derive(Accounts)]
pub struct Settle<'info> {
    pub caller: Signer<'info>,
    #[account(seeds = [seeds::CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
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
    #[account(mut, token::mint = mint, token::authority = rental.provider, token::token_program = token_program)]
    pub provider_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// `dup`: the treasury may be the renter's or provider's own wallet; settlement must still work.
    #[account(mut, dup, token::mint = mint, token::authority = config.treasury, token::token_program = token_program)]
    pub treasury_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Settle<'_> {
    /// Pays the provider and fee deltas and the renter's refund, closes the vault, marks the
    /// rental Settled at `ended_at` and releases the listing slot, all in one instruction.
    pub fn payout_and_close(&mut self, s: Settlement, ended_at: i64, reason: SettleReason) -> Result<()> {
        let rental_info = self.rental.to_account_info();
        self.rental.with_signer(|signer| {
            pay_from_vault(
                &self.token_program,
                &self.vault,
                &self.mint,
                &self.provider_token,
                rental_info.clone(),
                signer,
                s.provider_delta,
            )?;
            pay_from_vault(
                &self.token_program,
                &self.vault,
                &self.mint,
                &self.treasury_token,
                rental_info.clone(),
                signer,
                s.fee_delta,
            )?;
            pay_from_vault(
                &self.token_program,
                &self.vault,
                &self.mint,
                &self.renter_token,
                rental_info.clone(),
                signer,
                s.refund,
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
        r.provider_paid = r.provider_paid.checked_add(s.provider_delta).ok_or(EscrowError::AmountOverflow)?;
        r.fee_paid = r.fee_paid.checked_add(s.fee_delta).ok_or(EscrowError::AmountOverflow)?;
        r.refunded = r.refunded.checked_add(s.refund).ok_or(EscrowError::AmountOverflow)?;
        r.state = RentalState::Settled;
        r.ended_at = ended_at;
        r.billed_seconds = s.billable_seconds;
        require!(
            r.provider_paid as u128 + r.fee_paid as u128 + r.refunded as u128 == r.deposited as u128,
            EscrowError::LedgerInconsistent
        );

        self.listing.active_rentals = self.listing.active_rentals.saturating_sub(1);
        let p = &mut self.provider_profile;
        p.rentals_completed = p.rentals_completed.saturating_add(1);
        p.seconds_billed = p.seconds_billed.saturating_add(s.billable_seconds);

        emit!(RentalSettled {
            rental: r.key(),
            reason,
            billed_seconds: s.billable_seconds,
            provider_amount: s.provider_delta,
            fee_amount: s.fee_delta,
            refund_amount: s.refund,
            provider_paid: r.provider_paid,
            fee_paid: r.fee_paid,
            refunded: r.refunded,
            ended_at,
        });
        Ok(())
    }
}
