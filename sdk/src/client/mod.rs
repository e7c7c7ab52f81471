//! Async RPC client on top of the pure builders. One struct, its methods grouped by job:
//! [`send`](self::send) (fees, confirmation, safe resends), [`reads`](self::reads) (accounts and
//! filtered queries), [`history`](self::history) (receipts from transactions) and
//! [`deploy`](self::deploy) (loader-v3 upload). Under them, [`transport`](self::transport)
//! retries transient failures and [`read_floor`](self::read_floor) keeps every read at or
//! after the newest slot the client has seen.
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;

use crate::error::{SdkError, SdkResult};
use crate::pda::PROGRAM_ID;
use read_floor::ReadFloor;

mod deploy;
mod history;
mod read_floor;
mod reads;
mod send;
mod transport;

pub use deploy::DeployStep;
pub use history::TransactionCost;
pub use reads::RawAccount;
pub use send::{Sent, MAX_AUTO_UNIT_PRICE};

/// How often confirmations and slots are polled.
const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(300);

pub struct EscrowClient {
    rpc: RpcClient,
    url: String,
    commitment: CommitmentConfig,
    unit_price: ComputeUnitPrice,
    floor: Arc<ReadFloor>,
}

/// The priority fee: micro-lamports per compute unit, fixed or read from the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ComputeUnitPrice {
    /// No priority fee (a quiet cluster, or a local validator).
    #[default]
    None,
    Fixed(u64),
    /// The 75th percentile of the non-zero prices recently paid to write the same accounts
    /// (`getRecentPrioritizationFees`), capped at [`send::MAX_AUTO_UNIT_PRICE`].
    Auto,
}

impl std::str::FromStr for ComputeUnitPrice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(ComputeUnitPrice::Auto),
            "0" | "none" => Ok(ComputeUnitPrice::None),
            n => n.parse::<u64>().map(ComputeUnitPrice::Fixed).map_err(|_| {
                format!("compute-unit price `{n}`: give micro-lamports per compute unit (e.g. 10000), or auto")
            }),
        }
    }
}

/// Server-side (memcmp) and client-side filters for `listings`.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    pub mint: Option<Pubkey>,
    pub provider: Option<Pubkey>,
    /// Exact GPU model as stored (e.g. "RTX 4090").
    pub gpu_model: Option<String>,
    pub region: Option<String>,
    pub max_price_per_hour: Option<u64>,
    pub min_vram_gb: Option<u16>,
    /// Minimum average rating × 100 (e.g. 450 = 4.5 stars); unrated providers are excluded.
    pub min_rating_x100: Option<u64>,
    pub include_paused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Renter,
    Provider,
}

impl EscrowClient {
    pub fn new(url: impl Into<String>, commitment: CommitmentConfig) -> Self {
        let url = url.into();
        let config = solana_rpc_client::rpc_client::RpcClientConfig::with_commitment(commitment);
        let floor = Arc::new(ReadFloor::new(commitment));
        let rpc = RpcClient::new_sender(transport::RetrySender::new(url.clone(), floor.clone()), config);
        Self { rpc, url, commitment, unit_price: ComputeUnitPrice::default(), floor }
    }

    /// The slot every account read must have reached (see `client/read_floor.rs`).
    pub fn read_floor(&self) -> u64 {
        self.floor.slot()
    }

    /// Raises that slot, e.g. to one this process saw before it restarted.
    pub fn raise_read_floor(&self, slot: u64) {
        self.floor.raise(slot)
    }

    /// Sets the compute-unit price (priority fee) of every transaction this client sends.
    pub fn with_compute_unit_price(mut self, price: ComputeUnitPrice) -> Self {
        self.unit_price = price;
        self
    }

    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn commitment(&self) -> CommitmentConfig {
        self.commitment
    }

    /// An RPC client error as an `SdkError`: unreachable nodes name this client's URL.
    pub fn rpc_err(&self, e: ClientError) -> SdkError {
        SdkError::from_client_error(&self.url, &e)
    }

    /// Fails with `ProgramNotDeployed` only when the cluster answered and has no executable
    /// program at the id; an unreachable node is `Unreachable`.
    pub async fn ensure_program_deployed(&self) -> SdkResult<()> {
        match self.accounts(&[PROGRAM_ID]).await?.pop().flatten() {
            Some(a) if a.executable => Ok(()),
            _ => Err(SdkError::ProgramNotDeployed { program_id: PROGRAM_ID, url: self.url.clone() }),
        }
    }

    /// History queries accept `confirmed` at the least.
    pub(crate) fn history_commitment(&self) -> CommitmentConfig {
        if self.commitment == CommitmentConfig::processed() {
            CommitmentConfig::confirmed()
        } else {
            self.commitment
        }
    }
}
