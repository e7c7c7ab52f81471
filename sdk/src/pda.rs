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

pub fn rental(listing: &Pubkey, renter: &Pubkey, rental_id: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[seeds::RENTAL, listing.as_ref(), renter.as_ref(), &rental_id.to_le_bytes()],
        &PROGRAM_ID,
    )
    .0
}

pub fn vault(rental: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::VAULT, rental.as_ref()], &PROGRAM_ID).0
}

/// The upgradeable loader's ProgramData account, whose upgrade authority may initialise the config.
pub fn program_data() -> Pubkey {
    Pubkey::find_program_address(&[PROGRAM_ID.as_ref()], &anchor_lang::solana_program::bpf_loader_upgradeable::ID).0
}

/// Associated token account of `owner` for `mint` under `token_program`.
pub fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    anchor_spl::associated_token::get_associated_token_address_with_program_id(owner, mint, token_program)
}
