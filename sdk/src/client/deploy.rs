//! Deploying a program binary through the upgradeable loader (loader-v3).
use solana_keypair::Keypair;
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;

use super::{EscrowClient, POLL_INTERVAL};
use crate::error::{SdkError, SdkResult};

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
        use crate::deploy;
        let buffer = Keypair::new();
        let rent = |len| self.rpc.get_minimum_balance_for_rent_exemption(len);
        let buffer_rent = rent(deploy::buffer_len(program.len())).await.map_err(Self::rpc_err)?;
        let create =
            deploy::create_buffer(&payer.pubkey(), &buffer.pubkey(), &authority.pubkey(), buffer_rent, program.len())?;
        self.send(&create, payer, &[&buffer]).await?;

        let mut pending = deploy::writes(&buffer.pubkey(), &authority.pubkey(), program);
        for _round in 0..5 {
            if pending.is_empty() {
                break;
            }
            let (blockhash, _) =
                self.rpc.get_latest_blockhash_with_commitment(self.commitment).await.map_err(Self::rpc_err)?;
            let mut sent = Vec::with_capacity(pending.len());
            for ix in &pending {
                let tx = Transaction::new_signed_with_payer(
                    std::slice::from_ref(ix),
                    Some(&payer.pubkey()),
                    &[payer, authority],
                    blockhash,
                );
                let cfg = RpcSendTransactionConfig { skip_preflight: true, ..Default::default() };
                let sig = self.rpc.send_transaction_with_config(&tx, cfg).await.map_err(Self::send_err)?;
                sent.push((sig, ix.clone()));
            }
            // Wait until each write is confirmed or its blockhash has expired.
            let mut unconfirmed = sent;
            let last_valid = self.rpc.get_block_height().await.map_err(Self::rpc_err)? + 150;
            loop {
                let mut still = Vec::new();
                for chunk in unconfirmed.chunks(200) {
                    let sigs: Vec<Signature> = chunk.iter().map(|(s, _)| *s).collect();
                    let st = self.rpc.get_signature_statuses(&sigs).await.map_err(Self::rpc_err)?.value;
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
                if unconfirmed.is_empty() || self.rpc.get_block_height().await.map_err(Self::rpc_err)? > last_valid {
                    break;
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            pending = unconfirmed.into_iter().map(|(_, ix)| ix).collect();
        }
        if !pending.is_empty() {
            return Err(SdkError::Expired { attempts: 5 });
        }
        let program_rent = rent(deploy::program_account_len()).await.map_err(Self::rpc_err)?;
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
        let status = self.rpc.get_signature_statuses(&[*sig]).await.map_err(Self::rpc_err)?.value;
        let Some(Some(st)) = status.first() else { return Ok(()) };
        for _ in 0..100 {
            if self.rpc.get_slot_with_commitment(self.commitment).await.map_err(Self::rpc_err)? > st.slot + 1 {
                return Ok(());
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        Ok(())
    }
}
