use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::MarketPauseSet;
use crate::state::Config;

/// Pause blocks only new listings, new rentals and top-ups. Nothing that releases money
/// (claim, stop, cancel, finalize, dispute, resolve, close) ever checks it.
#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ EscrowError::NotAdmin)]
    pub config: Account<'info, Config>,
}

impl SetPaused<'_> {
    pub fn handle(ctx: Context<Self>, paused: bool) -> Result<()> {
        ctx.accounts.config.paused = paused;
        emit!(MarketPauseSet { paused });
        Ok(())
    }
}
