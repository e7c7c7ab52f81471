use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::{AdminAccepted, AdminProposed};
use crate::state::Config;

/// Step one of two: the current admin names a successor, who must then accept.
#[derive(Accounts)]
pub struct ProposeAdmin<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ EscrowError::NotAdmin)]
    pub config: Account<'info, Config>,
}

impl ProposeAdmin<'_> {
    pub fn handle(ctx: Context<Self>, new_admin: Pubkey) -> Result<()> {
        let c = &mut ctx.accounts.config;
        c.pending_admin = new_admin;
        emit!(AdminProposed { admin: c.admin, pending_admin: new_admin });
        Ok(())
    }
}

/// Step two: the proposed admin proves control of the key by signing.
#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    pub pending_admin: Signer<'info>,
    #[account(mut)]
    pub config: Account<'info, Config>,
}

impl AcceptAdmin<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.config.pending_admin != Pubkey::default(), EscrowError::NoPendingAdmin);
        require_keys_eq!(self.config.pending_admin, self.pending_admin.key(), EscrowError::NotPendingAdmin);
        Ok(())
    }

    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let c = &mut ctx.accounts.config;
        let previous_admin = c.admin;
        c.admin = c.pending_admin;
        c.pending_admin = Pubkey::default();
        emit!(AdminAccepted { previous_admin, admin: c.admin });
        Ok(())
    }
}
