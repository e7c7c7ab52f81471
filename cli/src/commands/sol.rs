//! Paying in SOL. A listing priced in wrapped SOL takes the renter's plain SOL: the missing
//! amount is wrapped in the same transaction as the deposit. Payouts come back as SOL: the
//! payee's wrapped-SOL account is closed in the same transaction as the payout (everything
//! in it returns to the wallet as SOL), unless `--keep-wsol` is given.
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::client::{ListingFilter, Party};
use gpu_escrow_sdk::ix::{self, RentalKeys, NATIVE_MINT};
use gpu_escrow_sdk::{pda, Instruction, Pubkey};

use super::rent_exempt;
use crate::amount;
use crate::context::Context;
use crate::error::CliError;

/// SPL Token, the program of the wrapped-SOL mint.
const TOKEN_PROGRAM: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
/// A token account's size.
const TOKEN_ACCOUNT_LEN: usize = 165;

fn sol(lamports: u64) -> String {
    format!("{} SOL", amount::format(lamports, 9))
}

pub fn wsol_account(owner: &Pubkey) -> Pubkey {
    pda::ata(owner, &NATIVE_MINT, &TOKEN_PROGRAM)
}

/// How a payment of wrapped SOL is funded from the wallet.
pub struct Wrap {
    /// Instructions to run before the payment, in the same transaction (empty if the wallet's
    /// wrapped SOL already covers it).
    pub ixs: Vec<Instruction>,
    /// Lamports of SOL wrapped for the payment.
    pub wrapped: u64,
}

/// The associated-token-account program.
const ATA_PROGRAM: Pubkey = Pubkey::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// Removes and returns the wrapped-SOL account's creation from a wrap's instructions, for
/// sending it on its own when a transaction would otherwise be too large.
pub fn take_account_creation(ixs: &mut Vec<Instruction>) -> Option<Instruction> {
    let at = ixs.iter().position(|i| i.program_id == ATA_PROGRAM)?;
    Some(ixs.remove(at))
}

/// Plans paying `need` lamports of wrapped SOL from `owner`'s wrapped SOL and, for the rest,
/// its SOL. `other_lamports` is what the same command also needs in SOL (account deposits).
/// Refuses, naming both balances, when wrapped SOL plus SOL minus deposits and fees falls
/// short.
pub async fn plan_wrap(
    ctx: &Context,
    owner: &Pubkey,
    need: u64,
    other_lamports: u64,
    what: &str,
) -> Result<Wrap, CliError> {
    let account = wsol_account(owner);
    let found = ctx.client.accounts(&[*owner, account]).await?;
    let have_sol = found[0].as_ref().map_or(0, |a| a.lamports);
    let wrapped_balance = found[1]
        .as_ref()
        .and_then(|a| a.data.get(64..72))
        .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    let shortfall = need.saturating_sub(wrapped_balance);
    let account_rent = if found[1].is_some() { 0 } else { rent_exempt(ctx, TOKEN_ACCOUNT_LEN).await? };
    let overhead = other_lamports + account_rent + ctx.fee_allowance();
    let required = shortfall + overhead;
    if have_sol < required {
        let wrapped_note =
            if wrapped_balance > 0 { format!(" and {} wrapped", sol(wrapped_balance)) } else { String::new() };
        return Err(CliError::Refused(format!(
            "not enough SOL: wallet {owner} has {}{wrapped_note}; {what} needs {} plus {} for account deposits and network fees (missing {})",
            sol(have_sol),
            sol(need),
            sol(overhead),
            sol(required - have_sol)
        )));
    }
    let ixs = if shortfall > 0 { ix::wrap_sol(owner, shortfall) } else { Vec::new() };
    Ok(Wrap { ixs, wrapped: shortfall })
}

/// What follows a payout to `me` in a wrapped-SOL rental, in the same transaction: close
/// `me`'s wrapped-SOL account so the payout arrives as SOL, then open it again (empty) when
/// a payout from someone else's transaction may still land in it; without an account such a
/// payout would wait in the vault until withdrawn. Empty for other tokens or `--keep-wsol`.
/// The caller makes sure the account exists when the transaction runs.
pub async fn unwrap_after(
    ctx: &Context,
    me: &Pubkey,
    k: &RentalKeys,
    stays_open: bool,
) -> Result<Vec<Instruction>, CliError> {
    if k.mint != NATIVE_MINT || ctx.keep_wsol {
        return Ok(Vec::new());
    }
    let mut ixs = vec![ix::unwrap_sol(me)];
    if stays_open || still_paid_into(ctx, me, &k.rental).await? {
        ixs.push(ix::create_ata_idempotent(me, me, &NATIVE_MINT, &TOKEN_PROGRAM));
    }
    Ok(ixs)
}

/// Whether others' transactions may still pay `me` in wrapped SOL: `me` is the treasury, or
/// has a wrapped-SOL listing, or an open wrapped-SOL rental other than `current`.
async fn still_paid_into(ctx: &Context, me: &Pubkey, current: &Pubkey) -> Result<bool, CliError> {
    if ctx.client.config().await?.treasury == *me {
        return Ok(true);
    }
    for party in [Party::Renter, Party::Provider] {
        let open = ctx.client.rentals_of(party, me).await?.into_iter().any(|(key, r)| {
            key != *current
                && r.mint == NATIVE_MINT
                && matches!(r.state, RentalState::Funded | RentalState::Active | RentalState::Disputed)
        });
        if open {
            return Ok(true);
        }
    }
    let filter =
        ListingFilter { mint: Some(NATIVE_MINT), provider: Some(*me), include_paused: true, ..Default::default() };
    Ok(!ctx.client.listings(&filter).await?.is_empty())
}

/// The human line saying a payout came back as SOL ("" when nothing was unwrapped).
pub fn unwrap_note(ixs: &[Instruction]) -> &'static str {
    match ixs.len() {
        0 => "",
        1 => "\nas SOL:    your wrapped SOL came back to your wallet as SOL (--keep-wsol keeps it wrapped)",
        _ => "\nas SOL:    your wrapped SOL came back to your wallet as SOL; the empty wrapped-SOL account stays open for your other SOL rentals",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_creation_can_be_split_off_a_wrap() {
        let owner = Pubkey::new_unique();
        let mut ixs = ix::wrap_sol(&owner, 5);
        let create = take_account_creation(&mut ixs).expect("wrap_sol creates the account");
        assert_eq!(create, ix::create_ata_idempotent(&owner, &owner, &NATIVE_MINT, &TOKEN_PROGRAM));
        assert_eq!(ixs.len(), 2, "the transfer and sync_native stay with the payment");
        assert!(take_account_creation(&mut ixs).is_none());
    }
}
