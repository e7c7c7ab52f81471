//! Wakes the agent within a second of any change to the provider's rentals, over the RPC's
//! WebSocket (`programSubscribe` filtered on Rental accounts of this provider). When the
//! subscription drops it reconnects with backoff; meanwhile the agent keeps polling, so a
//! dead socket slows reactions to the poll interval and never stops them.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::Discriminator;
use futures_util::StreamExt;
use gpu_escrow_sdk::accounts::Rental;
use gpu_escrow_sdk::{CommitmentConfig, Pubkey, PROGRAM_ID};
use serde_json::json;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use tokio::sync::mpsc;

use super::log::Log;

pub fn spawn(
    ws_url: String,
    provider: Pubkey,
    commitment: CommitmentConfig,
    wake: mpsc::Sender<()>,
    log: Arc<Log>,
    connected: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        loop {
            match subscribe_once(&ws_url, &provider, commitment, &wake, &log, &connected).await {
                Ok(()) => log.action("subscription-closed", None, json!({ "ws_url": ws_url })),
                Err(e) => log.action(
                    "subscription-failed",
                    None,
                    json!({ "ws_url": ws_url, "error": e, "fallback": "polling" }),
                ),
            }
            connected.store(false, Ordering::Relaxed);
            // Something may have changed while the socket was down.
            let _ = wake.try_send(());
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    })
}

async fn subscribe_once(
    ws_url: &str,
    provider: &Pubkey,
    commitment: CommitmentConfig,
    wake: &mpsc::Sender<()>,
    log: &Log,
    connected: &AtomicBool,
) -> Result<(), String> {
    let client = PubsubClient::new(ws_url).await.map_err(|e| e.to_string())?;
    let filters = vec![
        RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, Rental::DISCRIMINATOR.to_vec())),
        RpcFilterType::Memcmp(Memcmp::new_raw_bytes(Rental::PROVIDER_OFFSET, provider.to_bytes().to_vec())),
    ];
    let cfg = RpcProgramAccountsConfig {
        filters: Some(filters),
        account_config: RpcAccountInfoConfig { commitment: Some(commitment), ..Default::default() },
        ..Default::default()
    };
    let (mut stream, unsubscribe) =
        client.program_subscribe(&PROGRAM_ID, Some(cfg)).await.map_err(|e| e.to_string())?;
    connected.store(true, Ordering::Relaxed);
    log.action("subscribed", None, json!({ "ws_url": ws_url }));
    while stream.next().await.is_some() {
        let _ = wake.try_send(());
    }
    unsubscribe().await;
    Ok(())
}
