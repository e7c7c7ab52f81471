//! Async RPC client on top of the pure builders. One struct, its methods grouped by job:
//! [`send`](self::send) (fees, confirmation, safe resends), [`reads`](self::reads) (accounts and
//! filtered queries), [`history`](self::history) (receipts from transactions) and
//! [`deploy`](self::deploy) (loader-v3 upload).
use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;

use crate::error::{SdkError, SdkResult};
use crate::pda::PROGRAM_ID;

mod deploy;
mod history;
mod reads;
mod send;

/// How often confirmations and slots are polled.
const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(300);

pub struct EscrowClient {
    rpc: RpcClient,
    url: String,
    commitment: CommitmentConfig,
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
        Self { rpc: RpcClient::new_with_commitment(url.clone(), commitment), url, commitment }
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

    pub(crate) fn rpc_err(e: ClientError) -> SdkError {
        SdkError::Rpc(e.to_string())
    }

    /// Fails with `ProgramNotDeployed` when the cluster has no executable program at the id.
    pub async fn ensure_program_deployed(&self) -> SdkResult<()> {
        let acct =
            self.rpc.get_account_with_commitment(&PROGRAM_ID, self.commitment).await.map_err(Self::rpc_err)?.value;
        match acct {
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
