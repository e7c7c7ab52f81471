//! Disputes: open (either party), resolve (arbiter), finalize-expired (anyone).
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::ix;

use super::settlement::{send_and_report, send_settlement, Payout};
use super::{rental_for, Token};
use crate::args::DisputeCmd;
use crate::context::Context;
use crate::error::CliError;
use crate::output::Output;

pub async fn run(ctx: &Context, cmd: DisputeCmd) -> Result<Output, CliError> {
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    match cmd {
        DisputeCmd::Open { rental, reason } => {
            let (k, r) = ready_or_done!(
                rental_for(ctx, &rental, "dispute open", &[RentalState::Active], &[RentalState::Disputed]).await?
            );
            let open = ix::open_dispute(&me, &k, reason.code());
            // The renter is refunded the unearned rest at once; the dispute keeps the rental open.
            let payout =
                if me == r.renter { Payout::new(ctx, &me, &k, open, true).await? } else { Payout::plain(vec![open]) };
            send_and_report(ctx, &k, &r, "dispute open", payout).await
        }
        DisputeCmd::Resolve { rental, provider_amount } => {
            let (k, r) = ready_or_done!(
                rental_for(ctx, &rental, "dispute resolve", &[RentalState::Disputed], &[RentalState::Settled]).await?
            );
            let token = Token::load(ctx, &k.mint).await?;
            let amount = token.parse(&provider_amount)?;
            if amount > r.dispute_locked {
                return Err(CliError::Input(format!(
                    "award {} exceeds the locked {}",
                    token.show(amount),
                    token.show(r.dispute_locked)
                )));
            }
            let arbiter = ctx.client.config().await?.arbiter;
            if me != arbiter {
                return Err(CliError::Refused(format!(
                    "Only the arbiter ({arbiter}) may resolve disputes; you are {me}"
                )));
            }
            if me == r.renter || me == r.provider {
                return Err(CliError::Refused(format!(
                    "you are a party to rental {}; an arbiter may not rule on its own case (it settles by the timeout rule)",
                    k.rental
                )));
            }
            send_settlement(ctx, &k, &r, "dispute resolve", |me, treasury| {
                ix::resolve_dispute(me, &k, treasury, amount)
            })
            .await
        }
        DisputeCmd::FinalizeExpired { rental } => {
            let (k, r) = ready_or_done!(
                rental_for(ctx, &rental, "dispute finalize-expired", &[RentalState::Disputed], &[RentalState::Settled])
                    .await?
            );
            let now = ctx.client.cluster_time().await?;
            let deadline = r.dispute_opened_at + r.dispute_timeout_secs as i64;
            if now < deadline {
                return Err(CliError::Refused(format!(
                    "the dispute timeout has not passed: {} s left",
                    deadline - now
                )));
            }
            send_settlement(ctx, &k, &r, "dispute finalize-expired", |me, treasury| {
                ix::resolve_expired_dispute(me, &k, treasury)
            })
            .await
        }
    }
}
