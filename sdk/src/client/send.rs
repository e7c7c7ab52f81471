//! Sending: fee-payer check, fresh blockhash, confirmation at the client's commitment, and
//! resends only once the previous attempt can no longer land.
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;

use super::{EscrowClient, POLL_INTERVAL};
use crate::error::{SdkError, SdkResult};

/// How many fresh blockhashes `send` tries before giving up.
const SEND_ATTEMPTS: u32 = 3;

impl EscrowClient {
    /// Signs with `payer` (fee payer) and `signers`, sends, and waits for `commitment`.
    ///
    /// If the blockhash expires before confirmation, the old transaction can no longer land,
    /// so re-signing with a fresh blockhash cannot execute it twice. Before each resend the
    /// old signature is checked once more, so a late confirmation is reported, not repeated.
    pub async fn send(&self, ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> SdkResult<Signature> {
        self.check_fee_balance(payer).await?;
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        for _attempt in 0..SEND_ATTEMPTS {
            let (blockhash, last_valid) =
                self.rpc.get_latest_blockhash_with_commitment(self.commitment).await.map_err(Self::rpc_err)?;
            let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, blockhash);
            let cfg = RpcSendTransactionConfig {
                preflight_commitment: Some(self.commitment.commitment),
                ..Default::default()
            };
            let sig = self.rpc.send_transaction_with_config(&tx, cfg).await.map_err(Self::send_err)?;
            if let Some(done) = self.await_signature(&sig, last_valid).await? {
                return done.map(|_| sig);
            }
        }
        Err(SdkError::Expired { attempts: SEND_ATTEMPTS })
    }

    /// Some(result) once the transaction is final at our commitment; None once it expired.
    async fn await_signature(&self, sig: &Signature, last_valid: u64) -> SdkResult<Option<SdkResult<()>>> {
        loop {
            let status = self.rpc.get_signature_statuses(&[*sig]).await.map_err(Self::rpc_err)?.value;
            if let Some(Some(st)) = status.first() {
                if let Some(err) = &st.err {
                    let logs = self.transaction_logs(sig).await;
                    return Ok(Some(Err(SdkError::from_transaction_error(err, logs))));
                }
                if st.satisfies_commitment(self.commitment) {
                    return Ok(Some(Ok(())));
                }
            }
            let height = self.rpc.get_block_height().await.map_err(Self::rpc_err)?;
            if height > last_valid {
                return Ok(None);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
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

    pub(crate) fn send_err(e: ClientError) -> SdkError {
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
        Self::rpc_err(e)
    }

    /// A cheap early check so an empty fee payer gets a clear message instead of an RPC dump.
    async fn check_fee_balance(&self, payer: &Keypair) -> SdkResult<()> {
        const MIN_FEE_LAMPORTS: u64 = 10_000;
        let have = self.rpc.get_balance(&payer.pubkey()).await.map_err(Self::rpc_err)?;
        if have < MIN_FEE_LAMPORTS {
            return Err(SdkError::InsufficientSol { payer: payer.pubkey(), have, need: MIN_FEE_LAMPORTS });
        }
        Ok(())
    }
}
