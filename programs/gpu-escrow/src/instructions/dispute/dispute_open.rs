use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::EscrowError;
use crate::events::DisputeOpened;
use crate::instructions::now;
use crate::state::{Listing, Rental, RentalState};
use crate::token::Vault;

/// Either party contests an Active rental. Accrual stops now; the not-yet-earned remainder
/// goes back to the renter at once, and only earned-but-unclaimed funds stay locked.
#[derive(Accounts)]
pub struct OpenDispute<'info> {
    pub caller: Signer<'info>,
    #[account(mut, has_one = listing, has_one = mint @ EscrowError::WrongMint)]
    pub rental: Box<Account<'info, Rental>>,
    /// Gets the rental's slot back: billing stops now, so the machine is free to rent again.
    #[account(mut)]
    pub listing: Box<Account<'info, Listing>>,
    #[account(mut, address = rental.vault)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: the refund is paid only if this is the renter's live account for the mint;
    /// otherwise it stays held in the vault for the renter (`token::can_receive`).
    #[account(mut)]
    pub renter_token: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl OpenDispute<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.rental.state == RentalState::Active, EscrowError::RentalNotActive);
        require!(self.rental.is_party(&self.caller.key()), EscrowError::NotParty);
        Ok(())
    }

    pub fn handle(ctx: Context<Self>, reason_code: u8) -> Result<()> {
        let t = now()?;
        let a = ctx.accounts;
        let meter = a.rental.meter();
        let s = meter.settle_at(t)?;
        let locked = meter.locked_at(t)?;
        let (renter, mut renter_owed) = (a.rental.renter, a.rental.renter_owed);
        let authority = a.rental.to_account_info();
        a.rental.with_signer(|signer| {
            let v = Vault {
                token_program: &a.token_program,
                vault: &a.vault,
                mint: &a.mint,
                authority,
                signer,
                caller: a.caller.key(),
            };
            v.pay_share(&a.renter_token, &renter, s.refund, &mut renter_owed)
        })?;
        let caller = a.caller.key();
        let r = &mut a.rental;
        r.refunded = r.refunded.checked_add(s.refund).ok_or(EscrowError::AmountOverflow)?;
        r.renter_owed = renter_owed;
        r.state = RentalState::Disputed;
        r.billed_seconds = s.billable_seconds;
        r.dispute_opened_by = caller;
        r.dispute_reason = reason_code;
        r.dispute_opened_at = t;
        r.dispute_locked = locked;
        let l = &mut a.listing;
        l.active_rentals = l.active_rentals.saturating_sub(1);
        l.disputed_rentals = l.disputed_rentals.saturating_add(1);
        emit!(DisputeOpened {
            rental: r.key(),
            by: caller,
            reason_code,
            locked,
            refund_amount: s.refund,
            renter_owed,
            at: t,
        });
        Ok(())
    }
}
