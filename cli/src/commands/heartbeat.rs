//! Provider heartbeats: one round, or an agent loop that keeps every SLA alive until Ctrl-C.
use std::time::Duration;

use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::client::Party;
use gpu_escrow_sdk::{batch, ix, Pubkey};
use serde_json::json;

use crate::args::HeartbeatArgs;
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::Output;

async fn targets(ctx: &Context, a: &HeartbeatArgs, me: &Pubkey) -> Result<Vec<Pubkey>, CliError> {
    if !a.rentals.is_empty() {
        return a.rentals.iter().map(|r| parse_pubkey(r, "rental")).collect();
    }
    if !a.all {
        return Err(CliError::Input("give RENTAL addresses or --all".into()));
    }
    let now = ctx.client.cluster_time().await?;
    Ok(ctx
        .client
        .rentals_of(Party::Provider, me)
        .await?
        .into_iter()
        .filter(|(_, r)| {
            r.state == RentalState::Active && r.heartbeat_interval_secs > 0 && now < r.meter().billing_stops_at()
        })
        .map(|(k, _)| k)
        .collect())
}

pub async fn run(ctx: &Context, a: HeartbeatArgs) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let mut rounds = 0u64;
    let mut sent = 0usize;
    let mut sigs = Vec::new();
    loop {
        let rentals = targets(ctx, &a, &me).await?;
        let groups = rentals.iter().map(|r| vec![ix::heartbeat(&me, r)]).collect::<Vec<_>>();
        for tx in batch::pack(groups, &me) {
            match ctx.client.send(&tx, &signer, &[]).await {
                Ok(sig) => {
                    sent += tx.iter().filter(|i| i.program_id == gpu_escrow_sdk::PROGRAM_ID).count();
                    sigs.push(sig.to_string());
                }
                // In a loop, one failed batch (e.g. a rental just ended) must not stop the agent.
                Err(e) if a.every.is_some() => eprintln!("heartbeat batch failed: {e}"),
                Err(e) => return Err(e.into()),
            }
        }
        rounds += 1;
        let Some(every) = a.every else { break };
        if a.rounds.is_some_and(|n| rounds >= n) {
            break;
        }
        if ctx.format == crate::output::Format::Human {
            eprintln!("round {rounds}: {} rental(s) kept alive; next in {every}s (Ctrl-C to stop)", rentals.len());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(every)) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    let j = json!({ "action": "heartbeat", "rounds": rounds, "heartbeats": sent, "signatures": sigs });
    Ok(Output::new(j, format!("heartbeat: {sent} sent in {rounds} round(s)")))
}
