//! Every client agrees on a rental's addresses (hardening round 2, point 4): `open_rental`
//! accepts only the canonical bump of the rental, its access account and its vault, the
//! bump `find_program_address` gives, so no opener can put a rental where clients do not look.
use anchor_lang::solana_program::instruction::Instruction;
use gpu_escrow::seeds;
use gpu_escrow_sdk::{ix, pda, Pubkey};
use gpu_escrow_tests::svm::Market;

/// The highest valid bump below `canonical` for `seeds` (one exists with overwhelming odds).
fn lower_bump(seeds: &[&[u8]], canonical: u8) -> (Pubkey, u8) {
    (0..canonical)
        .rev()
        .find_map(|b| {
            let mut with: Vec<&[u8]> = seeds.to_vec();
            let bump = [b];
            with.push(&bump);
            Pubkey::create_program_address(&with, &pda::PROGRAM_ID).ok().map(|a| (a, b))
        })
        .expect("a lower valid bump")
}

/// `open` with the account at `from` replaced by `to`.
fn swap(mut open: Instruction, from: Pubkey, to: Pubkey) -> Instruction {
    open.accounts.iter_mut().filter(|a| a.pubkey == from).for_each(|a| a.pubkey = to);
    open
}

/// Replaces the three bump bytes at the end of open_rental's data with `bumps`.
fn with_bumps(mut open: Instruction, bumps: [u8; 3]) -> Instruction {
    let n = open.data.len();
    open.data[n - 3..].copy_from_slice(&bumps);
    open
}

#[test]
fn open_refuses_a_non_canonical_bump_for_each_account_it_creates() {
    let mut m = Market::new();
    let req = m.open_request(600_000);
    let id = req.rental_id.to_le_bytes();
    let (rental, rental_bump) = pda::rental_with_bump(&m.listing, req.rental_id);
    let (access, access_bump) = pda::access_with_bump(&rental);
    let (vault, vault_bump) = pda::vault_with_bump(&rental);
    let canonical = ix::open_rental(&req);
    let n = canonical.data.len();
    assert_eq!(canonical.data[n - 3..], [rental_bump, access_bump, vault_bump], "bumps end the data");
    let renter = m.renter.insecure_clone();

    // The rental at a lower bump: a real address of this program, but not the one clients derive.
    let (other_rental, low) = lower_bump(&[seeds::RENTAL, m.listing.as_ref(), &id], rental_bump);
    let (other_access, access_low) = pda::access_with_bump(&other_rental);
    let (other_vault, vault_low) = pda::vault_with_bump(&other_rental);
    let open = with_bumps(canonical.clone(), [low, access_low, vault_low]);
    let open = swap(swap(swap(open, rental, other_rental), access, other_access), vault, other_vault);
    assert_eq!(m.env.send1(open, &renter).unwrap_err().name, "NonCanonicalBump");

    // The access account and the vault likewise.
    let (low_access, low) = lower_bump(&[seeds::ACCESS, rental.as_ref()], access_bump);
    let open = swap(with_bumps(canonical.clone(), [rental_bump, low, vault_bump]), access, low_access);
    assert_eq!(m.env.send1(open, &renter).unwrap_err().name, "NonCanonicalBump");
    let (low_vault, low) = lower_bump(&[seeds::VAULT, rental.as_ref()], vault_bump);
    let open = swap(with_bumps(canonical.clone(), [rental_bump, access_bump, low]), vault, low_vault);
    assert_eq!(m.env.send1(open, &renter).unwrap_err().name, "NonCanonicalBump");

    // Nothing was created; the canonical open works and lands where every client looks.
    assert!(!m.env.exists(&other_rental));
    m.env.send1(canonical, &renter).unwrap();
    let r = m.rental(&m.keys(req.rental_id));
    assert_eq!((r.bump, r.access_bump, r.vault), (rental_bump, access_bump, vault));
}
