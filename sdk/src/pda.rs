//! Program-derived addresses, from the program's own seed constants.
use anchor_lang::prelude::Pubkey;
use gpu_escrow::seeds;

pub use gpu_escrow::ID as PROGRAM_ID;

pub fn config() -> Pubkey {
    Pubkey::find_program_address(&[seeds::CONFIG], &PROGRAM_ID).0
}

pub fn accepted_mint(mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::ACCEPTED_MINT, mint.as_ref()], &PROGRAM_ID).0
}

pub fn provider(authority: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::PROVIDER, authority.as_ref()], &PROGRAM_ID).0
}

pub fn listing(provider_authority: &Pubkey, listing_id: u64) -> Pubkey {
    Pubkey::find_program_address(&[seeds::LISTING, provider_authority.as_ref(), &listing_id.to_le_bytes()], &PROGRAM_ID)
        .0
}

/// Rental `rental_id` of `listing` (ids count up per listing and never repeat), with its bump.
pub fn rental_with_bump(listing: &Pubkey, rental_id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[seeds::RENTAL, listing.as_ref(), &rental_id.to_le_bytes()], &PROGRAM_ID)
}

pub fn rental(listing: &Pubkey, rental_id: u64) -> Pubkey {
    rental_with_bump(listing, rental_id).0
}

pub fn vault_with_bump(rental: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[seeds::VAULT, rental.as_ref()], &PROGRAM_ID)
}

pub fn vault(rental: &Pubkey) -> Pubkey {
    vault_with_bump(rental).0
}

/// The rental's access account: the renter's SSH key, recipient key and the sealed details.
pub fn access_with_bump(rental: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[seeds::ACCESS, rental.as_ref()], &PROGRAM_ID)
}

pub fn access(rental: &Pubkey) -> Pubkey {
    access_with_bump(rental).0
}

/// The access account of an existing rental, from the bump the rental stores.
pub fn access_from_bump(rental: &Pubkey, bump: u8) -> Option<Pubkey> {
    Pubkey::create_program_address(&[seeds::ACCESS, rental.as_ref(), &[bump]], &PROGRAM_ID).ok()
}

/// The upgradeable loader's ProgramData account, whose upgrade authority may initialise the config.
pub fn program_data() -> Pubkey {
    Pubkey::find_program_address(&[PROGRAM_ID.as_ref()], &anchor_lang::solana_program::bpf_loader_upgradeable::ID).0
}

/// Associated token account of `owner` for `mint` under `token_program`.
pub fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    anchor_spl::associated_token::get_associated_token_address_with_program_id(owner, mint, token_program)
}
