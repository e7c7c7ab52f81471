//! Single-rental actions: activate, decline, top-up, stop, cancel, close, finalize.
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::ix;
use serde_json::json;

use super::{done, rental_in, require_tokens, send, Token};
use crate::context::Context;
use crate::error::CliError;
use crate::output::Output;

pub async fn activate(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, _) = rental_in(ctx, rental, &[RentalState::Funded]).await?;
    let signer = ctx.signer()?;
    let sig = send(ctx, &[ix::activate_rental(&super::me(&signer), &k.rental)], &signer).await?;
    let r = ctx.client.rental(&k.rental).await?;
    Ok(done(
        "activate",
        &sig,
        json!({ "rental": k.rental.to_string(), "activated_at": r.activated_at, "end_at": r.end_at }),
        &format!("billing started; paid through unix time {}", r.end_at),
    ))
}

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

async fn settle_summary(
    ctx: &Context,
    k: &ix::RentalKeys,
    token: &Token,
) -> Result<(serde_json::Value, String), CliError> {
    let r = ctx.client.rental(&k.rental).await?;
    let j = json!({
        "rental": k.rental.to_string(),
        "state": gpu_escrow_sdk::accounts::state_name(r.state),
        "billed_seconds": r.billed_seconds,
        "provider_paid": token.json(r.provider_paid),
        "fee_paid": token.json(r.fee_paid),
        "refunded": token.json(r.refunded),
    });
    let human = format!(
        "billed:   {}\nprovider: {}\nfee:      {}\nrefund:   {}",
        crate::output::duration(r.billed_seconds),
        token.show(r.provider_paid),
        token.show(r.fee_paid),
        token.show(r.refunded)
    );
    Ok((j, human))
}

/// Sends a settling instruction (stop or finalize), creating any missing payee token
/// accounts first so a closed account can never block the payout.
async fn settle(
    ctx: &Context,
    k: &ix::RentalKeys,
    action: &str,
    build: fn(&gpu_escrow_sdk::Pubkey, &ix::RentalKeys, &gpu_escrow_sdk::Pubkey) -> gpu_escrow_sdk::Instruction,
) -> Result<Output, CliError> {
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let treasury = ctx.client.config().await?.treasury;
    let token = Token::load(ctx, &k.mint).await?;
    let mut ixs = ix::ensure_payee_accounts(&me, k, &treasury);
    ixs.push(build(&me, k, &treasury));
    let sig = send(ctx, &ixs, &signer).await?;
    let (j, h) = settle_summary(ctx, k, &token).await?;
    Ok(done(action, &sig, j, &h))
}

pub async fn stop(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, _) = rental_in(ctx, rental, &[RentalState::Active]).await?;
    settle(ctx, &k, "stop", ix::stop_rental).await
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
    settle(ctx, &k, "finalize", ix::finalize_rental).await
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
        "rental account closed; its rent was returned to you",
    ))
}
