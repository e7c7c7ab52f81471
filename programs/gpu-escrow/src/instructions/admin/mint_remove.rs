use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::MintRemoved;
use crate::state::{AcceptedMint, Config};

/// Stops new listings and rentals in this mint; running rentals are unaffected.
#[derive(Accounts)]
pub struct RemoveMint<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(has_one = admin @ EscrowError::NotAdmin)]
    pub config: Account<'info, Config>,
    #[account(mut, close = admin)]
    pub accepted_mint: Account<'info, AcceptedMint>,
}

impl RemoveMint<'_> {
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        emit!(MintRemoved { mint: ctx.accounts.accepted_mint.mint });
        Ok(())
    }
}
