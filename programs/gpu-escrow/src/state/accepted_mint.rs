use anchor_lang::prelude::*;

/// Exists while the admin accepts `mint` for new listings and rentals.
#[account]
#[derive(InitSpace, Debug)]
pub struct AcceptedMint {
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub decimals: u8,
    pub bump: u8,
}
