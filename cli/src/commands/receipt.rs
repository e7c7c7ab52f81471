//! Receipts and history from on-chain events, with CSV export for expense and tax records.
use std::path::Path;

use gpu_escrow_sdk::receipts::Receipt;
use gpu_escrow_sdk::Pubkey;
use serde_json::json;

use super::Token;
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::{duration, iso, local, table, when, Output};

fn unix(t: Option<i64>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

/// A receipt's time for people: local date-time and how long ago; "-" when unset.
fn shown(t: Option<i64>) -> String {
    t.map(when).unwrap_or_else(|| "-".into())
}

/// The receipt as JSON: its fields (Unix seconds) plus ISO 8601 times and the token.
fn receipt_json(r: &Receipt, token: &Token) -> serde_json::Value {
    let mut j = serde_json::to_value(r).expect("receipt serialises");
    j["opened_at_iso"] = json!(iso(r.opened_at));
    j["activated_at_iso"] = json!(r.activated_at.and_then(iso));
    j["ended_at_iso"] = json!(r.ended_at.and_then(iso));
    j["decimals"] = json!(token.decimals);
    j["symbol"] = json!(token.symbol);
    j
}

pub async fn receipt(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let key = parse_pubkey(rental, "rental")?;
    ctx.client.ensure_program_deployed().await?;
    let r = ctx.client.receipt(&key).await?;
    let token = Token::load(ctx, &r.mint.parse::<Pubkey>().expect("receipt mint")).await?;
    let mut human = format!(
        "receipt for rental {}\nstate:       {}\nrenter:      {}\nprovider:    {}\ntoken:       {} ({})\nprice:       {}/h (fee {} bps)\nopened:      {}\nstarted:     {}\nended:       {}\nbilled:      {}\ntotal:       deposited {}, to provider {}, fee {}, refunded {}",
        r.rental, r.state, r.renter, r.provider, token.label, r.mint, token.show(r.price_per_hour), r.fee_bps,
        when(r.opened_at), shown(r.activated_at), shown(r.ended_at), duration(r.billed_seconds), token.show(r.deposited),
        token.show(r.provider_paid), token.show(r.fee_paid), token.show(r.refunded),
    );
    if r.dispute_locked > 0 {
        human.push_str(&format!("\nlocked:      {} until the dispute is resolved", token.show(r.dispute_locked)));
    }
    if r.held > 0 {
        human.push_str(&format!("\nheld:        {} for payees whose accounts could not receive", token.show(r.held)));
    }
    human.push_str(&format!(
        "\nrating:      {}\ntransactions:\n  {}",
        r.rating.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
        r.signatures.join("\n  ")
    ));
    Ok(Output::new(receipt_json(&r, &token), human))
}

fn csv_field(s: &str) -> String {
    if s.contains(',') || s.contains('"') || s.contains('\n') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Each time three ways: Unix seconds, ISO 8601 in UTC, and local time for people.
const CSV_HEADER: &str = "rental,role,state,mint,token,decimals,price_per_hour,fee_bps,opened_at,opened_at_iso,opened_at_local,started_at,started_at_iso,started_at_local,ended_at,ended_at_iso,ended_at_local,billed_seconds,deposited,paid_to_provider,fee,refunded,signatures";

fn write_csv(path: &Path, rows: &[(Receipt, String, u8, String)]) -> Result<(), CliError> {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for (r, role, decimals, label) in rows {
        let cells = [
            r.rental.clone(),
            role.clone(),
            r.state.clone(),
            r.mint.clone(),
            label.clone(),
            decimals.to_string(),
            crate::amount::format(r.price_per_hour, *decimals),
            r.fee_bps.to_string(),
            r.opened_at.to_string(),
            iso(r.opened_at).unwrap_or_default(),
            local(r.opened_at).unwrap_or_default(),
            unix(r.activated_at),
            r.activated_at.and_then(iso).unwrap_or_default(),
            r.activated_at.and_then(local).unwrap_or_default(),
            unix(r.ended_at),
            r.ended_at.and_then(iso).unwrap_or_default(),
            r.ended_at.and_then(local).unwrap_or_default(),
            r.billed_seconds.to_string(),
            crate::amount::format(r.deposited, *decimals),
            crate::amount::format(r.provider_paid, *decimals),
            crate::amount::format(r.fee_paid, *decimals),
            crate::amount::format(r.refunded, *decimals),
            r.signatures.join(" "),
        ];
        out.push_str(&cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
}

pub async fn history(ctx: &Context, csv: Option<&Path>) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    let me = ctx.signer_pubkey()?;
    let receipts = ctx.client.history(&me).await?;
    let mut rows = Vec::new();
    let mut table_rows = Vec::new();
    let mut items = Vec::new();
    for r in receipts {
        let token = Token::load(ctx, &r.mint.parse::<Pubkey>().expect("receipt mint")).await?;
        let role = if r.renter == me.to_string() { "renter" } else { "provider" }.to_string();
        table_rows.push(vec![
            r.rental.clone(),
            role.clone(),
            r.state.clone(),
            duration(r.billed_seconds),
            token.show(r.provider_paid),
            token.show(r.fee_paid),
            token.show(r.refunded),
        ]);
        let mut j = receipt_json(&r, &token);
        j["role"] = json!(role);
        items.push(j);
        rows.push((r, role, token.decimals, token.label.clone()));
    }
    if let Some(path) = csv {
        write_csv(path, &rows)?;
    }
    let mut human = if table_rows.is_empty() {
        "no rentals in your history".to_string()
    } else {
        table(&["RENTAL", "ROLE", "STATE", "BILLED", "TO PROVIDER", "FEE", "REFUNDED"], &table_rows)
    };
    if let Some(path) = csv {
        human.push_str(&format!("\nwrote {} row(s) to {}", rows.len(), path.display()));
    }
    Ok(Output::new(json!({ "rentals": items, "csv": csv.map(|p| p.display().to_string()) }), human))
}
