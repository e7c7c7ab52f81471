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
    pub program: Program<'info, GpuEscrow>,
    /// CHECK: the loader's ProgramData of `program`, read by `upgrade_authority`.
    #[account(constraint = upgrade_authority(&program, &program_data)? == Some(admin.key())
        @ EscrowError::NotUpgradeAuthority)]
    pub program_data: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

/// The upgrade authority recorded in `program`'s ProgramData account. Both loader accounts
/// are read at their fixed offsets (Program: u32 tag 2, then the ProgramData address;
/// ProgramData: u32 tag 3, u64 slot, Option<Pubkey>) instead of through bincode, whose
/// decoding would pull about 60 KB of formatting code into the program.
pub fn upgrade_authority(program: &AccountInfo, program_data: &AccountInfo) -> Result<Option<Pubkey>> {
    use anchor_lang::solana_program::bpf_loader_upgradeable::ID as LOADER;
    let wrong = || error!(EscrowError::NotUpgradeAuthority);
    let p = program.try_borrow_data()?;
    let d = program_data.try_borrow_data()?;
    let points_here = p.len() >= 36 && p[..4] == 2u32.to_le_bytes() && p[4..36] == program_data.key.to_bytes();
    if !points_here || *program_data.owner != LOADER || d.len() < 45 || d[..4] != 3u32.to_le_bytes() {
        return Err(wrong());
    }
    match d[12] {
        0 => Ok(None),
        1 => Ok(Some(Pubkey::try_from(&d[13..45]).map_err(|_| wrong())?)),
        _ => Err(wrong()),
    }
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
