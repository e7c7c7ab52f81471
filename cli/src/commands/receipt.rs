//! Receipts and history from on-chain events, with CSV export for expense and tax records.
use std::path::Path;

use gpu_escrow_sdk::receipts::Receipt;
use gpu_escrow_sdk::Pubkey;
use serde_json::json;

use super::Token;
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::{duration, table, Output};

fn time(t: Option<i64>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

pub async fn receipt(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let key = parse_pubkey(rental, "rental")?;
    ctx.client.ensure_program_deployed().await?;
    let r = ctx.client.receipt(&key).await?;
    let token = Token::load(ctx, &r.mint.parse::<Pubkey>().expect("receipt mint")).await?;
    let human = format!(
        "receipt for rental {}\nstate:       {}\nrenter:      {}\nprovider:    {}\ntoken:       {} ({})\nprice:       {}/h (fee {} bps)\nopened:      {}\nstarted:     {}\nended:       {}\nbilled:      {}\ndeposited:   {}\nto provider: {}\nfee:         {}\nrefunded:    {}\nrating:      {}\ntransactions:\n  {}",
        r.rental, r.state, r.renter, r.provider, token.label, r.mint, token.show(r.price_per_hour), r.fee_bps,
        r.opened_at, time(r.activated_at), time(r.ended_at), duration(r.billed_seconds), token.show(r.deposited),
        token.show(r.provider_paid), token.show(r.fee_paid), token.show(r.refunded),
        r.rating.map(|x| x.to_string()).unwrap_or_else(|| "-".into()), r.signatures.join("\n  ")
    );
    let mut j = serde_json::to_value(&r).expect("receipt serialises");
    j["decimals"] = json!(token.decimals);
    Ok(Output::new(j, human))
}

fn csv_field(s: &str) -> String {
    if s.contains(',') || s.contains('"') || s.contains('\n') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

const CSV_HEADER: &str = "rental,role,state,mint,token,decimals,price_per_hour,fee_bps,opened_at,started_at,ended_at,billed_seconds,deposited,paid_to_provider,fee,refunded,signatures";

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
            time(r.activated_at),
            time(r.ended_at),
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
        let mut j = serde_json::to_value(&r).expect("receipt serialises");
        j["role"] = json!(role);
        j["decimals"] = json!(token.decimals);
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
