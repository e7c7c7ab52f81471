//! The CLI test harness: the built `gpu-escrow` binary run as a separate process against a
//! real local validator, with wallets in a temporary HOME and a ready market.
#![allow(dead_code)] // each test crate uses its own part of the harness
pub mod agent;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use gpu_escrow_sdk::{Keypair, Pubkey, Signer};
use gpu_escrow_tests::validator::{write_keypair, TestValidator};
use serde_json::Value;

pub struct Net {
    pub v: TestValidator,
    pub home: tempfile::TempDir,
}

pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
    pub fn success(self) -> Self {
        assert!(self.ok, "command failed:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
    pub fn failure(self) -> Self {
        assert!(!self.ok, "command should have failed:\nstdout: {}", self.stdout);
        self
    }
}

impl Net {
    pub fn start() -> Self {
        Self::with(TestValidator::start())
    }

    /// Waits until the cluster's clock has billed `rental` a second the provider has not
    /// claimed yet. Sleeping is not enough: a validator starved of CPU (several share two
    /// cores in CI) can let wall time pass while its clock stands still.
    pub fn wait_billed(&self, wallet: &Path, rental: &str) {
        wait_until(&format!("a billed second on {rental}"), std::time::Duration::from_secs(30), || {
            self.json(wallet, &["status", rental])["claimable"]["amount"].as_u64().is_some_and(|a| a > 0)
        });
    }

    pub fn with(v: TestValidator) -> Self {
        Net { v, home: tempfile::tempdir().unwrap() }
    }

    /// A new wallet file, funded with SOL unless `sol` is 0.
    pub fn wallet(&self, name: &str, sol: u64) -> PathBuf {
        let path = self.home.path().join(format!("{name}.json"));
        let k = Keypair::new();
        write_keypair(&path, &k);
        if sol > 0 {
            self.v.airdrop(&k.pubkey(), sol * 1_000_000_000);
        }
        path
    }

    pub fn run(&self, keypair: &Path, args: &[&str]) -> Run {
        self.run_at(&self.v.rpc_url, keypair, args)
    }

    /// As `run`, against another RPC URL (e.g. a fault-injecting proxy in front of the validator).
    pub fn run_at(&self, url: &str, keypair: &Path, args: &[&str]) -> Run {
        let out = Command::cargo_bin("gpu-escrow")
            .unwrap()
            // An empty HOME keeps the developer's own Solana CLI config out of the tests.
            .env("HOME", self.home.path())
            .args(["-u", url, "-k"])
            .arg(keypair)
            .args(args)
            .output()
            .unwrap();
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    pub fn json(&self, keypair: &Path, args: &[&str]) -> Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        self.run(keypair, &all).success().json()
    }
}

pub fn pubkey(path: &Path) -> String {
    gpu_escrow_tests::validator::read_keypair(path).pubkey().to_string()
}

/// Admin config, a 6-decimal test token, a provider with one listing, a renter with 100 tokens.
pub struct Market {
    pub net: Net,
    pub admin: PathBuf,
    pub provider: PathBuf,
    pub renter: PathBuf,
    pub mint: String,
    pub listing: String,
}

impl Market {
    pub fn new(extra_listing_args: &[&str]) -> Self {
        Self::build(Net::start(), None, extra_listing_args)
    }

    /// A market whose provider's profile already holds `rating_sum` over `rating_count`
    /// ratings at genesis (earning them for real takes 10 billed minutes each).
    pub fn with_rated_provider(rating_sum: u64, rating_count: u32) -> Self {
        use anchor_lang::AccountSerialize;
        let provider = Keypair::new();
        let (address, bump) =
            Pubkey::find_program_address(&[b"provider", provider.pubkey().as_ref()], &gpu_escrow_sdk::PROGRAM_ID);
        let profile = gpu_escrow::state::Provider {
            authority: provider.pubkey(),
            registered_at: 0,
            listings_created: 0,
            rentals_completed: rating_count as u64,
            seconds_billed: 3_600 * rating_count as u64,
            no_shows: 0,
            disputes_lost: 0,
            rating_sum,
            rating_count,
            heartbeats: 0,
            bump,
        };
        let mut data = Vec::new();
        profile.try_serialize(&mut data).unwrap();
        let v = TestValidator::start_with_accounts(&[(address, gpu_escrow_tests::validator::program_account(data))]);
        Self::build(Net::with(v), Some(provider), &[])
    }

    /// A market paid in a Token-2022 stablecoin.
    pub fn token_2022() -> Self {
        Self::build_with(Net::start(), None, &[], &["--decimals", "6", "--token-2022"])
    }

    pub fn build(net: Net, registered_provider: Option<Keypair>, extra_listing_args: &[&str]) -> Self {
        Self::build_with(net, registered_provider, extra_listing_args, &["--decimals", "6"])
    }

    pub fn build_with(
        net: Net,
        registered_provider: Option<Keypair>,
        extra_listing_args: &[&str],
        mint_args: &[&str],
    ) -> Self {
        let admin = net.home.path().join("admin.json");
        std::fs::copy(&net.v.authority_path, &admin).unwrap();
        net.v.airdrop(&net.v.authority.pubkey(), 50_000_000_000);
        let arbiter = net.wallet("arbiter", 1);
        let treasury = net.wallet("treasury", 0);
        let provider = match &registered_provider {
            Some(k) => {
                let path = net.home.path().join("provider.json");
                write_keypair(&path, k);
                net.v.airdrop(&k.pubkey(), 5_000_000_000);
                path
            }
            None => net.wallet("provider", 5),
        };
        let renter = net.wallet("renter", 5);
        net.run(
            &admin,
            &["config", "init", "--arbiter", &pubkey(&arbiter), "--treasury", &pubkey(&treasury), "--fee-bps", "250"],
        )
        .success();
        Self::populate(net, admin, provider, renter, registered_provider.is_some(), extra_listing_args, mint_args)
    }

    /// A market on a cluster where `migrations/deploy.sh` already deployed the program and
    /// initialised the config with `admin`.
    pub fn on_deployed(net: Net, admin: PathBuf) -> Self {
        let provider = net.wallet("provider", 5);
        let renter = net.wallet("renter", 5);
        Self::populate(net, admin, provider, renter, false, &[], &["--decimals", "6"])
    }

    /// A test token accepted for payment, a funded renter, and a provider with one listing.
    fn populate(
        net: Net,
        admin: PathBuf,
        provider: PathBuf,
        renter: PathBuf,
        registered: bool,
        extra_listing_args: &[&str],
        mint_args: &[&str],
    ) -> Self {
        let mut create = vec!["dev", "create-mint"];
        create.extend_from_slice(mint_args);
        let mint = net.json(&admin, &create)["mint"].as_str().unwrap().to_string();
        net.run(&admin, &["mint", "add", &mint]).success();
        net.run(&admin, &["dev", "mint-to", &mint, &pubkey(&renter), "100"]).success();
        if !registered {
            net.run(&provider, &["provider", "register"]).success();
        }
        let mut args = vec![
            "listing",
            "create",
            "--mint",
            &mint,
            "--price",
            "36",
            "--gpu",
            "RTX 4090",
            "--vram",
            "24",
            "--region",
            "eu-west",
            "--capacity",
            "3",
        ];
        args.extend_from_slice(extra_listing_args);
        let listing = net.json(&provider, &args)["listing"].as_str().unwrap().to_string();
        Market { net, admin, provider, renter, mint, listing }
    }

    pub fn balance(&self, owner: &Path) -> u64 {
        self.net.json(owner, &["dev", "balance", &self.mint, &pubkey(owner)])["balance"]["amount"].as_u64().unwrap()
    }

    /// Rents without waiting for activation (the test plays the provider by hand).
    pub fn rent(&self, hours: &str) -> String {
        self.net.json(&self.renter, &["rent", &self.listing, "--hours", hours, "--yes", "--wait", "0"])["rental"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Writes an executable script `name` with `body` into `dir`.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Polls `f` every 250 ms until it holds; panics naming `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("timed out waiting for {what}");
}
