use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::HeartbeatRecorded;
use crate::instructions::now;
use crate::state::{Provider, Rental, RentalState};

/// Proof of service for SLA listings. One instruction per rental; clients pack many rentals
/// into one transaction (see the SDK's batch builders). Only heartbeats that move the SLA
/// forward count towards the provider's reputation; a repeat in the same second is a no-op.
#[derive(Accounts)]
pub struct Heartbeat<'info> {
    pub provider: Signer<'info>,
    #[account(mut, constraint = provider_profile.authority == provider.key() @ EscrowError::WrongProviderProfile)]
    pub provider_profile: Account<'info, Provider>,
    #[account(mut, has_one = provider @ EscrowError::NotProvider)]
    pub rental: Account<'info, Rental>,
}

impl Heartbeat<'_> {
    pub fn validate(&self, t: i64) -> Result<()> {
        require!(self.rental.state == RentalState::Active, EscrowError::RentalNotActive);
        require!(self.rental.heartbeat_interval_secs > 0, EscrowError::NoHeartbeatSla);
        require!(t < self.rental.end_at, EscrowError::RentalExpired);
        // A late heartbeat must not revive billing for the gap it missed.
        if let Some(cut) = self.rental.meter().sla_cut() {
            require!(t <= cut, EscrowError::SlaMissed);
        }
        Ok(())
    }

    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let t = now()?;
        ctx.accounts.validate(t)?;
        let counted = t > ctx.accounts.rental.last_heartbeat;
        if counted {
            ctx.accounts.rental.last_heartbeat = t;
            let p = &mut ctx.accounts.provider_profile;
            p.heartbeats = p.heartbeats.saturating_add(1);
        }
        emit!(HeartbeatRecorded { rental: ctx.accounts.rental.key(), at: t, counted });
        Ok(())
    }
}
