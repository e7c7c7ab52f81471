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
