//! Sending: fee-payer check, a compute-unit limit from simulation, an optional priority
//! fee, a fresh blockhash, confirmation at the client's commitment, and resends only once
//! the previous attempt can no longer land.
use anchor_lang::solana_program::instruction::Instruction;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_keypair::Keypair;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcSimulateTransactionConfig};
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;

use super::{ComputeUnitPrice, EscrowClient, POLL_INTERVAL};
use crate::batch::{COMPUTE_BUDGET, MAX_TX_COMPUTE_UNITS};
use crate::error::{SdkError, SdkResult};

/// How many fresh blockhashes `send` tries before giving up.
const SEND_ATTEMPTS: u32 = 3;
/// The ceiling of the automatic priority fee: 5 lamports per compute unit.
pub const MAX_AUTO_UNIT_PRICE: u64 = 5_000_000;
const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
/// Compute a simulation can miss. Payouts skip zero transfers, and which amounts are zero
/// depends on the clock, which moves between simulation and execution: a stop simulated in
/// the second its rental was activated pays the provider and the fee nothing, the same stop
/// a second later pays both. Two transfers through the costliest token program (classic
/// SPL Token, about 6,100 CU each when invoked from the escrow; see BENCHMARKS.md) plus
/// the invocation overhead.
const CLOCK_DEPENDENT_TRANSFERS_CU: u64 = 16_000;

/// A confirmed transaction and what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub signature: Signature,
    /// Base fee plus priority fee, in lamports.
    pub fee_lamports: u64,
    pub compute_unit_limit: u32,
    /// Micro-lamports per compute unit.
    pub compute_unit_price: u64,
}

/// Shows as its signature, so code that printed a signature prints a `Sent` unchanged.
impl std::fmt::Display for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.signature.fmt(f)
    }
}

impl Sent {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "signature": self.signature.to_string(),
            "fee_lamports": self.fee_lamports,
            "compute_unit_limit": self.compute_unit_limit,
            "compute_unit_price": self.compute_unit_price,
        })
    }
}

/// How many of `ixs` are escrow instructions whose transfers depend on the clock.
fn clock_dependent_payouts(ixs: &[Instruction]) -> u64 {
    use anchor_lang::Discriminator;
    use gpu_escrow::instruction as i;
    let clocked: [&[u8]; 3] = [i::Claim::DISCRIMINATOR, i::StopRental::DISCRIMINATOR, i::FinalizeRental::DISCRIMINATOR];
    ixs.iter()
        .filter(|ix| ix.program_id == crate::PROGRAM_ID && ix.data.len() >= 8 && clocked.contains(&&ix.data[..8]))
        .count() as u64
}

impl EscrowClient {
    /// Signs with `payer` (fee payer) and `signers`, sends, and waits for `commitment`.
    ///
    /// If the blockhash expires before confirmation, the old transaction can no longer land,
    /// so re-signing with a fresh blockhash cannot execute it twice. Before each resend the
    /// old signature is checked once more, so a late confirmation is reported, not repeated.
    pub async fn send(&self, ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> SdkResult<Signature> {
        self.send_tx(ixs, payer, signers, |_, _| {}).await.map(|s| s.signature)
    }

    /// As [`send`](Self::send), and reports what the transaction cost. `on_signed` is called
    /// with each signature and its blockhash's last valid block height just before that
    /// transaction goes out, so a caller can record what to look for if the process dies or
    /// the node stops answering.
    ///
    /// Unless `ixs` already set one, the compute-unit limit is the simulated use plus 20% and
    /// 1,000, plus room for transfers the simulation skipped (see
    /// `CLOCK_DEPENDENT_TRANSFERS_CU`); the price is this client's [`ComputeUnitPrice`]. A program error found by the
    /// simulation is returned without sending anything.
    pub async fn send_tx(
        &self,
        ixs: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
        mut on_signed: impl FnMut(&Signature, u64),
    ) -> SdkResult<Sent> {
        self.check_fee_balance(payer).await?;
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        let (full, limit, price, simulated) = self.with_budget(ixs, &payer.pubkey()).await?;
        for _attempt in 0..SEND_ATTEMPTS {
            let (blockhash, last_valid) =
                self.rpc.get_latest_blockhash_with_commitment(self.commitment).await.map_err(|e| self.rpc_err(e))?;
            let tx = Transaction::new_signed_with_payer(&full, Some(&payer.pubkey()), &all, blockhash);
            let sig = tx.signatures[0];
            on_signed(&sig, last_valid);
            // A simulated transaction skips the (identical) preflight simulation.
            let cfg = RpcSendTransactionConfig {
                skip_preflight: simulated,
                preflight_commitment: Some(self.commitment.commitment),
                ..Default::default()
            };
            if let Err(e) = self.rpc.send_transaction_with_config(&tx, cfg).await {
                return Err(match e.get_transaction_error() {
                    Some(_) => self.send_err(e),
                    None => self.unconfirmed(sig, "the node did not acknowledge it", &e),
                });
            }
            match self.await_signature(&sig, last_valid).await {
                Ok(Some(done)) => {
                    let fee = LAMPORTS_PER_SIGNATURE * tx.signatures.len() as u64
                        + (price as u128 * limit as u128).div_ceil(1_000_000) as u64;
                    return done.map(|_| Sent {
                        signature: sig,
                        fee_lamports: fee,
                        compute_unit_limit: limit,
                        compute_unit_price: price,
                    });
                }
                Ok(None) => continue,
                Err(SdkError::Unreachable { cause, .. }) => {
                    return Err(SdkError::Unconfirmed {
                        url: self.url.clone(),
                        signature: sig,
                        cause: format!("the node stopped answering while it was confirming: {cause}"),
                    })
                }
                Err(e) => return Err(e),
            }
        }
        Err(SdkError::Expired { attempts: SEND_ATTEMPTS })
    }

    fn unconfirmed(&self, signature: Signature, what: &str, e: &ClientError) -> SdkError {
        let cause = match SdkError::from_client_error(&self.url, e) {
            SdkError::Unreachable { cause, .. } => cause,
            other => other.to_string(),
        };
        SdkError::Unconfirmed { url: self.url.clone(), signature, cause: format!("{what}: {cause}") }
    }

    /// `ixs` with compute-budget instructions in front (unless it has its own), the limit
    /// and price they set, and whether a simulation checked the transaction.
    async fn with_budget(
        &self,
        ixs: &[Instruction],
        payer: &anchor_lang::prelude::Pubkey,
    ) -> SdkResult<(Vec<Instruction>, u32, u64, bool)> {
        let price = self.unit_price_for(ixs).await?;
        let price_ix = (price > 0).then(|| ComputeBudgetInstruction::set_compute_unit_price(price));
        if ixs.iter().any(|i| i.program_id == COMPUTE_BUDGET) {
            // The caller set its own budget (e.g. a measured batch); only add the price.
            let limit = ixs
                .iter()
                .find(|i| i.program_id == COMPUTE_BUDGET && i.data.first() == Some(&2))
                .and_then(|i| i.data.get(1..5))
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes)
                .unwrap_or(200_000);
            let mut full: Vec<Instruction> = price_ix.into_iter().collect();
            full.extend_from_slice(ixs);
            return Ok((full, limit, price, false));
        }
        let probe_limit = ComputeBudgetInstruction::set_compute_unit_limit(MAX_TX_COMPUTE_UNITS as u32);
        let mut probe = vec![probe_limit];
        probe.extend(price_ix.clone());
        probe.extend_from_slice(ixs);
        let used = self.simulate_units(&probe, payer).await?;
        let slack = clock_dependent_payouts(ixs) * CLOCK_DEPENDENT_TRANSFERS_CU;
        let limit = (used.saturating_mul(6) / 5 + 1_000 + slack).min(MAX_TX_COMPUTE_UNITS) as u32;
        let mut full = vec![ComputeBudgetInstruction::set_compute_unit_limit(limit)];
        full.extend(price_ix);
        full.extend_from_slice(ixs);
        Ok((full, limit, price, true))
    }

    /// Compute units the transaction uses now; a program error is returned as such.
    async fn simulate_units(&self, ixs: &[Instruction], payer: &anchor_lang::prelude::Pubkey) -> SdkResult<u64> {
        let tx = Transaction::new_with_payer(ixs, Some(payer));
        let cfg = RpcSimulateTransactionConfig {
            sig_verify: false,
            replace_recent_blockhash: true,
            commitment: Some(self.commitment),
            ..Default::default()
        };
        let sim = self.rpc.simulate_transaction_with_config(&tx, cfg).await.map_err(|e| self.rpc_err(e))?.value;
        if let Some(err) = sim.err {
            let err: solana_transaction_error::TransactionError = err.into();
            return Err(SdkError::from_transaction_error(&err, sim.logs.unwrap_or_default()));
        }
        Ok(sim.units_consumed.unwrap_or(200_000))
    }

    /// The price to pay for `ixs`: the client's fixed price, or for `Auto` the 75th
    /// percentile of recent non-zero prices paid to write the same accounts.
    async fn unit_price_for(&self, ixs: &[Instruction]) -> SdkResult<u64> {
        match self.unit_price {
            ComputeUnitPrice::None => Ok(0),
            ComputeUnitPrice::Fixed(p) => Ok(p),
            ComputeUnitPrice::Auto => {
                let mut writable: Vec<_> =
                    ixs.iter().flat_map(|i| i.accounts.iter().filter(|a| a.is_writable).map(|a| a.pubkey)).collect();
                writable.sort();
                writable.dedup();
                writable.truncate(128);
                let recent = self.rpc.get_recent_prioritization_fees(&writable).await.map_err(|e| self.rpc_err(e))?;
                Ok(auto_price(recent.iter().map(|f| f.prioritization_fee).collect()))
            }
        }
    }

    /// Some(result) once the transaction is final at our commitment; None once it expired.
    async fn await_signature(&self, sig: &Signature, last_valid: u64) -> SdkResult<Option<SdkResult<()>>> {
        loop {
            if let Some(result) = self.signature_outcome(sig).await? {
                return Ok(Some(result));
            }
            let height = self.rpc.get_block_height().await.map_err(|e| self.rpc_err(e))?;
            if height > last_valid {
                // One last look: it may have landed in the final valid block.
                return self.signature_outcome(sig).await;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The outcome of a sent transaction once final at our commitment, else None.
    pub async fn signature_outcome(&self, sig: &Signature) -> SdkResult<Option<SdkResult<()>>> {
        let status = self.rpc.get_signature_statuses(&[*sig]).await.map_err(|e| self.rpc_err(e))?.value;
        if let Some(Some(st)) = status.first() {
            if let Some(err) = &st.err {
                let logs = self.transaction_logs(sig).await;
                return Ok(Some(Err(SdkError::from_transaction_error(err, logs))));
            }
            if st.satisfies_commitment(self.commitment) {
                return Ok(Some(Ok(())));
            }
        }
        Ok(None)
    }

    /// Whether a transaction signed against a blockhash valid through `last_valid` can still land.
    pub async fn can_still_land(&self, last_valid: u64) -> SdkResult<bool> {
        Ok(self.rpc.get_block_height().await.map_err(|e| self.rpc_err(e))? <= last_valid)
    }

    /// Logs of a landed transaction, failed or not (empty if the node no longer has it).
    pub(crate) async fn transaction_logs(&self, sig: &Signature) -> Vec<String> {
        use solana_transaction_status_client_types::option_serializer::OptionSerializer;
        match self.fetch_transaction(sig).await {
            Ok(tx) => match tx.transaction.meta.map(|m| m.log_messages) {
                Some(OptionSerializer::Some(logs)) => logs,
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }

    pub(crate) fn send_err(&self, e: ClientError) -> SdkError {
        if let ErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
            ..
        }) = e.kind()
        {
            let logs = sim.logs.clone().unwrap_or_default();
            if let Some(err) = e.get_transaction_error() {
                return SdkError::from_transaction_error(&err, logs);
            }
        }
        if let Some(err) = e.get_transaction_error() {
            return SdkError::from_transaction_error(&err, Vec::new());
        }
        self.rpc_err(e)
    }

    /// A cheap early check so an empty fee payer gets a clear message instead of an RPC dump.
    async fn check_fee_balance(&self, payer: &Keypair) -> SdkResult<()> {
        const MIN_FEE_LAMPORTS: u64 = 10_000;
        let have = self.rpc.get_balance(&payer.pubkey()).await.map_err(|e| self.rpc_err(e))?;
        if have < MIN_FEE_LAMPORTS {
            return Err(SdkError::InsufficientSol { payer: payer.pubkey(), have, need: MIN_FEE_LAMPORTS });
        }
        Ok(())
    }
}

/// The 75th percentile of the non-zero recent prices, capped; 0 when nobody paid one.
pub fn auto_price(mut recent: Vec<u64>) -> u64 {
    recent.retain(|p| *p > 0);
    if recent.is_empty() {
        return 0;
    }
    recent.sort_unstable();
    recent[(recent.len() * 3 / 4).min(recent.len() - 1)].min(MAX_AUTO_UNIT_PRICE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_automatic_price_follows_recent_payers_within_a_cap() {
        assert_eq!(auto_price(vec![0, 0, 0]), 0, "a quiet cluster pays nothing");
        assert_eq!(auto_price(vec![0, 100, 200, 300, 400]), 400);
        assert_eq!(auto_price((1..=100).collect()), 76);
        assert_eq!(auto_price(vec![u64::MAX]), MAX_AUTO_UNIT_PRICE);
    }
}
