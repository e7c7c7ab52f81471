use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::{RentalSettled, SettleReason};
use crate::math::Settlement;
use crate::state::{Config, Listing, Provider, Rental, RentalState};
use crate::token::Vault;

/// Everything a final payout touches: the three payees, the vault, and the counters on the
/// listing and provider. Shared by stop, finalize and both dispute resolutions.
///
/// Payee token accounts are not required to be able to receive: whatever state one party's
/// account is in (frozen by the issuer, closed, requiring memos), the other parties are paid
/// in this same instruction and that party's share stays in the vault until it is delivered
/// (`deliver_owed`, by anyone) or withdrawn (`withdraw_owed`). Each account must be its
/// payee's associated token account unless the payee is the caller (`Vault::pay_or_hold`),
/// so whoever settles cannot park another party's share by passing a wrong account.
#[derive(Accounts)]
pub struct Settle<'info> {
    pub caller: Signer<'info>,
    pub config: Account<'info, Config>,
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
    /// CHECK: the renter's associated token account (any of its own if it is the caller);
    /// paid only if it can receive (`token::can_receive`), else the share is held.
    #[account(mut)]
    pub renter_token: UncheckedAccount<'info>,
    /// CHECK: as above, for the provider.
    #[account(mut)]
    pub provider_token: UncheckedAccount<'info>,
    /// CHECK: as above, for the config's treasury (it may be the same account as a party's,
    /// when the treasury is a party's wallet).
    #[account(mut)]
    pub treasury_token: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl Settle<'_> {
    /// Pays the provider and fee deltas and the renter's refund (plus anything sent to the
    /// vault by others), each to its payee or held for it, closes the vault once nothing is
    /// held, marks the rental Settled at `ended_at` and releases the listing slot. `creditable`
    /// is false for a dispute decided against the provider: its seconds are not a service the
    /// provider's record may claim, whatever the earlier claims came to.
    pub fn payout_and_close(
        &mut self,
        s: Settlement,
        ended_at: i64,
        reason: SettleReason,
        creditable: bool,
    ) -> Result<()> {
        let r = &self.rental;
        let was_disputed = r.state == RentalState::Disputed;
        let (renter, provider, treasury) = (r.renter, r.provider, self.config.treasury);
        let (mut provider_owed, mut fee_owed, mut renter_owed) = (r.provider_owed, r.fee_owed, r.renter_owed);
        // The vault holds what is not yet allotted plus what is held for payees; anything
        // beyond that was sent by someone else and belongs to the renter.
        let unallotted = r
            .deposited
            .checked_sub(r.provider_paid)
            .and_then(|v| v.checked_sub(r.fee_paid))
            .and_then(|v| v.checked_sub(r.refunded))
            .ok_or(EscrowError::LedgerInconsistent)?;
        let accounted = r.owed_total().and_then(|o| o.checked_add(unallotted)).ok_or(EscrowError::AmountOverflow)?;
        let swept = self.vault.amount.checked_sub(accounted).ok_or(EscrowError::LedgerInconsistent)?;
        let to_renter = s.refund.checked_add(swept).ok_or(EscrowError::AmountOverflow)?;

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
            v.pay_share(&self.provider_token, &provider, s.provider_delta, &mut provider_owed)?;
            v.pay_share(&self.treasury_token, &treasury, s.fee_delta, &mut fee_owed)?;
            v.pay_share(&self.renter_token, &renter, to_renter, &mut renter_owed)?;
            if provider_owed == 0 && fee_owed == 0 && renter_owed == 0 {
                v.close(renter_info)?;
            }
            Ok(())
        })?;

        let r = &mut self.rental;
        r.provider_paid = r.provider_paid.checked_add(s.provider_delta).ok_or(EscrowError::AmountOverflow)?;
        r.fee_paid = r.fee_paid.checked_add(s.fee_delta).ok_or(EscrowError::AmountOverflow)?;
        r.refunded = r.refunded.checked_add(s.refund).ok_or(EscrowError::AmountOverflow)?;
        (r.provider_owed, r.fee_owed, r.renter_owed) = (provider_owed, fee_owed, renter_owed);
        r.swept = r.swept.checked_add(swept).ok_or(EscrowError::AmountOverflow)?;
        r.state = RentalState::Settled;
        r.ended_at = ended_at;
        r.billed_seconds = s.billable_seconds;
        require!(
            r.provider_paid as u128 + r.fee_paid as u128 + r.refunded as u128 == r.deposited as u128,
            EscrowError::LedgerInconsistent
        );

        // A disputed rental gave its slot back when the dispute opened.
        let l = &mut self.listing;
        if was_disputed {
            l.disputed_rentals = l.disputed_rentals.saturating_sub(1);
        } else {
            l.active_rentals = l.active_rentals.saturating_sub(1);
        }
        if creditable {
            self.provider_profile.credit(r);
        }

        emit!(RentalSettled {
            rental: r.key(),
            renter,
            provider,
            mint: r.mint,
            reason,
            billed_seconds: s.billable_seconds,
            provider_amount: s.provider_delta,
            fee_amount: s.fee_delta,
            refund_amount: s.refund,
            provider_paid: r.provider_paid,
            fee_paid: r.fee_paid,
            refunded: r.refunded,
            swept,
            provider_owed,
            fee_owed,
            renter_owed,
            ended_at,
        });
        Ok(())
    }
}
