//! A real `solana-test-validator` process for integration tests: loopback only, free ports,
//! a temporary ledger, the program preloaded at genesis with an upgrade authority, health
//! awaited, and always killed on drop.
//!
//! agave 4.2 listens on 0.0.0.0 whatever `--bind-address` says, so `scripts/test` runs the
//! test binaries inside a private network namespace; nothing here is reachable from outside.
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use gpu_escrow_sdk::{Keypair, Pubkey, Signer, PROGRAM_ID};
use solana_account::Account;
use solana_rpc_client::rpc_client::RpcClient;

const PORTS_PER_VALIDATOR: u16 = 60;
static NEXT_SLOT: AtomicU16 = AtomicU16::new(0);

pub struct TestValidator {
    child: Option<Child>,
    /// The command line, without `--reset`, for restarting on the same ledger.
    restart_args: Vec<std::ffi::OsString>,
    _ledger: tempfile::TempDir,
    pub rpc_url: String,
    /// Upgrade authority of the preloaded program (may initialise the config).
    pub authority: Keypair,
    pub authority_path: PathBuf,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The validator binary: $SOLANA_TEST_VALIDATOR, or whatever `scripts/validator-install` provides.
pub fn validator_binary() -> PathBuf {
    if let Ok(p) = std::env::var("SOLANA_TEST_VALIDATOR") {
        return p.into();
    }
    let out = Command::new(repo_root().join("scripts/validator-install"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/validator-install");
    assert!(out.status.success(), "scripts/validator-install failed");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok() && UdpSocket::bind(("127.0.0.1", port)).is_ok()
}

/// A block of ports no other validator of this process uses, each checked free.
fn port_block() -> u16 {
    let salt = (std::process::id() % 97) as u16;
    loop {
        let slot = NEXT_SLOT.fetch_add(1, Ordering::SeqCst);
        let base = 20_000 + ((slot + salt) % 600) * PORTS_PER_VALIDATOR;
        if (base..base + PORTS_PER_VALIDATOR).step_by(1).all(port_free) {
            return base;
        }
    }
}

pub fn write_keypair(path: &Path, k: &Keypair) {
    let bytes: Vec<u8> = k.to_bytes().to_vec();
    std::fs::write(path, serde_json::to_string(&bytes).unwrap()).unwrap();
}

impl TestValidator {
    pub fn start() -> Self {
        Self::start_with(&crate::svm::program_so())
    }

    /// A validator with no gpu-escrow program (for deploy and wrong-cluster tests).
    pub fn start_without_program() -> Self {
        Self::launch(None, &[])
    }

    pub fn start_with(program: &Path) -> Self {
        Self::launch(Some(program), &[])
    }

    /// The program plus accounts present from genesis (e.g. a provider profile with a
    /// reputation that would take real hours of rentals to earn).
    pub fn start_with_accounts(accounts: &[(Pubkey, Account)]) -> Self {
        Self::launch(Some(&crate::svm::program_so()), accounts)
    }

    fn launch(program: Option<&Path>, accounts: &[(Pubkey, Account)]) -> Self {
        let bin = validator_binary();
        let ledger = tempfile::tempdir().unwrap();
        let authority = Keypair::new();
        let authority_path = ledger.path().join("upgrade-authority.json");
        write_keypair(&authority_path, &authority);
        let base = port_block();
        let (rpc, faucet, gossip) = (base, base + 2, base + 3);
        let dynamic = format!("{}-{}", base + 10, base + PORTS_PER_VALIDATOR);
        let log = std::fs::File::create(ledger.path().join("validator.log")).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.args(["--ledger"])
            .arg(ledger.path().join("ledger"))
            .args(["--reset", "--quiet", "--bind-address", "127.0.0.1"])
            .args(["--rpc-port", &rpc.to_string(), "--faucet-port", &faucet.to_string()])
            .args(["--gossip-port", &gossip.to_string(), "--dynamic-port-range", &dynamic]);
        for (i, (address, account)) in accounts.iter().enumerate() {
            let path = ledger.path().join(format!("account-{i}.json"));
            std::fs::write(&path, account_json(address, account).to_string()).unwrap();
            cmd.arg("--account").arg(address.to_string()).arg(path);
        }
        if let Some(program) = program {
            cmd.arg("--upgradeable-program")
                .arg(PROGRAM_ID.to_string())
                .arg(program)
                .arg(authority.pubkey().to_string());
        }
        let restart_args: Vec<std::ffi::OsString> =
            cmd.get_args().filter(|a| *a != "--reset").map(|a| a.to_os_string()).collect();
        let child = cmd
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let v = TestValidator {
            child: Some(child),
            restart_args,
            _ledger: ledger,
            rpc_url: format!("http://127.0.0.1:{rpc}"),
            authority,
            authority_path,
        };
        v.wait_healthy();
        v
    }

    /// Waits until every slot confirmed so far is rooted and returns the root. A cluster
    /// keeps what it confirmed through any one node's crash; a lone node killed before its
    /// root catches up (about 32 slots) may come back without the unrooted slots, which
    /// would test its recovery, not our clients'.
    fn wait_rooted(&self) -> u64 {
        let client = self.rpc();
        let confirmed = client.get_slot().expect("confirmed slot");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let finalized = client.get_slot_with_commitment(gpu_escrow_sdk::CommitmentConfig::finalized());
            match finalized {
                Ok(rooted) if rooted >= confirmed => return rooted,
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        panic!("slot {confirmed} at {} not rooted after 60 s", self.rpc_url);
    }

    fn wait_healthy(&self) {
        let client = RpcClient::new(self.rpc_url.clone());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if client.get_health().is_ok() && client.get_slot().is_ok_and(|s| s > 0) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(self._ledger.path().join("validator.log")).unwrap_or_default();
        panic!("validator at {} not healthy after 60 s; log:\n{log}", self.rpc_url);
    }

    pub fn rpc(&self) -> RpcClient {
        RpcClient::new_with_commitment(self.rpc_url.clone(), gpu_escrow_sdk::CommitmentConfig::confirmed())
    }

    /// Airdrops SOL and waits until it is visible at `confirmed`.
    pub fn airdrop(&self, to: &Pubkey, lamports: u64) {
        let client = self.rpc();
        let sig = client.request_airdrop(to, lamports).expect("airdrop request");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if client.confirm_transaction(&sig).unwrap_or(false) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("airdrop to {to} did not confirm");
    }

    /// Sends `ixs` signed by `signers` (the first pays) through the SDK's client and waits
    /// for confirmation.
    pub fn send(&self, ixs: &[gpu_escrow_sdk::Instruction], signers: &[&Keypair]) {
        let client = gpu_escrow_sdk::client::EscrowClient::new(
            self.rpc_url.clone(),
            gpu_escrow_sdk::CommitmentConfig::confirmed(),
        );
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(client.send(ixs, signers[0], &signers[1..])).unwrap_or_else(|e| panic!("send: {e}"));
    }

    /// Freezes or thaws `owner`'s associated token account, signed by the mint's freeze
    /// authority, as a stablecoin issuer can at any time.
    pub fn set_frozen(&self, owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey, authority: &Keypair, frozen: bool) {
        use anchor_spl::token_2022::spl_token_2022::instruction as t;
        let ata = gpu_escrow_sdk::pda::ata(owner, mint, token_program);
        let ix = if frozen {
            t::freeze_account(token_program, &ata, mint, &authority.pubkey(), &[])
        } else {
            t::thaw_account(token_program, &ata, mint, &authority.pubkey(), &[])
        };
        self.send(&[ix.unwrap()], &[authority]);
    }

    /// Closes `owner`'s empty associated token account.
    pub fn close_token_account(&self, owner: &Keypair, mint: &Pubkey, token_program: &Pubkey) {
        use anchor_spl::token_2022::spl_token_2022::instruction as t;
        let ata = gpu_escrow_sdk::pda::ata(&owner.pubkey(), mint, token_program);
        let ix = t::close_account(token_program, &ata, &owner.pubkey(), &owner.pubkey(), &[]).unwrap();
        self.send(&[ix], &[owner]);
    }

    pub fn ledger_dir(&self) -> &Path {
        self._ledger.path()
    }
}

impl TestValidator {
    /// Stops the validator (SIGKILL, as a crash would) and keeps its ledger.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the kept ledger, same ports, and waits until it is healthy.
    pub fn restart(&mut self) {
        let rooted = self.wait_rooted();
        self.stop();
        let log = std::fs::OpenOptions::new().append(true).open(self._ledger.path().join("validator.log")).unwrap();
        let child = Command::new(validator_binary())
            .args(&self.restart_args)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("restart the validator");
        self.child = Some(child);
        self.wait_healthy();
        // Healthy is not caught up: for a moment after start the node answers from an
        // older bank, where the accounts made since read as missing.
        self.wait_slot_past(rooted);
    }

    fn wait_slot_past(&self, slot: u64) {
        let client = self.rpc();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if client.get_slot().is_ok_and(|s| s > slot) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("validator at {} still behind slot {slot} after 60 s", self.rpc_url);
    }
}

impl Drop for TestValidator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A rent-exempt account owned by the gpu-escrow program holding `data` (for genesis).
pub fn program_account(data: Vec<u8>) -> Account {
    let lamports = anchor_lang::prelude::Rent::default().minimum_balance(data.len());
    Account { lamports, data, owner: PROGRAM_ID, executable: false, rent_epoch: 0 }
}

/// An account in the JSON form `solana account --output json` writes and `--account` reads.
fn account_json(address: &Pubkey, a: &Account) -> serde_json::Value {
    use base64::Engine;
    serde_json::json!({
        "pubkey": address.to_string(),
        "account": {
            "lamports": a.lamports,
            "data": [base64::engine::general_purpose::STANDARD.encode(&a.data), "base64"],
            "owner": a.owner.to_string(),
            "executable": a.executable,
            "rentEpoch": 0,
            "space": a.data.len(),
        }
    })
}

pub fn read_keypair(path: &Path) -> Keypair {
    let bytes: Vec<u8> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Keypair::try_from(bytes.as_slice()).unwrap()
}
