use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::ConfigInitialized;
use crate::program::GpuEscrow;
use crate::seeds;
use crate::state::Config;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeConfigArgs {
    pub arbiter: Pubkey,
    pub treasury: Pubkey,
    pub fee_bps: u16,
    pub activation_timeout_secs: u32,
    pub dispute_timeout_secs: u32,
}

/// Only the program's upgrade authority may create the config, so nobody can front-run a
/// fresh deployment and install themselves as admin.
#[derive(Accounts)]
pub struct InitializeConfig<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(init, payer = admin, space = 8 + Config::INIT_SPACE, seeds = [seeds::CONFIG], bump)]
    pub config: Account<'info, Config>,
    #[account(constraint = program.programdata_address()? == Some(program_data.key()))]
    pub program: Program<'info, GpuEscrow>,
    #[account(constraint = program_data.upgrade_authority_address == Some(admin.key())
        @ EscrowError::NotUpgradeAuthority)]
    pub program_data: Account<'info, ProgramData>,
    pub system_program: Program<'info, System>,
}

impl InitializeConfig<'_> {
    pub fn validate(&self, args: &InitializeConfigArgs) -> Result<()> {
        require!(args.fee_bps <= Config::MAX_FEE_BPS, EscrowError::FeeTooHigh);
        require!(
            Config::valid_timeout(args.activation_timeout_secs) && Config::valid_timeout(args.dispute_timeout_secs),
            EscrowError::InvalidTimeout
        );
        Ok(())
    }

    pub fn handle(ctx: Context<Self>, args: InitializeConfigArgs) -> Result<()> {
        let config = &mut ctx.accounts.config;
        config.set_inner(Config {
            admin: ctx.accounts.admin.key(),
            pending_admin: Pubkey::default(),
            arbiter: args.arbiter,
            treasury: args.treasury,
            fee_bps: args.fee_bps,
            activation_timeout_secs: args.activation_timeout_secs,
            dispute_timeout_secs: args.dispute_timeout_secs,
            paused: false,
            bump: ctx.bumps.config,
        });
        emit!(ConfigInitialized {
            admin: config.admin,
            arbiter: config.arbiter,
            treasury: config.treasury,
            fee_bps: config.fee_bps,
        });
        Ok(())
    }
}
