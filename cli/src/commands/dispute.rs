//! Disputes: open (either party), resolve (arbiter), finalize-expired (anyone).
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::ix;
use serde_json::json;

use super::settlement::send_settlement;
use super::{done, rental_in, send, Token};
use crate::args::DisputeCmd;
use crate::context::Context;
use crate::error::CliError;
use crate::output::Output;

pub async fn run(ctx: &Context, cmd: DisputeCmd) -> Result<Output, CliError> {
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    match cmd {
        DisputeCmd::Open { rental, reason } => {
            let (k, _) = rental_in(ctx, &rental, &[RentalState::Active]).await?;
            let token = Token::load(ctx, &k.mint).await?;
            let sig = send(ctx, &[ix::open_dispute(&me, &k, reason)], &signer).await?;
            let r = ctx.client.rental(&k.rental).await?;
            Ok(done(
                "dispute open",
                &sig,
                json!({ "rental": k.rental.to_string(), "locked": token.json(r.dispute_locked), "refunded": token.json(r.refunded) }),
                &format!(
                    "locked until resolved: {}\nrefunded to renter now: {}",
                    token.show(r.dispute_locked),
                    token.show(r.refunded)
                ),
            ))
        }
        DisputeCmd::Resolve { rental, provider_amount } => {
            let (k, r) = rental_in(ctx, &rental, &[RentalState::Disputed]).await?;
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
            let (k, r) = rental_in(ctx, &rental, &[RentalState::Disputed]).await?;
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
