//! What the agent has done on this machine that the chain cannot tell: which rentals it
//! provisioned (and with which connection details), and which it has torn down. The chain
//! decides every money action; this file only keeps local side effects from repeating or
//! being forgotten across restarts. Written atomically (temp file, then rename).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gpu_escrow_sdk::access::ConnectionDetails;
use serde::{Deserialize, Serialize};

use super::inventory::allocator::HeldSlot;
use super::probe::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The provision command was started; if the agent died here it runs again (commands
    /// must be idempotent per rental).
    Provisioning,
    /// Provisioned; the details are kept so a restart activates with them, not re-provisions.
    Provisioned,
    /// Active on-chain (or found running at start): torn down once it ends.
    Serving,
    TornDown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ConnectionDetails>,
    pub renter: String,
    pub listing: String,
    /// The slot this rental holds, assigned before anything was provisioned and released
    /// only once its teardown is confirmed (phase TornDown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<HeldSlot>,
    /// Where the agent checks the rental's machine (kept for its whole life).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Target>,
}

impl Entry {
    pub fn new(phase: Phase, renter: String, listing: String) -> Self {
        Entry { phase, details: None, renter, listing, slot: None, probe: None }
    }

    /// Whether this rental still holds what it was given (its slot, its machine).
    pub fn is_live(&self) -> bool {
        self.phase != Phase::TornDown
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub rentals_served: u64,
    pub activations: u64,
    pub declines: u64,
    pub heartbeats: u64,
    pub claims: u64,
    pub finalizes: u64,
    /// Rentals the agent stopped because their machine stayed broken.
    #[serde(default)]
    pub stops: u64,
    pub teardowns: u64,
    /// Rentals whose share held for the provider the agent withdrew into its account.
    #[serde(default)]
    pub withdrawals: u64,
    /// Times the agent closed the provider's wrapped-SOL account to its wallet.
    #[serde(default)]
    pub unwraps: u64,
    pub failures: u64,
}

/// The highest slot the agent has read at, on the cluster with this genesis hash: after a
/// restart its reads start there, so a node behind cannot show it an older chain (where a
/// live rental might not exist yet and would be torn down).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFloor {
    pub genesis_hash: String,
    pub slot: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Journal {
    pub rentals: BTreeMap<String, Entry>,
    pub counters: Counters,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_floor: Option<ReadFloor>,
    #[serde(skip)]
    path: PathBuf,
}

impl Journal {
    pub fn load(dir: &Path) -> Result<Self, String> {
        create_private_dir(dir)?;
        let path = dir.join("journal.json");
        let mut j: Journal = match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| format!("journal {} is corrupt: {e}", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Journal::default(),
            Err(e) => return Err(format!("cannot read journal {}: {e}", path.display())),
        };
        j.path = path;
        Ok(j)
    }

    pub fn save(&self) -> Result<(), String> {
        write_atomic(&self.path, &serde_json::to_vec_pretty(self).expect("journal serialises"))
    }

    pub fn phase(&self, rental: &str) -> Option<Phase> {
        self.rentals.get(rental).map(|e| e.phase)
    }

    pub fn set(&mut self, rental: &str, entry: Entry) -> Result<(), String> {
        self.rentals.insert(rental.to_string(), entry);
        self.save()
    }

    pub fn set_phase(&mut self, rental: &str, phase: Phase) -> Result<(), String> {
        if let Some(e) = self.rentals.get_mut(rental) {
            e.phase = phase;
            if phase != Phase::Provisioned {
                e.details = None; // connection secrets are kept only as long as needed
            }
        }
        self.save()
    }

    /// The saved read floor, if it was saved on the cluster with `genesis_hash` (a reset
    /// local validator starts again from slot 0 under a new genesis).
    pub fn read_floor_on(&self, genesis_hash: &str) -> Option<u64> {
        self.read_floor.as_ref().filter(|f| f.genesis_hash == genesis_hash).map(|f| f.slot)
    }

    /// Records `slot` as the read floor if it is higher; saves only then.
    pub fn raise_read_floor(&mut self, genesis_hash: &str, slot: u64) -> Result<(), String> {
        if self.read_floor_on(genesis_hash).is_some_and(|s| s >= slot) {
            return Ok(());
        }
        self.read_floor = Some(ReadFloor { genesis_hash: genesis_hash.to_string(), slot });
        self.save()
    }

    /// Forgets torn-down rentals whose accounts are gone: nothing can happen to them again.
    pub fn forget(&mut self, rental: &str) -> Result<(), String> {
        self.rentals.remove(rental);
        self.save()
    }
}

/// Creates `dir` (and its parents) readable by the agent's user only, and tightens it if it
/// exists: the state holds connection secrets and per-rental host keys.
pub fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create state dir {}: {e}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot restrict state dir {}: {e}", dir.display()))
}

/// Replaces `path` with `bytes` in one step (temp file, fsync, rename), readable by the
/// agent's user only, so a crash leaves the old or the new content and never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_survives_a_restart_and_drops_secrets_once_used() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::load(dir.path()).unwrap();
        let details =
            ConnectionDetails { host: Some("h".into()), password: Some("secret".into()), ..Default::default() };
        let e = Entry { details: Some(details), ..Entry::new(Phase::Provisioned, "r".into(), "l".into()) };
        j.set("R1", e.clone()).unwrap();
        j.counters.activations = 3;
        j.save().unwrap();
        let mut again = Journal::load(dir.path()).unwrap();
        assert_eq!((again.rentals["R1"].clone(), again.counters.activations), (e, 3));
        again.set_phase("R1", Phase::Serving).unwrap();
        let text = std::fs::read_to_string(dir.path().join("journal.json")).unwrap();
        assert!(!text.contains("secret"), "{text}");
        again.forget("R1").unwrap();
        assert!(Journal::load(dir.path()).unwrap().rentals.is_empty());
    }

    #[test]
    fn the_state_dir_and_journal_are_private_to_the_agents_user() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let j = Journal::load(&dir).unwrap();
        j.save().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "an existing world-readable dir is tightened");
        assert_eq!(mode(&dir.join("journal.json")), 0o600);
        let fresh = root.path().join("a/b");
        Journal::load(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
    }

    #[test]
    fn the_read_floor_survives_a_restart_on_the_same_cluster_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::load(dir.path()).unwrap();
        j.raise_read_floor("G1", 500).unwrap();
        j.raise_read_floor("G1", 400).unwrap();
        let again = Journal::load(dir.path()).unwrap();
        assert_eq!(again.read_floor_on("G1"), Some(500), "saved, and never lowered");
        assert_eq!(again.read_floor_on("G2"), None, "a reset validator starts from slot 0 again");
        let mut reset = again;
        reset.raise_read_floor("G2", 3).unwrap();
        assert_eq!(Journal::load(dir.path()).unwrap().read_floor_on("G2"), Some(3));
    }
}
