//! Deploying a program binary through the upgradeable loader (loader-v3).
use solana_keypair::Keypair;
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;

use super::{EscrowClient, POLL_INTERVAL};
use crate::error::{SdkError, SdkResult};

/// How far a deployment has got, for progress displays (the SDK draws nothing itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployStep {
    /// The buffer account exists; `writes` write transactions will fill it.
    BufferCreated { writes: usize },
    /// `sent` of this round's `pending` write transactions are sent.
    Sending { sent: usize, pending: usize },
    /// `confirmed` of the `writes` write transactions are confirmed.
    Written { confirmed: usize, writes: usize },
    /// `pending` writes expired unconfirmed and are sent again (round 2 to 5).
    Resending { pending: usize, round: u32 },
    /// The buffer is complete; deploying it as the program.
    Deploying,
}

impl EscrowClient {
    /// Deploys `program` (the .so bytes) at `program_keypair`'s address through the
    /// upgradeable loader, with `authority` as upgrade authority. Write transactions are sent
    /// together and confirmed in bulk; missing ones are resent (writes are idempotent).
    pub async fn deploy_program(
        &self,
        payer: &Keypair,
        program_keypair: &Keypair,
        authority: &Keypair,
        program: &[u8],
    ) -> SdkResult<Signature> {
        self.deploy_program_with_progress(payer, program_keypair, authority, program, &|_| {}).await
    }

    /// [`deploy_program`](Self::deploy_program), calling `progress` at each step and after
    /// every poll of the write confirmations.
    pub async fn deploy_program_with_progress(
        &self,
        payer: &Keypair,
        program_keypair: &Keypair,
        authority: &Keypair,
        program: &[u8],
        progress: &(dyn Fn(DeployStep) + Send + Sync),
    ) -> SdkResult<Signature> {
        use crate::deploy;
        let buffer = Keypair::new();
        let rent = |len| self.rpc.get_minimum_balance_for_rent_exemption(len);
        let buffer_rent = rent(deploy::buffer_len(program.len())).await.map_err(|e| self.rpc_err(e))?;
        let create =
            deploy::create_buffer(&payer.pubkey(), &buffer.pubkey(), &authority.pubkey(), buffer_rent, program.len())?;
        self.send(&create, payer, &[&buffer]).await?;

        let mut pending = deploy::writes(&buffer.pubkey(), &authority.pubkey(), program);
        let writes = pending.len();
        progress(DeployStep::BufferCreated { writes });
        for round in 0..5 {
            if pending.is_empty() {
                break;
            }
            if round > 0 {
                progress(DeployStep::Resending { pending: pending.len(), round: round + 1 });
            }
            let (blockhash, _) =
                self.rpc.get_latest_blockhash_with_commitment(self.commitment).await.map_err(|e| self.rpc_err(e))?;
            let mut sent = Vec::with_capacity(pending.len());
            for ix in &pending {
                let tx = Transaction::new_signed_with_payer(
                    std::slice::from_ref(ix),
                    Some(&payer.pubkey()),
                    &[payer, authority],
                    blockhash,
                );
                let cfg = RpcSendTransactionConfig { skip_preflight: true, ..Default::default() };
                let sig = self.rpc.send_transaction_with_config(&tx, cfg).await.map_err(|e| self.send_err(e))?;
                sent.push((sig, ix.clone()));
                progress(DeployStep::Sending { sent: sent.len(), pending: pending.len() });
            }
            // Wait until each write is confirmed or its blockhash has expired.
            let mut unconfirmed = sent;
            let last_valid = self.rpc.get_block_height().await.map_err(|e| self.rpc_err(e))? + 150;
            loop {
                let mut still = Vec::new();
                for chunk in unconfirmed.chunks(200) {
                    let sigs: Vec<Signature> = chunk.iter().map(|(s, _)| *s).collect();
                    let st = self.rpc.get_signature_statuses(&sigs).await.map_err(|e| self.rpc_err(e))?.value;
                    for ((sig, ix), status) in chunk.iter().zip(st) {
                        match status {
                            Some(s) if s.err.is_some() => {
                                return Err(SdkError::from_transaction_error(s.err.as_ref().unwrap(), vec![]));
                            }
                            Some(s) if s.satisfies_commitment(self.commitment) => {}
                            _ => still.push((*sig, ix.clone())),
                        }
                    }
                }
                unconfirmed = still;
                progress(DeployStep::Written { confirmed: writes - unconfirmed.len(), writes });
                if unconfirmed.is_empty()
                    || self.rpc.get_block_height().await.map_err(|e| self.rpc_err(e))? > last_valid
                {
                    break;
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            pending = unconfirmed.into_iter().map(|(_, ix)| ix).collect();
        }
        if !pending.is_empty() {
            return Err(SdkError::Expired { attempts: 5 });
        }
        progress(DeployStep::Deploying);
        let program_rent = rent(deploy::program_account_len()).await.map_err(|e| self.rpc_err(e))?;
        let ixs = deploy::deploy(
            &payer.pubkey(),
            &program_keypair.pubkey(),
            &buffer.pubkey(),
            &authority.pubkey(),
            program_rent,
            program.len(),
        )?;
        let sig = self.send(&ixs, payer, &[program_keypair, authority]).await?;
        self.wait_past_slot_of(&sig).await?;
        Ok(sig)
    }

    /// A program deployed in slot S can be invoked from slot S + 1; wait until then so the
    /// caller's next transaction (e.g. config init) does not fail with UnsupportedProgramId.
    async fn wait_past_slot_of(&self, sig: &Signature) -> SdkResult<()> {
        let status = self.rpc.get_signature_statuses(&[*sig]).await.map_err(|e| self.rpc_err(e))?.value;
        let Some(Some(st)) = status.first() else { return Ok(()) };
        for _ in 0..100 {
            if self.rpc.get_slot_with_commitment(self.commitment).await.map_err(|e| self.rpc_err(e))? > st.slot + 1 {
                return Ok(());
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        Ok(())
    }
}
