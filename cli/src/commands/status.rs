//! A rental's state and meter, read with the program's own settlement formulas; and the
//! list of the wallet's rentals.
use gpu_escrow_sdk::accounts::{state_name, Rental, RentalState};
use gpu_escrow_sdk::client::Party;
use gpu_escrow_sdk::{quote, Pubkey};
use serde_json::json;

use super::{rental_in, Token};
use crate::context::Context;
use crate::error::CliError;
use crate::output::{duration, iso, table, Output};

pub fn rental_json(key: &Pubkey, r: &Rental, token: &Token, reading: &quote::RentalReading) -> serde_json::Value {
    json!({
        "rental": key.to_string(),
        "state": state_name(r.state),
        "listing": r.listing.to_string(),
        "renter": r.renter.to_string(),
        "provider": r.provider.to_string(),
        "mint": r.mint.to_string(),
        "price_per_hour": token.json(r.price_per_hour),
        "fee_bps": r.fee_bps,
        "deposited": token.json(r.deposited),
        "opened_at": r.opened_at,
        "opened_at_iso": iso(r.opened_at),
        "activated_at": (r.activated_at != 0).then_some(r.activated_at),
        "activated_at_iso": (r.activated_at != 0).then(|| iso(r.activated_at)).flatten(),
        "end_at": (r.end_at != 0).then_some(r.end_at),
        "end_at_iso": (r.end_at != 0).then(|| iso(r.end_at)).flatten(),
        "ended_at": (r.ended_at != 0).then_some(r.ended_at),
        "ended_at_iso": (r.ended_at != 0).then(|| iso(r.ended_at)).flatten(),
        "billable_seconds": reading.billable_seconds,
        "earned": token.json(reading.earned),
        "claimable": token.json(reading.claimable_provider),
        "refundable": token.json(reading.refundable),
        "remaining_seconds": reading.remaining_seconds,
        "provider_paid": token.json(r.provider_paid),
        "fee_paid": token.json(r.fee_paid),
        "refunded": token.json(r.refunded),
        "dispute_locked": token.json(r.dispute_locked),
        "held": { "provider": token.json(r.provider_owed), "fee": token.json(r.fee_owed), "renter": token.json(r.renter_owed) },
        "heartbeat_interval_secs": r.heartbeat_interval_secs,
    })
}

/// One line on what the rental needs next, from its state and the cluster's clock.
fn situation(ctx: &Context, key: &Pubkey, r: &Rental, now: i64, delivered: bool) -> String {
    match r.state {
        RentalState::Funded if now >= r.activation_deadline() => format!(
            "not activated in time; anyone may cancel it for a full refund: `{}`",
            ctx.hint(&format!("cancel {key}"))
        ),
        RentalState::Funded => format!(
            "waiting for the provider to activate it (deadline {}); billing starts then",
            crate::output::when(r.activation_deadline())
        ),
        RentalState::Active if now >= r.meter().billing_stops_at() => {
            let why = if r.meter().sla_cut().is_some_and(|cut| cut < r.end_at) {
                "the provider missed a heartbeat"
            } else {
                "its paid time has run out"
            };
            format!(
                "expired: {why} at {}, so billing stopped; settle it with `{}` (or anyone may `finalize` it)",
                crate::output::when(r.meter().billing_stops_at()),
                ctx.hint(&format!("stop {key}"))
            )
        }
        RentalState::Active if delivered => {
            format!("running; connection details: `{}`", ctx.hint(&format!("access {key}")))
        }
        RentalState::Active => "running; the provider delivered no connection details on-chain".into(),
        RentalState::Disputed => format!(
            "in dispute: the arbiter rules, or after {} anyone may settle it as earned",
            crate::output::when(r.dispute_opened_at.saturating_add(r.dispute_timeout_secs as i64))
        ),
        RentalState::Settled | RentalState::Cancelled if r.owed_total() != Some(0) => {
            format!(
                "over; funds are held for a payee whose account could not receive (`{}`)",
                ctx.hint_for_others(&format!("withdraw {key}"))
            )
        }
        RentalState::Settled | RentalState::Cancelled => {
            format!("over; close it to get its account deposits (SOL) back: `{}`", ctx.hint(&format!("close {key}")))
        }
    }
}

pub async fn status(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) = match rental_in(ctx, rental, &[]).await {
        Err(CliError::Refused(msg)) if msg.contains("does not exist") => {
            return Err(CliError::Refused(format!(
                "{msg}; a closed rental's receipt is still on-chain: `{}`",
                ctx.hint(&format!("receipt {rental}"))
            )))
        }
        other => other?,
    };
    let token = Token::load(ctx, &k.mint).await?;
    let now = ctx.client.cluster_time().await?;
    let reading = quote::read_rental(&r, now).map_err(|e| CliError::Refused(format!("{e:?}")))?;
    let delivered = super::access::delivered(ctx, &k).await?;
    let mut j = rental_json(&k.rental, &r, &token, &reading);
    j["access_delivered"] = json!(delivered);
    let expired = r.state == RentalState::Active && now >= r.meter().billing_stops_at();
    j["expired"] = json!(expired);
    let state = if expired { "Active, expired".to_string() } else { state_name(r.state).to_string() };
    let mut human = format!(
        "rental:     {}\nstate:      {state}\nnext:       {}\nprice:      {}/h\ndeposit:    {}\nbilled:     {}\nearned:     {} (cost to the renter so far)\nclaimable:  {} (provider share not yet paid)\nrefundable: {} (if stopped now)\nremaining:  {}\npaid:       provider {}, fee {}, refunded {}",
        k.rental, situation(ctx, &k.rental, &r, now, delivered), token.show(r.price_per_hour), token.show(r.deposited),
        duration(reading.billable_seconds), token.show(reading.earned), token.show(reading.claimable_provider),
        token.show(reading.refundable), duration(reading.remaining_seconds),
        token.show(r.provider_paid), token.show(r.fee_paid), token.show(r.refunded)
    );
    if r.activated_at != 0 {
        human.push_str(&format!(
            "\nstarted:    {}\npaid until: {}",
            crate::output::when(r.activated_at),
            crate::output::when(r.end_at)
        ));
    }
    Ok(Output::new(j, human))
}

pub async fn list(ctx: &Context) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    let me = ctx.signer_pubkey()?;
    let now = ctx.client.cluster_time().await?;
    let mut items = Vec::new();
    let mut sections = Vec::new();
    // Each table is named from the reader's side: what renting costs, what providing earns.
    for (party, role, amount_header) in [(Party::Renter, "renter", "COST"), (Party::Provider, "provider", "EARNED")] {
        let mut rows = Vec::new();
        for (k, r) in ctx.client.rentals_of(party, &me).await? {
            let token = Token::load(ctx, &r.mint).await?;
            let reading = quote::read_rental(&r, now).map_err(|e| CliError::Refused(format!("{e:?}")))?;
            let mut j = rental_json(&k, &r, &token, &reading);
            j["role"] = json!(role);
            items.push(j);
            let expired = r.state == RentalState::Active && now >= r.meter().billing_stops_at();
            rows.push(vec![
                k.to_string(),
                if expired { "Active (expired)".into() } else { state_name(r.state).into() },
                format!("{}/h", token.show(r.price_per_hour)),
                duration(reading.billable_seconds),
                token.show(reading.earned),
                duration(reading.remaining_seconds),
            ]);
        }
        if !rows.is_empty() {
            let headers = ["RENTAL", "STATE", "PRICE", "BILLED", amount_header, "LEFT"];
            sections.push(format!("as {role}:\n{}", table(&headers, &rows)));
        }
    }
    let human = if sections.is_empty() { "no rentals".into() } else { sections.join("\n\n") };
    Ok(Output::new(json!({ "rentals": items }), human))
}
