//! Single-rental actions: decline, top-up, stop, cancel, close, finalize.
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::ix;
use serde_json::json;

use super::settlement::send_settlement;
use super::{done, rental_in, require_tokens, send, Token};
use crate::context::Context;
use crate::error::CliError;
use crate::output::Output;

pub async fn decline(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) = rental_in(ctx, rental, &[RentalState::Funded]).await?;
    let signer = ctx.signer()?;
    let token = Token::load(ctx, &k.mint).await?;
    let sig = send(ctx, &[ix::decline_rental(&k)], &signer).await?;
    Ok(done(
        "decline",
        &sig,
        json!({ "rental": k.rental.to_string(), "refunded": token.json(r.deposited) }),
        &format!("refunded to renter: {}", token.show(r.deposited)),
    ))
}

pub async fn top_up(ctx: &Context, rental: &str, amount: &str) -> Result<Output, CliError> {
    let (k, _) = rental_in(ctx, rental, &[RentalState::Funded, RentalState::Active]).await?;
    let signer = ctx.signer()?;
    let token = Token::load(ctx, &k.mint).await?;
    let units = token.parse(amount)?;
    if units == 0 {
        return Err(CliError::Input("top-up amount must be greater than zero".into()));
    }
    require_tokens(ctx, &super::me(&signer), &token, units).await?;
    let sig = send(ctx, &[ix::top_up(&k, units)], &signer).await?;
    let r = ctx.client.rental(&k.rental).await?;
    Ok(done(
        "top-up",
        &sig,
        json!({ "rental": k.rental.to_string(), "added": token.json(units), "deposited": token.json(r.deposited), "end_at": r.end_at }),
        &format!("added {}; deposit now {}", token.show(units), token.show(r.deposited)),
    ))
}

pub async fn stop(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) = rental_in(ctx, rental, &[RentalState::Active]).await?;
    send_settlement(ctx, &k, &r, "stop", |me, treasury| ix::stop_rental(me, &k, treasury)).await
}

pub async fn finalize(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) = rental_in(ctx, rental, &[RentalState::Active]).await?;
    let now = ctx.client.cluster_time().await?;
    let stops = r.meter().billing_stops_at();
    if now < stops {
        return Err(CliError::Refused(format!(
            "rental {} is still within its paid time and SLA ({} s left); it can be stopped, not finalized",
            k.rental,
            stops - now
        )));
    }
    send_settlement(ctx, &k, &r, "finalize", |me, treasury| ix::finalize_rental(me, &k, treasury)).await
}

pub async fn cancel(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) = rental_in(ctx, rental, &[RentalState::Funded]).await?;
    let signer = ctx.signer()?;
    let token = Token::load(ctx, &k.mint).await?;
    let sig = send(ctx, &[ix::cancel_rental(&super::me(&signer), &k)], &signer).await?;
    Ok(done(
        "cancel",
        &sig,
        json!({ "rental": k.rental.to_string(), "refunded": token.json(r.deposited) }),
        &format!("refunded: {}", token.show(r.deposited)),
    ))
}

pub async fn close(ctx: &Context, rental: &str, rate: Option<u8>) -> Result<Output, CliError> {
    if let Some(r) = rate {
        if !(1..=5).contains(&r) {
            return Err(CliError::Input(format!("--rate must be between 1 and 5, got {r}")));
        }
    }
    let (k, _) = rental_in(ctx, rental, &[RentalState::Settled, RentalState::Cancelled]).await?;
    let signer = ctx.signer()?;
    let sig = send(ctx, &[ix::close_rental(&k, rate)], &signer).await?;
    Ok(done(
        "close",
        &sig,
        json!({ "rental": k.rental.to_string(), "rating": rate }),
        &match rate {
            Some(stars) => {
                format!("rental closed and rated {stars}/5; its account deposits (SOL) were returned to you")
            }
            None => "rental closed; its account deposits (SOL) were returned to you".into(),
        },
    ))
}
