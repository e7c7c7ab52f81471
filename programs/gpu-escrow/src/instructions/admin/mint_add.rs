use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};

use crate::errors::EscrowError;
use crate::events::MintAdded;
use crate::seeds;
use crate::state::{AcceptedMint, Config};
use crate::token::check_mint_extensions;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddMintArgs {
    /// Minimum gross a rental in this token must have billed to be rated (base units).
    pub min_rated_gross: u64,
}

#[derive(Accounts)]
pub struct AddMint<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(has_one = admin @ EscrowError::NotAdmin)]
    pub config: Account<'info, Config>,
    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,
    #[account(init, payer = admin, space = 8 + AcceptedMint::INIT_SPACE,
        seeds = [seeds::ACCEPTED_MINT, mint.key().as_ref()], bump)]
    pub accepted_mint: Account<'info, AcceptedMint>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl AddMint<'_> {
    pub fn validate(&self) -> Result<()> {
        check_mint_extensions(&self.mint.to_account_info())
    }

    pub fn handle(mut ctx: Context<Self>, args: AddMintArgs) -> Result<()> {
        let a = &mut ctx.accounts;
        a.accepted_mint.set_inner(AcceptedMint {
            mint: a.mint.key(),
            token_program: a.token_program.key(),
            decimals: a.mint.decimals,
            bump: ctx.bumps.accepted_mint,
            min_rated_gross: args.min_rated_gross,
        });
        emit!(MintAdded {
            mint: a.mint.key(),
            token_program: a.token_program.key(),
            decimals: a.mint.decimals,
            min_rated_gross: args.min_rated_gross,
        });
        Ok(())
    }
}
