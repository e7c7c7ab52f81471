use anchor_lang::prelude::*;

#[account]
#[derive(InitSpace, Debug)]
pub struct Config {
    pub admin: Pubkey,
    /// Pubkey::default() when no transfer is pending.
    pub pending_admin: Pubkey,
    pub arbiter: Pubkey,
    /// Owner of the token accounts that receive platform fees.
    pub treasury: Pubkey,
    pub fee_bps: u16,
    pub activation_timeout_secs: u32,
    pub dispute_timeout_secs: u32,
    pub paused: bool,
    pub bump: u8,
}

impl Config {
    pub const MAX_FEE_BPS: u16 = 3_000;
    /// Timeouts bound how long an escrow can wait; 90 days keeps "never stuck" meaningful.
    pub const MAX_TIMEOUT_SECS: u32 = 90 * 24 * 3_600;

    pub fn valid_timeout(secs: u32) -> bool {
        secs > 0 && secs <= Self::MAX_TIMEOUT_SECS
    }
}
