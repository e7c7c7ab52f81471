use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::ConfigUpdated;
use crate::state::Config;

/// Each field left as None keeps its value. Fee and timeouts apply to rentals opened later.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateConfigArgs {
    pub arbiter: Option<Pubkey>,
    pub treasury: Option<Pubkey>,
    pub fee_bps: Option<u16>,
    pub activation_timeout_secs: Option<u32>,
    pub dispute_timeout_secs: Option<u32>,
}

#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ EscrowError::NotAdmin)]
    pub config: Account<'info, Config>,
}

impl UpdateConfig<'_> {
    pub fn validate(&self, args: &UpdateConfigArgs) -> Result<()> {
        if let Some(fee) = args.fee_bps {
            require!(fee <= Config::MAX_FEE_BPS, EscrowError::FeeTooHigh);
        }
        for t in [args.activation_timeout_secs, args.dispute_timeout_secs].into_iter().flatten() {
            require!(Config::valid_timeout(t), EscrowError::InvalidTimeout);
        }
        Ok(())
    }

    pub fn handle(ctx: Context<Self>, args: UpdateConfigArgs) -> Result<()> {
        let c = &mut ctx.accounts.config;
        if let Some(v) = args.arbiter {
            c.arbiter = v;
        }
        if let Some(v) = args.treasury {
            c.treasury = v;
        }
        if let Some(v) = args.fee_bps {
            c.fee_bps = v;
        }
        if let Some(v) = args.activation_timeout_secs {
            c.activation_timeout_secs = v;
        }
        if let Some(v) = args.dispute_timeout_secs {
            c.dispute_timeout_secs = v;
        }
        emit!(ConfigUpdated {
            arbiter: c.arbiter,
            treasury: c.treasury,
            fee_bps: c.fee_bps,
            activation_timeout_secs: c.activation_timeout_secs,
            dispute_timeout_secs: c.dispute_timeout_secs,
        });
        Ok(())
    }
}
