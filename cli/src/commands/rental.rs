//! Single-rental actions: decline, top-up, stop, cancel, close, finalize.
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::ix;
use serde_json::json;

use super::settlement::{send_and_report, send_settlement, Payout};
use super::{done, rental_for, rental_in, require_tokens, send, sol, Token};
use crate::context::Context;
use crate::error::CliError;
use crate::output::{when, Output};
use crate::pending::{Outcome, Pending};

pub async fn decline(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) =
        ready_or_done!(rental_for(ctx, rental, "decline", &[RentalState::Funded], &[RentalState::Cancelled]).await?);
    // The provider is paid nothing: the renter gets the whole deposit back.
    send_and_report(ctx, &k, &r, "decline", Payout::plain(vec![ix::decline_rental(&k)])).await
}

pub async fn top_up(ctx: &Context, rental: &str, amount: &str) -> Result<Output, CliError> {
    let (k, _) = rental_in(ctx, rental, &[RentalState::Funded, RentalState::Active]).await?;
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let token = Token::load(ctx, &k.mint).await?;
    let units = token.parse(amount)?;
    if units == 0 {
        return Err(CliError::Input("top-up amount must be greater than zero".into()));
    }
    // A run that lost the node after sending may have added this amount already.
    let intent = format!("top-up {} {me} {} {units}", ctx.url, k.rental);
    let mut pending = Pending::load()?;
    if let Some(Outcome::Landed(earlier)) = pending.resolve(&ctx.client, &intent).await? {
        let r = ctx.client.rental(&k.rental).await?;
        return Ok(Output::new(
            json!({
                "action": "top-up", "rental": k.rental.to_string(), "added": token.json(units),
                "deposited": token.json(r.deposited), "signature": earlier.signature, "already_done": true,
            }),
            format!(
                "top-up: already done by an earlier run of this command ({}); nothing new was sent\ntotal:     {} deposited",
                earlier.signature,
                token.show(r.deposited)
            ),
        ));
    }
    let mut ixs = Vec::new();
    let mut wrapped = 0;
    if token.is_sol() {
        let wrap = sol::plan_wrap(ctx, &me, units, 0, "this top-up").await?;
        (ixs, wrapped) = (wrap.ixs, wrap.wrapped);
    } else {
        require_tokens(ctx, &me, &token, units).await?;
    }
    ixs.push(ix::top_up(&k, units));
    let sig = pending.send(&ctx.client, &intent, &k.rental, &ixs, &signer).await?;
    let r = ctx.client.rental(&k.rental).await?;
    let until = if r.end_at != 0 { format!("; paid through {}", when(r.end_at)) } else { String::new() };
    let from_sol = if wrapped > 0 { format!(" ({} of it from your SOL)", token.show(wrapped)) } else { String::new() };
    Ok(done(
        "top-up",
        &sig,
        json!({
            "rental": k.rental.to_string(), "added": token.json(units), "wrapped_from_sol": token.json(wrapped),
            "deposited": token.json(r.deposited), "end_at": (r.end_at != 0).then_some(r.end_at),
            "end_at_iso": (r.end_at != 0).then(|| crate::output::iso(r.end_at)).flatten(),
        }),
        &format!(
            "paid now:  {} into the escrow{from_sol}
total:     {} deposited{until}",
            token.show(units),
            token.show(r.deposited)
        ),
    ))
}

pub async fn stop(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) =
        ready_or_done!(rental_for(ctx, rental, "stop", &[RentalState::Active], &[RentalState::Settled]).await?);
    send_settlement(ctx, &k, &r, "stop", |me, treasury| ix::stop_rental(me, &k, treasury)).await
}

pub async fn finalize(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) =
        ready_or_done!(rental_for(ctx, rental, "finalize", &[RentalState::Active], &[RentalState::Settled]).await?);
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
    let (k, r) =
        ready_or_done!(rental_for(ctx, rental, "cancel", &[RentalState::Funded], &[RentalState::Cancelled]).await?);
    let me = ctx.signer_pubkey()?;
    let cancel = ix::cancel_rental(&me, &k);
    // The renter is paid the refund; anyone else cancelling (after the timeout) gets nothing.
    let payout =
        if me == r.renter { Payout::new(ctx, &me, &k, cancel, false).await? } else { Payout::plain(vec![cancel]) };
    send_and_report(ctx, &k, &r, "cancel", payout).await
}

pub async fn close(ctx: &Context, rental: &str, rate: Option<u8>) -> Result<Output, CliError> {
    if let Some(r) = rate {
        if !(1..=5).contains(&r) {
            return Err(CliError::Input(format!("--rate must be between 1 and 5, got {r}")));
        }
    }
    if let Some(done) = closed_already(ctx, rental).await? {
        return Ok(done);
    }
    let (k, _) = rental_in(ctx, rental, &[RentalState::Settled, RentalState::Cancelled]).await?;
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let mut ixs = vec![ix::close_rental(&k, rate)];
    // Refunds others' transactions paid into the renter's wrapped-SOL account come back as SOL.
    if k.mint == ix::NATIVE_MINT && ctx.client.account_data(&sol::wsol_account(&me)).await?.is_some() {
        ixs.extend(sol::unwrap_after(ctx, &me, &k, false).await?);
    }
    let unwraps = ixs.len() > 1;
    let sig = send(ctx, &ixs, &signer).await?;
    let closed = match rate {
        Some(stars) => format!("rental closed and rated {stars}/5"),
        None => "rental closed".into(),
    };
    Ok(done(
        "close",
        &sig,
        json!({ "rental": k.rental.to_string(), "rating": rate, "unwrapped_to_sol": unwraps }),
        &format!("{closed}; its account deposits (SOL) were returned to you{}", sol::unwrap_note(&ixs[1..])),
    ))
}

/// The renter rates a settled rental. Rating waits on nobody: funds still held for another
/// payee do not matter. A rental is rated once; a re-run reports the rating already given.
pub async fn rate(ctx: &Context, rental: &str, stars: u8) -> Result<Output, CliError> {
    if !(1..=5).contains(&stars) {
        return Err(CliError::Input(format!("the rating must be between 1 and 5, got {stars}")));
    }
    let (k, r) = rental_in(ctx, rental, &[RentalState::Settled]).await?;
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    if me != r.renter {
        return Err(CliError::Refused(format!("only the renter ({}) can rate rental {}", r.renter, k.rental)));
    }
    if r.rated {
        return Ok(Output::new(
            json!({ "action": "rate", "rental": k.rental.to_string(), "already_done": true }),
            format!("rate: rental {} is already rated (a rental is rated once); nothing was sent", k.rental),
        ));
    }
    if !r.counts_for_reputation() {
        return Err(CliError::Refused(format!(
            "rental {} cannot be rated: a rating needs at least {} billed and the token's minimum amount paid \
             (this one billed {})",
            k.rental,
            crate::output::duration(gpu_escrow_sdk::accounts::Rental::MIN_RATED_BILLED_SECS),
            crate::output::duration(r.billed_seconds)
        )));
    }
    let sig = send(ctx, &[ix::rate_rental(&k, stars)], &signer).await?;
    Ok(done(
        "rate",
        &sig,
        json!({ "rental": k.rental.to_string(), "rating": stars }),
        &format!("rental rated {stars}/5"),
    ))
}

/// A rental whose account is gone and whose history ends in a close: a re-run of `close`
/// after its transaction landed unconfirmed is reported as done.
async fn closed_already(ctx: &Context, rental: &str) -> Result<Option<Output>, CliError> {
    let address = crate::context::parse_pubkey(rental, "rental")?;
    if ctx.client.account_data(&address).await?.is_some() {
        return Ok(None);
    }
    Ok(match ctx.client.receipt(&address).await {
        Ok(receipt) if receipt.state.ends_with("(closed)") => Some(Output::new(
            json!({ "action": "close", "rental": address.to_string(), "state": receipt.state, "already_done": true }),
            format!("close: rental {address} is already closed; nothing was sent"),
        )),
        _ => None,
    })
}
