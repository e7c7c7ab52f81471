//! The RPC transport: the stock HTTP sender (which already waits out a few HTTP 429s),
//! wrapped to retry what busy public endpoints do transiently: refused or reset
//! connections, timeouts, rate limits beyond the stock retries, 5xx answers, and nodes
//! behind the slot this client has already seen ([`ReadFloor`]), with a bounded exponential
//! backoff. Retrying is safe for every request the client makes: reads are idempotent, and
//! a repeated `sendTransaction` carries the same signed transaction (same signature), which
//! the cluster executes at most once.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use solana_rpc_client::http_sender::HttpSender;
use solana_rpc_client::rpc_sender::{RpcSender, RpcTransportStats};
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind, Result};
use solana_rpc_client_api::request::{RpcError, RpcRequest};

use super::read_floor::{ReadFloor, NODE_BEHIND};

/// Attempts per request (so at most `ATTEMPTS - 1` retries) and the first pause; each
/// pause doubles: 0.25 + 0.5 + 1 + 2 + 4 s, about 8 s of waiting before giving up.
pub const ATTEMPTS: u32 = 6;
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Attempts when nothing accepted the connection: a wrong URL or a node that is down rarely
/// comes back within seconds, so the user hears of it after 0.75 s instead of 8.
pub const CONNECT_ATTEMPTS: u32 = 3;

pub struct RetrySender {
    inner: HttpSender,
    floor: Arc<ReadFloor>,
}

impl RetrySender {
    pub fn new(url: String, floor: Arc<ReadFloor>) -> Self {
        RetrySender { inner: HttpSender::new(url), floor }
    }
}

/// How many attempts a failure is worth, counting the first: the node may answer the same
/// request a moment later.
pub fn attempts_for(e: &ClientError) -> u32 {
    match e.kind() {
        ErrorKind::Reqwest(r) if r.is_connect() => CONNECT_ATTEMPTS,
        _ if transient(e) => ATTEMPTS,
        _ => 1,
    }
}

/// Failures worth another try.
pub fn transient(e: &ClientError) -> bool {
    match e.kind() {
        ErrorKind::Reqwest(r) => match r.status() {
            Some(s) => s.as_u16() == 429 || s.is_server_error(),
            None => !r.is_decode() && !r.is_builder(),
        },
        ErrorKind::Io(_) => true,
        ErrorKind::RpcError(RpcError::RpcResponseError { code, .. }) => *code == NODE_BEHIND,
        _ => false,
    }
}

#[async_trait]
impl RpcSender for RetrySender {
    async fn send(&self, request: RpcRequest, params: serde_json::Value) -> Result<serde_json::Value> {
        let params = self.floor.constrain(request, params);
        let mut pause = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match self.inner.send(request, params.clone()).await {
                Err(e) if attempt < attempts_for(&e) => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    attempt += 1;
                }
                Ok(result) => {
                    self.floor.observe(request, &result);
                    return Ok(result);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        self.inner.get_transport_stats()
    }

    fn url(&self) -> String {
        self.inner.url()
    }
}
