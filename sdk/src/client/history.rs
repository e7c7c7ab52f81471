//! History: signatures of an address, transaction logs, and receipts rebuilt from events.
use anchor_lang::prelude::Pubkey;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_signature::Signature;

use super::{EscrowClient, Party};
use crate::error::{SdkError, SdkResult};

impl EscrowClient {
    /// Every signature that touched `address`, oldest first (pages through all of them).
    pub async fn signatures_for(&self, address: &Pubkey) -> SdkResult<Vec<String>> {
        use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
        const PAGE: usize = 1_000;
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let cfg = GetConfirmedSignaturesForAddress2Config {
                before,
                until: None,
                limit: Some(PAGE),
                commitment: Some(self.history_commitment()),
            };
            let page =
                self.rpc.get_signatures_for_address_with_config(address, cfg).await.map_err(|e| self.rpc_err(e))?;
            let n = page.len();
            before = page.last().and_then(|s| s.signature.parse().ok());
            all.extend(page.into_iter().map(|s| s.signature));
            if n < PAGE || before.is_none() {
                break;
            }
        }
        all.reverse();
        Ok(all)
    }

    pub(crate) async fn fetch_transaction(
        &self,
        sig: &Signature,
    ) -> Result<solana_transaction_status_client_types::EncodedConfirmedTransactionWithStatusMeta, ClientError> {
        use solana_rpc_client_api::config::RpcTransactionConfig;
        use solana_transaction_status_client_types::UiTransactionEncoding;
        let cfg = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Json),
            commitment: Some(self.history_commitment()),
            max_supported_transaction_version: Some(0),
        };
        self.rpc.get_transaction_with_config(sig, cfg).await
    }

    // ------------------------------------------------------------ receipts

    /// Logs of a successful transaction; None for failed or unknown ones.
    pub async fn successful_logs(&self, sig: &str) -> SdkResult<Option<Vec<String>>> {
        use solana_transaction_status_client_types::option_serializer::OptionSerializer;
        let sig: Signature = sig.parse().map_err(|_| SdkError::InvalidInput(format!("bad signature {sig}")))?;
        let tx = self.fetch_transaction(&sig).await.map_err(|e| self.rpc_err(e))?;
        let Some(meta) = tx.transaction.meta else { return Ok(None) };
        if meta.err.is_some() {
            return Ok(None);
        }
        Ok(match meta.log_messages {
            OptionSerializer::Some(logs) => Some(logs),
            _ => None,
        })
    }

    /// A rental's receipt, rebuilt from its transactions' events (works after closing).
    pub async fn receipt(&self, rental: &Pubkey) -> SdkResult<crate::receipts::Receipt> {
        let mut receipt = crate::receipts::Receipt::default();
        for sig in self.signatures_for(rental).await? {
            let Some(logs) = self.successful_logs(&sig).await? else { continue };
            let events: Vec<_> =
                crate::receipts::parse_logs(&logs).into_iter().filter(|e| e.rental() == *rental).collect();
            if events.is_empty() {
                continue;
            }
            events.iter().for_each(|e| receipt.apply(e));
            receipt.signatures.push(sig);
        }
        if receipt.rental.is_empty() {
            return Err(SdkError::AccountNotFound { what: "rental history for", address: *rental });
        }
        Ok(receipt)
    }

    /// Every rental `wallet` took part in (as renter or provider), open or closed, oldest first.
    pub async fn history(&self, wallet: &Pubkey) -> SdkResult<Vec<crate::receipts::Receipt>> {
        let mut rentals: Vec<Pubkey> = Vec::new();
        for party in [Party::Renter, Party::Provider] {
            rentals.extend(self.rentals_of(party, wallet).await?.into_iter().map(|(k, _)| k));
        }
        for sig in self.signatures_for(wallet).await? {
            let Some(logs) = self.successful_logs(&sig).await? else { continue };
            for e in crate::receipts::parse_logs(&logs) {
                rentals.push(e.rental());
            }
        }
        rentals.sort();
        rentals.dedup();
        let mut out = Vec::new();
        for r in rentals {
            let receipt = self.receipt(&r).await?;
            if receipt.renter == wallet.to_string() || receipt.provider == wallet.to_string() {
                out.push(receipt);
            }
        }
        out.sort_by_key(|r| r.opened_at);
        Ok(out)
    }

    /// What a landed transaction cost: its fee in lamports and its compute units.
    pub async fn transaction_cost(&self, sig: &Signature) -> SdkResult<TransactionCost> {
        use solana_transaction_status_client_types::option_serializer::OptionSerializer;
        let tx = self.fetch_transaction(sig).await.map_err(|e| self.rpc_err(e))?;
        let meta = tx.transaction.meta.ok_or_else(|| SdkError::Decode(format!("transaction {sig} has no status")))?;
        let compute_units = match meta.compute_units_consumed {
            OptionSerializer::Some(u) => u,
            _ => 0,
        };
        Ok(TransactionCost { fee_lamports: meta.fee, compute_units })
    }
}

/// What a landed transaction cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TransactionCost {
    pub fee_lamports: u64,
    pub compute_units: u64,
}
