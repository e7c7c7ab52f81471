use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::HeartbeatRecorded;
use crate::instructions::now;
use crate::state::{Rental, RentalState};

/// Proof of service for SLA listings. One instruction per rental; clients pack many rentals
/// into one transaction (see the SDK's batch builders). Only heartbeats that move the SLA
/// forward are recorded (a repeat in the same second is a no-op), on the rental: the
/// provider's profile credits them at settlement, if the rental counts.
#[derive(Accounts)]
pub struct Heartbeat<'info> {
    pub provider: Signer<'info>,
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
            let r = &mut ctx.accounts.rental;
            r.last_heartbeat = t;
            r.heartbeats = r.heartbeats.saturating_add(1);
        }
        emit!(HeartbeatRecorded { rental: ctx.accounts.rental.key(), at: t, counted });
        Ok(())
    }
}
