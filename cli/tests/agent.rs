//! The provider agent as a separate process against a real validator: it activates with
//! sealed access, declines what it cannot provision, keeps SLA rentals alive, claims by
//! policy, tears down once per ended rental, and survives being killed and restarted.
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{wait_until, Market};
use serde_json::Value;

/// The agent process; killed on drop if a test fails halfway.
struct Agent {
    child: Option<Child>,
    log: PathBuf,
}

impl Agent {
    fn start(m: &Market, extra: &[&str]) -> Self {
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

    fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn wait_for_line(&self, needle: &str, timeout: Duration) {
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

    fn count(&self, action: &str) -> usize {
        self.lines().iter().filter(|l| l["action"] == action).count()
    }

    /// SIGTERM, then the exit status: the agent drains and exits cleanly.
    fn terminate(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        child.wait().unwrap()
    }

    /// SIGKILL: the agent dies without any chance to clean up.
    fn kill(mut self) {
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

/// A provision script that records each run and prints connection details (including the
/// renter's SSH key, to prove it arrived), and a teardown script that records each run.
fn scripts(dir: &Path) -> (String, String) {
    let provision = dir.join("provision.sh");
    std::fs::write(
        &provision,
        r#"#!/bin/sh
set -e
echo "$GPU_ESCROW_RENTAL" >> "$(dirname "$0")/provisioned"
printf '%s' "$GPU_ESCROW_SSH_KEY" > "$(dirname "$0")/ssh-key-$GPU_ESCROW_RENTAL"
printf '{"host":"203.0.113.7","port":2222,"user":"gpu","host_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestHostKey","note":"%s GB"}' "$GPU_ESCROW_VRAM_GB"
"#,
    )
    .unwrap();
    let teardown = dir.join("teardown.sh");
    std::fs::write(
        &teardown,
        "#!/bin/sh\necho \"$GPU_ESCROW_RENTAL $GPU_ESCROW_END_REASON\" >> \"$(dirname \"$0\")/torn-down\"\n",
    )
    .unwrap();
    for f in [&provision, &teardown] {
        Command::new("chmod").arg("+x").arg(f).status().unwrap();
    }
    (provision.display().to_string(), teardown.display().to_string())
}

fn file_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl renter@laptop";

#[test]
fn the_agent_activates_and_only_the_renter_can_open_the_access_line() {
    let m = Market::new(&[]);
    let n = &m.net;
    let dir = n.home.path();
    let (provision, teardown) = scripts(dir);
    let agent = Agent::start(&m, &["--provision", &provision, "--teardown", &teardown]);

    let key = dir.join("id_ed25519.pub");
    std::fs::write(&key, SSH_KEY).unwrap();
    let started = Instant::now();
    let rent = n.json(
        &m.renter,
        &["rent", &m.listing, "--hours", "0.1", "--yes", "--ssh-key", key.to_str().unwrap(), "--wait", "60"],
    );
    let activation = started.elapsed();
    let rental = rent["rental"].as_str().unwrap().to_string();
    assert_eq!(rent["state"], "Active", "{rent}");
    assert_eq!(rent["access"]["ssh_command"], "ssh -p 2222 gpu@203.0.113.7");
    eprintln!("rent to access line: {activation:?}");
    // The provision command saw the renter's key, without its comment.
    let seen = std::fs::read_to_string(dir.join(format!("ssh-key-{rental}"))).unwrap();
    assert_eq!(seen, SSH_KEY.rsplit_once(' ').unwrap().0);

    let access = n.run(&m.renter, &["access", &rental]).success().stdout;
    assert!(
        access.contains("ssh -p 2222 gpu@203.0.113.7")
            && access.contains("known_hosts: [203.0.113.7]:2222 ssh-ed25519"),
        "{access}"
    );
    assert!(access.contains("24 GB"), "the listing's spec reached the provision command: {access}");
    let third = n.wallet("third", 1);
    let e = n.run(&third, &["access", &rental]).failure();
    assert!(e.stderr.contains("only the renter"), "{}", e.stderr);

    // The renter stops: the agent tears the machine down, once.
    n.run(&m.renter, &["stop", &rental]).success();
    let torn = dir.join("torn-down");
    wait_until("teardown", Duration::from_secs(30), || !file_lines(&torn).is_empty());
    std::thread::sleep(Duration::from_secs(3)); // a few more ticks: still once
    assert_eq!(file_lines(&torn), vec![format!("{rental} settled")]);
    assert_eq!(file_lines(&dir.join("provisioned")), vec![rental.clone()]);

    let status = n.json(&m.provider, &["agent", "status", "--state-dir", dir.join("agent-state").to_str().unwrap()]);
    assert_eq!((status["running"].as_bool(), status["counters"]["activations"].as_u64()), (Some(true), Some(1)));
    assert_eq!(status["counters"]["teardowns"], 1);
    assert!(agent.terminate().success(), "SIGTERM drains and exits 0");
    let status = n.json(&m.provider, &["agent", "status", "--state-dir", dir.join("agent-state").to_str().unwrap()]);
    assert_eq!(status["running"], false);
}

#[test]
fn a_failing_or_oversized_provision_declines_and_refunds_in_full() {
    let m = Market::new(&[]);
    let n = &m.net;
    let dir = n.home.path();
    let fail = dir.join("fail.sh");
    std::fs::write(&fail, "#!/bin/sh\necho 'no GPU free' >&2\nexit 1\n").unwrap();
    Command::new("chmod").arg("+x").arg(&fail).status().unwrap();
    let agent = Agent::start(&m, &["--provision", fail.to_str().unwrap()]);
    let e = n.run(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "60"]).failure();
    assert!(e.stderr.contains("declined") && e.stderr.contains("refunded in full"), "{}", e.stderr);
    assert_eq!(m.balance(&m.renter), 100_000_000);
    assert!(agent
        .lines()
        .iter()
        .any(|l| l["action"] == "provision-failed" && l["error"].as_str().unwrap().contains("no GPU free")));
    drop(agent);

    // Details too long to fit on-chain are refused before anything is sent, and declined.
    let big = dir.join("big.sh");
    std::fs::write(&big, format!("#!/bin/sh\nprintf '{{\"host\":\"h\",\"note\":\"{}\"}}'\n", "x".repeat(2_000)))
        .unwrap();
    Command::new("chmod").arg("+x").arg(&big).status().unwrap();
    let _agent = Agent::start(&m, &["--provision", big.to_str().unwrap()]);
    let e = n.run(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "60"]).failure();
    assert!(e.stderr.contains("declined"), "{}", e.stderr);
    assert_eq!(m.balance(&m.renter), 100_000_000);
}

#[test]
fn sla_heartbeats_keep_billing_until_the_agent_dies_and_a_restart_never_activates_twice() {
    let m = Market::new(&["--heartbeat-interval", "6"]);
    let n = &m.net;
    let dir = n.home.path();
    let (provision, teardown) = scripts(dir);
    let args = ["--provision", provision.as_str(), "--teardown", teardown.as_str(), "--claim-min", "0.05"];
    let agent = Agent::start(&m, &args);
    let rental = n.json(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "60"])["rental"]
        .as_str()
        .unwrap()
        .to_string();
    let status = |r: &str| n.json(&m.renter, &["status", r]);
    // Beyond two SLA intervals the rental still bills: heartbeats are arriving.
    std::thread::sleep(Duration::from_secs(14));
    let s = status(&rental);
    assert_eq!((s["state"].as_str(), s["expired"].as_bool()), (Some("Active"), Some(false)), "{s}");
    assert!(s["billable_seconds"].as_u64().unwrap() >= 12);
    // Claims follow the policy (0.05 unclaimed): the provider was paid without a claim command.
    wait_until("a policy claim", Duration::from_secs(20), || m.balance(&m.provider) > 0);
    assert!(agent.count("heartbeat") >= 2 && agent.count("claim") >= 1);

    // Kill the agent: billing stops at the last heartbeat plus the interval.
    agent.kill();
    wait_until("the SLA to lapse", Duration::from_secs(20), || status(&rental)["expired"] == true);
    let r = status(&rental);
    let crank = n.wallet("crank", 1);
    let fin = n.json(&crank, &["finalize", &rental]);
    assert_eq!(fin["state"], "Settled");
    let billed = fin["billed_seconds"].as_u64().unwrap();
    assert_eq!(billed, r["billable_seconds"].as_u64().unwrap(), "billed exactly up to the SLA cut");
    assert!(billed >= 14, "billed {billed}");
    let paid = fin["provider_paid"]["amount"].as_u64().unwrap() + fin["fee_paid"]["amount"].as_u64().unwrap();
    assert_eq!(paid, billed * 10_000, "36/h is 10_000 base units per second, billed to the SLA cut");

    // A rental opened while the agent is down is served once it is back; a restart in the
    // middle of serving neither provisions nor activates again.
    let other = m.rent("0.1");
    let agent = Agent::start(&m, &args);
    wait_until("activation after restart", Duration::from_secs(30), || status(&other)["state"] == "Active");
    // The restarted agent also tears down the rental that ended while it was dead.
    wait_until("teardown of the finalized rental", Duration::from_secs(30), || {
        file_lines(&dir.join("torn-down")).contains(&format!("{rental} settled"))
    });
    agent.kill();
    let agent = Agent::start(&m, &args);
    std::thread::sleep(Duration::from_secs(5));
    let provisioned = file_lines(&dir.join("provisioned"));
    assert_eq!(provisioned.iter().filter(|r| **r == other).count(), 1, "{provisioned:?}");
    assert_eq!(agent.count("activate"), 0, "nothing to activate after the restart");
    assert_eq!(status(&other)["state"], "Active");
    assert!(agent.terminate().success());
}
