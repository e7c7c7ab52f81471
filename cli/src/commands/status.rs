//! A rental's state and meter, read with the program's own settlement formulas; and the
//! list of the wallet's rentals.
use gpu_escrow_sdk::accounts::{state_name, Rental};
use gpu_escrow_sdk::client::Party;
use gpu_escrow_sdk::{quote, Pubkey};
use serde_json::json;

use super::{rental_in, Token};
use crate::context::Context;
use crate::error::CliError;
use crate::output::{duration, table, Output};

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
        "activated_at": (r.activated_at != 0).then_some(r.activated_at),
        "end_at": (r.end_at != 0).then_some(r.end_at),
        "ended_at": (r.ended_at != 0).then_some(r.ended_at),
        "billable_seconds": reading.billable_seconds,
        "earned": token.json(reading.earned),
        "claimable": token.json(reading.claimable_provider),
        "refundable": token.json(reading.refundable),
        "remaining_seconds": reading.remaining_seconds,
        "provider_paid": token.json(r.provider_paid),
        "fee_paid": token.json(r.fee_paid),
        "refunded": token.json(r.refunded),
        "dispute_locked": token.json(r.dispute_locked),
        "heartbeat_interval_secs": r.heartbeat_interval_secs,
    })
}

pub async fn status(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) = rental_in(ctx, rental, &[]).await?;
    let token = Token::load(ctx, &k.mint).await?;
    let now = ctx.client.cluster_time().await?;
    let reading = quote::read_rental(&r, now).map_err(|e| CliError::Refused(format!("{e:?}")))?;
    let human = format!(
        "rental:     {}\nstate:      {}\nprice:      {}/h\ndeposit:    {}\nbilled:     {}\nearned:     {}\nclaimable:  {} (provider share not yet paid)\nrefundable: {} (if stopped now)\nremaining:  {}\npaid:       provider {}, fee {}, refunded {}",
        k.rental, state_name(r.state), token.show(r.price_per_hour), token.show(r.deposited),
        duration(reading.billable_seconds), token.show(reading.earned), token.show(reading.claimable_provider),
        token.show(reading.refundable), duration(reading.remaining_seconds),
        token.show(r.provider_paid), token.show(r.fee_paid), token.show(r.refunded)
    );
    Ok(Output::new(rental_json(&k.rental, &r, &token, &reading), human))
}

pub async fn list(ctx: &Context) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    let me = ctx.signer_pubkey()?;
    let now = ctx.client.cluster_time().await?;
    let mut items = Vec::new();
    let mut rows = Vec::new();
    for (party, role) in [(Party::Renter, "renter"), (Party::Provider, "provider")] {
        for (k, r) in ctx.client.rentals_of(party, &me).await? {
            let token = Token::load(ctx, &r.mint).await?;
            let reading = quote::read_rental(&r, now).map_err(|e| CliError::Refused(format!("{e:?}")))?;
            let mut j = rental_json(&k, &r, &token, &reading);
            j["role"] = json!(role);
            items.push(j);
            rows.push(vec![
                k.to_string(),
                role.into(),
                state_name(r.state).into(),
                format!("{}/h", token.show(r.price_per_hour)),
                duration(reading.billable_seconds),
                token.show(reading.earned),
                duration(reading.remaining_seconds),
            ]);
        }
    }
    let human = if rows.is_empty() {
        "no rentals".into()
    } else {
        table(&["RENTAL", "ROLE", "STATE", "PRICE", "BILLED", "EARNED", "LEFT"], &rows)
    };
    Ok(Output::new(json!({ "rentals": items }), human))
}
