//! Exactly once for the commands that are not idempotent by themselves (`rent`, `top-up`):
//! a local record of each transaction just before it goes out, keyed by what the user asked
//! for (command, wallet, cluster and arguments). When a run dies or loses the node after
//! sending, the same command run again finds that transaction and reports it (if it
//! landed), waits for it (if it still can land), or sends a new one (once it no longer can),
//! so it never pays twice. Other money commands need no record: their effect is a state
//! change the next run reads from the chain (a settled rental cannot be stopped again).
use std::collections::BTreeMap;
use std::path::PathBuf;

use gpu_escrow_sdk::client::{EscrowClient, Sent};
use gpu_escrow_sdk::{Instruction, Keypair, Pubkey, SdkError, Signature};
use serde::{Deserialize, Serialize};

use crate::error::CliError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub signature: String,
    /// The transaction cannot land once the cluster's block height passes this.
    pub last_valid_block_height: u64,
    /// The rental the attempt opens or tops up.
    pub rental: String,
    /// Unix time of the attempt, for people reading the file.
    pub at: i64,
}

/// What became of an earlier attempt.
pub enum Outcome {
    /// It landed: the operation is done; do not send again.
    Landed(Attempt),
    /// It failed on-chain or can no longer land: nothing happened; send anew.
    Gone,
}

pub struct Pending {
    path: PathBuf,
    entries: BTreeMap<String, Attempt>,
}

fn state_dir() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".local/state")
    })
}

impl Pending {
    pub fn load() -> Result<Self, CliError> {
        let path = state_dir().join("gpu-escrow").join("pending.json");
        let entries = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                CliError::Input(format!("{} is corrupt ({e}); move it aside to continue", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(CliError::Input(format!("cannot read {}: {e}", path.display()))),
        };
        Ok(Pending { path, entries })
    }

    fn save(&self) -> Result<(), CliError> {
        let dir = self.path.parent().expect("file in a directory");
        std::fs::create_dir_all(dir).map_err(|e| CliError::Input(format!("cannot create {}: {e}", dir.display())))?;
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&self.entries).expect("serialises"))
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|e| CliError::Input(format!("cannot write {}: {e}", self.path.display())))
    }

    /// Records an attempt before it is sent (a later run must be able to find it).
    pub fn record(&mut self, intent: &str, attempt: Attempt) -> Result<(), CliError> {
        self.entries.insert(intent.to_string(), attempt);
        self.save()
    }

    pub fn forget(&mut self, intent: &str) -> Result<(), CliError> {
        if self.entries.remove(intent).is_some() {
            self.save()?;
        }
        Ok(())
    }

    /// Sends `ixs`, recording each signed attempt under `intent` just before it goes out.
    /// The record is dropped once the outcome is known, and kept when it is not (the node
    /// stopped answering, the process died): the next run of the same command resolves it.
    pub async fn send(
        &mut self,
        client: &EscrowClient,
        intent: &str,
        rental: &Pubkey,
        ixs: &[Instruction],
        signer: &Keypair,
    ) -> Result<Sent, CliError> {
        let mut unrecorded = None;
        let result = client
            .send_tx(ixs, signer, &[], |sig, last_valid_block_height| {
                let attempt = Attempt {
                    signature: sig.to_string(),
                    last_valid_block_height,
                    rental: rental.to_string(),
                    at: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as i64),
                };
                if let Err(e) = self.record(intent, attempt) {
                    unrecorded.get_or_insert(e);
                }
            })
            .await;
        if let Some(e) = unrecorded {
            eprintln!("warning: {e}; if this run is interrupted, check `status` before running it again");
        }
        match &result {
            // Nothing landed, or it landed and we know it: no one needs to look again.
            Ok(_) | Err(SdkError::Program { .. } | SdkError::Expired { .. }) => self.forget(intent)?,
            _ => {}
        }
        Ok(result?)
    }

    /// Resolves an earlier attempt at `intent`, if there is one: waits while it can still
    /// land, then says whether it did. None when there was no earlier attempt.
    pub async fn resolve(&mut self, client: &EscrowClient, intent: &str) -> Result<Option<Outcome>, CliError> {
        let Some(attempt) = self.entries.get(intent).cloned() else { return Ok(None) };
        let sig: Signature = attempt
            .signature
            .parse()
            .map_err(|_| CliError::Input(format!("{}: bad signature", self.path.display())))?;
        let mut said = false;
        loop {
            match client.signature_outcome(&sig).await? {
                Some(Ok(())) => {
                    self.forget(intent)?;
                    return Ok(Some(Outcome::Landed(attempt)));
                }
                Some(Err(_)) => break,
                None if client.can_still_land(attempt.last_valid_block_height).await? => {
                    if !std::mem::replace(&mut said, true) {
                        eprintln!("an earlier run sent {sig}; waiting to see whether it lands before sending again");
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                // Past its last valid block it can never land; one final look settles a race.
                None => match client.signature_outcome(&sig).await? {
                    Some(Ok(())) => {
                        self.forget(intent)?;
                        return Ok(Some(Outcome::Landed(attempt)));
                    }
                    _ => break,
                },
            }
        }
        self.forget(intent)?;
        Ok(Some(Outcome::Gone))
    }
}

/// The message for a run that lost the node after sending.
pub fn unconfirmed_hint(e: &SdkError, rerun: &str) -> Option<String> {
    match e {
        SdkError::Unconfirmed { .. } => Some(format!(
            "{e}. Run `{rerun}` again once the node answers: it looks this transaction up first and will not pay twice"
        )),
        _ => None,
    }
}
