use anchor_lang::prelude::*;

use crate::events::ProviderRegistered;
use crate::instructions::now;
use crate::seeds;
use crate::state::Provider;

#[derive(Accounts)]
pub struct RegisterProvider<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(init, payer = authority, space = 8 + Provider::INIT_SPACE,
        seeds = [seeds::PROVIDER, authority.key().as_ref()], bump)]
    pub provider: Account<'info, Provider>,
    pub system_program: Program<'info, System>,
}

impl RegisterProvider<'_> {
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.provider.set_inner(Provider {
            authority: ctx.accounts.authority.key(),
            registered_at: now()?,
            listings_created: 0,
            rentals_completed: 0,
            seconds_billed: 0,
            no_shows: 0,
            disputes_lost: 0,
            rating_sum: 0,
            rating_count: 0,
            heartbeats: 0,
            bump: ctx.bumps.provider,
        });
        emit!(ProviderRegistered { provider: ctx.accounts.authority.key() });
        Ok(())
    }
}
