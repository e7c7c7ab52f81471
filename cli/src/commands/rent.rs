//! Opening a rental: quote from the on-chain math, confirmation, then one transaction.
use std::io::{BufRead, IsTerminal, Write};

use gpu_escrow_sdk::{ix, pda, quote};
use serde_json::json;

use super::{done, require_sol, require_tokens, send, Token};
use crate::args::RentArgs;
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::{duration, Output};

pub async fn run(ctx: &Context, a: RentArgs) -> Result<Output, CliError> {
    let listing_key = parse_pubkey(&a.listing, "listing")?;
    ctx.client.ensure_program_deployed().await?;
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let l = match ctx.client.listing(&listing_key).await {
        Err(gpu_escrow_sdk::SdkError::AccountNotFound { .. }) => {
            return Err(CliError::Refused(format!("listing {listing_key} does not exist on {}", ctx.url)))
        }
        other => other?,
    };
    let config = ctx.client.config().await?;
    if config.paused {
        return Err(CliError::Refused("the market is paused: new rentals are not accepted right now".into()));
    }
    if l.paused {
        return Err(CliError::Refused(format!("listing {listing_key} is paused by its provider")));
    }
    if l.active_rentals >= l.capacity {
        return Err(CliError::Refused(format!(
            "listing {listing_key} is fully rented ({}/{})",
            l.active_rentals, l.capacity
        )));
    }
    let token = Token::load(ctx, &l.mint).await?;
    let q = match (a.hours, &a.deposit) {
        (Some(h), None) => {
            if h.is_nan() || h <= 0.0 || !h.is_finite() {
                return Err(CliError::Input(format!("--hours must be a positive number, got {h}")));
            }
            quote::quote_seconds(l.price_per_hour, (h * 3_600.0).round() as u64, config.fee_bps)
        }
        (None, Some(d)) => quote::quote_deposit(l.price_per_hour, token.parse(d)?, config.fee_bps),
        _ => return Err(CliError::Input("give exactly one of --hours or --deposit".into())),
    }
    .map_err(|e| CliError::Input(format!("amount does not fit: {e:?}")))?;
    if q.seconds < l.min_rental_secs as u64 {
        return Err(CliError::Refused(format!(
            "this buys {}, below the listing's minimum of {}",
            duration(q.seconds),
            duration(l.min_rental_secs as u64)
        )));
    }
    if q.seconds > l.max_rental_secs as u64 {
        return Err(CliError::Refused(format!(
            "this buys {}, above the listing's maximum of {}",
            duration(q.seconds),
            duration(l.max_rental_secs as u64)
        )));
    }
    let quote_text = format!(
        "listing:   {listing_key}\nprice:     {}/h (billed per second of use)\ntime:      {}\ndeposit:   {}\n  of which provider {} and platform fee {} ({} bps) if fully used\nunused time is refunded when you stop",
        token.show(l.price_per_hour), duration(q.seconds), token.show(q.deposit), token.show(q.provider), token.show(q.fee), config.fee_bps
    );
    require_tokens(ctx, &me, &token, q.deposit).await?;
    let rent_lamports = ctx
        .client
        .rpc()
        .get_minimum_balance_for_rent_exemption(8 + <gpu_escrow::state::Rental as anchor_lang::Space>::INIT_SPACE)
        .await
        .map_err(super::rpc_err)?
        + ctx.client.rpc().get_minimum_balance_for_rent_exemption(165).await.map_err(super::rpc_err)?;
    require_sol(ctx, &me, rent_lamports).await?;
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Input(format!("{quote_text}\nrefusing to rent without confirmation: pass --yes")));
        }
        eprint!("{quote_text}\nproceed? [y/N] ");
        std::io::stderr().flush().ok();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok();
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            return Err(CliError::Refused("cancelled; nothing was sent".into()));
        }
    }
    // The id is fixed before sending, so a retried send cannot open a second rental.
    let rental_id = a.rental_id.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(1)
    });
    let open = ix::open_rental(&me, &listing_key, &l.mint, &token.program, rental_id, q.deposit);
    let sig = send(ctx, &[open], &signer).await?;
    let rental = pda::rental(&listing_key, &me, rental_id);
    let j = json!({
        "rental": rental.to_string(), "rental_id": rental_id, "listing": listing_key.to_string(),
        "deposit": token.json(q.deposit), "seconds": q.seconds, "fee_bps": config.fee_bps,
    });
    Ok(done(
        "rent",
        &sig,
        j,
        &format!("{quote_text}\nrental:    {rental}\nwaiting for the provider to activate it (billing starts then)"),
    ))
}
