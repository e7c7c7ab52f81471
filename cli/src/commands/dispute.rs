//! Disputes: open (either party), resolve (arbiter), finalize-expired (anyone).
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::ix;
use serde_json::json;

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
            let treasury = ctx.client.config().await?.treasury;
            let mut ixs = ix::ensure_payee_accounts(&me, &k, &treasury);
            ixs.push(ix::resolve_dispute(&me, &k, &treasury, amount));
            let sig = send(ctx, &ixs, &signer).await?;
            Ok(done(
                "dispute resolve",
                &sig,
                json!({ "rental": k.rental.to_string(), "provider_amount": token.json(amount), "renter_amount": token.json(r.dispute_locked - amount) }),
                "",
            ))
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
            let treasury = ctx.client.config().await?.treasury;
            let mut ixs = ix::ensure_payee_accounts(&me, &k, &treasury);
            ixs.push(ix::resolve_expired_dispute(&me, &k, &treasury));
            let sig = send(ctx, &ixs, &signer).await?;
            Ok(done("dispute finalize-expired", &sig, json!({ "rental": k.rental.to_string() }), "settled as earned"))
        }
    }
}
