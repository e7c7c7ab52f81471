use anchor_lang::prelude::*;

/// Exists while the admin accepts `mint` for new listings and rentals.
#[account]
#[derive(InitSpace, Debug)]
pub struct AcceptedMint {
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub decimals: u8,
    pub bump: u8,
    /// What a rental must have billed (gross, base units) before its renter may rate it, so
    /// a rating costs a real amount in this token, not just a transaction fee.
    pub min_rated_gross: u64,
}

impl AcceptedMint {
    /// The live entry accepting `mint`, if `info` is one. An AcceptedMint is only ever
    /// created by `add_mint` at the PDA of the mint it stores, so a program-owned account of
    /// this type storing `mint` is that PDA. A removed mint leaves no such account, which the
    /// callers report as `MintNotAccepted` rather than a generic account-loading error.
    pub fn load(info: &AccountInfo, mint: &Pubkey) -> Option<AcceptedMint> {
        if info.owner != &crate::ID {
            return None;
        }
        let data = info.try_borrow_data().ok()?;
        let mut bytes: &[u8] = &data;
        AcceptedMint::try_deserialize(&mut bytes).ok().filter(|a| a.mint == *mint)
    }
}
