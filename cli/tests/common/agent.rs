//! The provider agent as a separate process: started against the test market's validator,
//! its JSON log lines read back, stopped with SIGTERM (drain) or SIGKILL (crash).
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Market;

/// The agent process; killed on drop if a test fails halfway.
pub struct Agent {
    child: Option<Child>,
    log: PathBuf,
}

impl Agent {
    pub fn start(m: &Market, extra: &[&str]) -> Self {
        let dir = m.net.home.path();
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let log = dir.join(format!("agent-{}.log", RUNS.fetch_add(1, Ordering::SeqCst)));
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("gpu-escrow"));
        cmd.env("HOME", dir)
            .args(["-u", &m.net.v.rpc_url, "-k"])
            .arg(&m.provider)
            .args(["--output", "json", "agent", "run", "--poll", "1", "--state-dir"])
            .arg(dir.join("agent-state"))
            .args(extra)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::inherit());
        let child = cmd.spawn().expect("start the agent");
        let agent = Agent { child: Some(child), log };
        agent.wait_for_line("\"action\":\"start\"", Duration::from_secs(30));
        agent
    }

    pub fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn wait_for_line(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if std::fs::read_to_string(&self.log).unwrap_or_default().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "agent log has no {needle} after {timeout:?}:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    pub fn count(&self, action: &str) -> usize {
        self.lines().iter().filter(|l| l["action"] == action).count()
    }

    /// SIGTERM, then the exit status: the agent drains and exits cleanly.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        child.wait().unwrap()
    }

    /// SIGKILL: the agent dies without any chance to clean up.
    pub fn kill(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Wrapped SOL's mint, and the token program it belongs to.
pub const SOL: &str = "So11111111111111111111111111111111111111112";
pub const TOKEN_PROGRAM: gpu_escrow_sdk::Pubkey =
    gpu_escrow_sdk::Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

/// A market priced in SOL: the admin accepts wrapped SOL, the provider (5 SOL) lists a GPU
/// at 3.6 SOL per hour (its wrapped-SOL account opened, empty, by the listing), and the
/// renter has 5 SOL and nothing wrapped.
pub fn sol_market() -> Market {
    use super::{pubkey, Net};
    use gpu_escrow_sdk::Signer;
    let net = Net::start();
    let admin = net.home.path().join("admin.json");
    std::fs::copy(&net.v.authority_path, &admin).unwrap();
    net.v.airdrop(&net.v.authority.pubkey(), 50_000_000_000);
    let arbiter = net.wallet("arbiter", 1);
    let treasury = net.wallet("treasury", 0);
    let provider = net.wallet("provider", 5);
    let renter = net.wallet("renter", 5);
    net.run(&admin, &["config", "init", "--arbiter", &pubkey(&arbiter), "--treasury", &pubkey(&treasury)]).success();
    net.run(&admin, &["mint", "add", SOL]).success();
    net.run(&provider, &["provider", "register"]).success();
    let listing = net.json(&provider, &["listing", "create", "--mint", SOL, "--price", "3.6", "--gpu", "RTX 4090"]);
    let listing = listing["listing"].as_str().unwrap().to_string();
    Market { net, admin, provider, renter, mint: SOL.into(), listing }
}

/// `agent status --output json` for the agent's state directory in the test's HOME.
pub fn status(m: &Market) -> Value {
    let state = m.net.home.path().join("agent-state");
    m.net.json(&m.provider, &["agent", "status", "--state-dir", state.to_str().unwrap()])
}

/// The same, as people read it.
pub fn status_text(m: &Market) -> String {
    let state = m.net.home.path().join("agent-state");
    m.net.run(&m.provider, &["agent", "status", "--state-dir", state.to_str().unwrap()]).success().stdout
}
