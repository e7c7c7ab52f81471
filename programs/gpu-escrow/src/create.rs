//! Creating accounts at program addresses by hand, inside a handler. Used where an `init`
//! constraint would run too early: Anchor creates `init` accounts before any other check, so
//! a stale id or a wrong token program would surface as a system or token program error
//! instead of this program's named one, and `init … bump` searches bumps at 1,500 CU a try.
//! Here the client passes each bump; the runtime derives the address from the signer seeds
//! of the creating CPI, so a wrong bump or seed cannot create anything.
use anchor_lang::prelude::*;
use anchor_lang::system_program::{
    allocate, assign, create_account, transfer, Allocate, Assign, CreateAccount, Transfer,
};

/// Creates `target` (a PDA signed for by `seeds`, bump included) with `space` bytes owned by
/// `owner`, paid by `payer`. Addresses are predictable, so a stranger may send lamports to
/// one first; that takes the transfer/allocate/assign path (which every cluster supports)
/// instead of failing, so a 1-lamport gift can never block an open.
pub fn create_pda_account<'info>(
    payer: AccountInfo<'info>,
    target: AccountInfo<'info>,
    space: usize,
    owner: &Pubkey,
    seeds: &[&[u8]],
) -> Result<()> {
    let rent = Rent::get()?.minimum_balance(space);
    let system = anchor_lang::system_program::ID;
    let signer: &[&[&[u8]]] = &[seeds];
    let held = target.lamports();
    if held == 0 {
        let accounts = CreateAccount { from: payer, to: target };
        return create_account(CpiContext::new_with_signer(system, accounts, signer), rent, space as u64, owner);
    }
    let missing = rent.saturating_sub(held);
    if missing > 0 {
        transfer(CpiContext::new(system, Transfer { from: payer, to: target.clone() }), missing)?;
    }
    allocate(
        CpiContext::new_with_signer(system, Allocate { account_to_allocate: target.clone() }, signer),
        space as u64,
    )?;
    assign(CpiContext::new_with_signer(system, Assign { account_to_assign: target }, signer), owner)
}

/// Writes an Anchor account (discriminator and data) into a freshly created account.
pub fn write_account<T: AccountSerialize>(target: &AccountInfo, value: &T) -> Result<()> {
    let mut data = target.try_borrow_mut_data()?;
    let mut cursor: &mut [u8] = &mut data;
    value.try_serialize(&mut cursor)
}

/// Refuses `bump` when a higher bump also yields an address of this program for `seeds`:
/// the canonical bump is the highest valid one, the one `find_program_address` (so every
/// client) derives, and two clients must never disagree about an account's address. The
/// creating CPI already proves `bump` itself valid, so this costs 1,500 CU per higher bump
/// only: none for the half of addresses whose canonical bump is 255, one on average.
pub fn require_canonical_bump(seeds: &[&[u8]], bump: u8) -> Result<()> {
    for higher in (bump as u16 + 1)..=u8::MAX as u16 {
        let b = [higher as u8];
        let mut with_bump: Vec<&[u8]> = seeds.to_vec();
        with_bump.push(&b);
        if Pubkey::create_program_address(&with_bump, &crate::ID).is_ok() {
            return err!(crate::errors::EscrowError::NonCanonicalBump);
        }
    }
    Ok(())
}
