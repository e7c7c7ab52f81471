//! Reliability against a real validator with faults: rate limits, a node that vanishes
//! right after accepting a transaction, a validator restart mid-rental, a Token-2022
//! stablecoin end to end, and the deploy path of `migrations/deploy.sh`. Every test checks
//! each party's balance to the base unit.
mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{pubkey, wait_until, Market, Net};
use gpu_escrow_tests::proxy::{Mode, Proxy};
use gpu_escrow_tests::validator::TestValidator;
use serde_json::Value;

#[test]
fn rate_limited_requests_are_retried_with_backoff() {
    let m = Market::new(&[]);
    let proxy = Proxy::start(&m.net.v.rpc_url);
    // The endpoint answers 429 to the next 12 requests: more than the stock client waits out.
    proxy.set(Mode::TooManyRequests(12));
    let out = m.net.run_at(&proxy.url, &m.renter, &["--output", "json", "market"]).success();
    assert_eq!(out.json()["listings"].as_array().unwrap().len(), 1);
    assert_eq!(proxy.throttled.load(std::sync::atomic::Ordering::SeqCst), 12);
    // A money command through the same throttling lands once.
    proxy.set(Mode::TooManyRequests(8));
    let rent = m.net.run_at(
        &proxy.url,
        &m.renter,
        &["--output", "json", "rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "0"],
    );
    rent.success();
    assert_eq!(m.balance(&m.renter), 100_000_000 - 3_600_000);
}

#[test]
fn a_node_that_vanishes_after_sending_never_makes_a_rerun_pay_twice() {
    let m = Market::new(&[]);
    let n = &m.net;
    let proxy = Proxy::start(&n.v.rpc_url);
    let rent = ["rent", m.listing.as_str(), "--hours", "0.1", "--yes", "--wait", "0"];
    proxy.set(Mode::DropAfterSend);
    let e = n.run_at(&proxy.url, &m.renter, &rent).failure();
    assert!(e.stderr.contains("may or may not have landed") && e.stderr.contains(&proxy.url), "{}", e.stderr);
    assert!(e.stderr.contains("again"), "says how to resume: {}", e.stderr);
    // It did land (the proxy forwarded it), so the re-run must find it, not open another.
    wait_until("the open to land", Duration::from_secs(20), || m.balance(&m.renter) == 100_000_000 - 3_600_000);
    proxy.set(Mode::Pass);
    let mut args = vec!["--output", "json"];
    args.extend_from_slice(&rent);
    let again = n.run_at(&proxy.url, &m.renter, &args).success().json();
    let rental = again["rental"].as_str().unwrap().to_string();
    assert_eq!(m.balance(&m.renter), 100_000_000 - 3_600_000, "paid once");
    let rentals = n.json(&m.renter, &["rentals"]);
    assert_eq!(rentals["rentals"].as_array().unwrap().len(), 1, "one rental: {rentals}");
    assert_eq!(n.json(&m.renter, &["status", &rental])["state"], "Funded");

    // The same for a top-up.
    let top_up = ["top-up", rental.as_str(), "0.5"];
    proxy.set(Mode::DropAfterSend);
    n.run_at(&proxy.url, &m.renter, &top_up).failure();
    wait_until("the top-up to land", Duration::from_secs(20), || m.balance(&m.renter) == 100_000_000 - 4_100_000);
    proxy.set(Mode::Pass);
    n.run_at(&proxy.url, &m.renter, &top_up).success();
    assert_eq!(m.balance(&m.renter), 100_000_000 - 4_100_000, "topped up once");
    assert_eq!(n.json(&m.renter, &["status", &rental])["deposited"]["amount"], 4_100_000);

    // Commands that change a rental's state are safe to re-run by nature: a stop that
    // landed without its confirmation is reported as done, not attempted again.
    n.run(&m.provider, &["activate", &rental]).success();
    proxy.set(Mode::DropAfterSend);
    n.run_at(&proxy.url, &m.renter, &["stop", &rental]).failure();
    proxy.set(Mode::Pass);
    wait_until("the stop to land", Duration::from_secs(20), || {
        n.json(&m.renter, &["status", &rental])["state"] == "Settled"
    });
    let again = n.run_at(&proxy.url, &m.renter, &["stop", &rental]).success().stdout;
    assert!(again.contains("already"), "{again}");
}

/// The agent process, killed when the test ends however it ends.
struct AgentProcess(std::process::Child);

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The provider agent, as a separate process talking to `url` (see cli/tests/agent.rs for the
/// full set).
fn agent(m: &Market, dir: &Path, url: &str) -> AgentProcess {
    let provision = dir.join("provision.sh");
    std::fs::write(&provision, "#!/bin/sh\necho \"$GPU_ESCROW_RENTAL\" >> \"$(dirname \"$0\")/provisioned\"\nprintf '{\"host\":\"10.0.0.1\"}'\n").unwrap();
    Command::new("chmod").arg("+x").arg(&provision).status().unwrap();
    let log = std::fs::File::create(dir.join("agent.log")).unwrap();
    let errors = std::fs::File::create(dir.join("agent.err")).unwrap();
    let child = Command::new(assert_cmd::cargo::cargo_bin("gpu-escrow"))
        .env("HOME", dir)
        .args(["-u", url, "-k"])
        .arg(&m.provider)
        .args(["--output", "json", "agent", "run", "--poll", "1", "--provision"])
        .arg(&provision)
        .args(["--teardown", "true", "--state-dir"])
        .arg(dir.join("agent-state"))
        .stdout(log)
        .stderr(errors)
        .spawn()
        .unwrap();
    AgentProcess(child)
}

fn count(dir: &Path, action: &str) -> usize {
    std::fs::read_to_string(dir.join("agent.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["action"] == action)
        .count()
}

#[test]
fn a_validator_restart_mid_rental_loses_nothing_and_the_agent_resumes() {
    let mut m = Market::new(&[]);
    let dir = m.net.home.path().to_path_buf();
    let _agent = agent(&m, &dir, &m.net.v.rpc_url);
    let rent = m.net.json(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "60"]);
    let rental = rent["rental"].as_str().unwrap().to_string();
    assert_eq!(rent["state"], "Active");
    std::thread::sleep(Duration::from_secs(2));

    // The validator dies (ledger kept) and comes back on the same ledger.
    m.net.v.restart();
    let s = m.net.json(&m.renter, &["status", &rental]);
    assert_eq!((s["state"].as_str(), s["deposited"]["amount"].as_u64()), (Some("Active"), Some(3_600_000)));
    m.net.wait_billed(&m.renter, &rental);
    let claimed = m.net.json(&m.provider, &["claim", &rental]);
    assert!(claimed["claims"].as_array().unwrap().len() == 1);
    let stop = m.net.json(&m.renter, &["stop", &rental]);
    let (paid, fee, refunded) = (
        stop["provider_paid"]["amount"].as_u64().unwrap(),
        stop["fee_paid"]["amount"].as_u64().unwrap(),
        stop["refunded"]["amount"].as_u64().unwrap(),
    );
    assert_eq!(paid + fee + refunded, 3_600_000, "conservation");
    assert_eq!(m.balance(&m.provider), paid);
    assert_eq!(m.balance(&m.net.home.path().join("treasury.json")), fee);
    assert_eq!(m.balance(&m.renter), 100_000_000 - 3_600_000 + refunded);
    // The agent rode out the outage: one provision, one activation, one teardown.
    wait_until("the agent's teardown", Duration::from_secs(30), || count(&dir, "teardown") == 1);
    assert_eq!((count(&dir, "provision"), count(&dir, "activate")), (1, 1));
    let provisioned = std::fs::read_to_string(dir.join("provisioned")).unwrap();
    assert_eq!(provisioned.lines().collect::<Vec<_>>(), vec![rental.as_str()]);
}

#[test]
fn a_node_behind_the_open_does_not_make_rent_call_the_rental_missing() {
    let m = Market::new(&[]);
    let dir = m.net.home.path().to_path_buf();
    let _agent = agent(&m, &dir, &m.net.v.rpc_url);
    let proxy = Proxy::start(&m.net.v.rpc_url);
    proxy.set(Mode::LagAfterSend(4));
    let args = ["--output", "json", "rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "60"];
    let rent = m.net.run_at(&proxy.url, &m.renter, &args).success();
    let rent: Value = serde_json::from_str(&rent.stdout).unwrap();
    assert_eq!(rent["state"], "Active", "{rent}");
    assert_eq!(proxy.lagged.load(std::sync::atomic::Ordering::SeqCst), 4, "every lagging read was made");
    assert_eq!(m.balance(&m.renter), 100_000_000 - 3_600_000, "one rental, one deposit");
}

#[test]
fn a_node_behind_never_makes_the_agent_tear_down_a_live_rental() {
    let m = Market::new(&[]);
    let dir = m.net.home.path().to_path_buf();
    let proxy = Proxy::start(&m.net.v.rpc_url);
    let _agent = agent(&m, &dir, &proxy.url);
    let rent = m.net.json(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "60"]);
    assert_eq!(rent["state"], "Active");
    let rental = rent["rental"].as_str().unwrap().to_string();
    // The agent's next reads reach a node that has none of its rentals yet.
    proxy.set(Mode::Lagging(12));
    wait_until("the agent to meet the lagging node", Duration::from_secs(60), || proxy.mode() == Mode::Lagging(0));
    // A stale answer would be acted on within the round that read it; give it a few rounds.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(count(&dir, "teardown"), 0, "a live rental is never torn down");
    assert_eq!(m.net.json(&m.renter, &["status", &rental])["state"], "Active");
    // When it really ends, the agent tears it down once.
    m.net.run(&m.renter, &["stop", &rental]).success();
    wait_until("the agent's teardown", Duration::from_secs(30), || count(&dir, "teardown") == 1);
    assert_eq!((count(&dir, "provision"), count(&dir, "activate")), (1, 1));
}

#[test]
fn a_token_2022_stablecoin_works_end_to_end() {
    let m = Market::token_2022();
    let n = &m.net;
    let rental = m.rent("0.1");
    n.run(&m.provider, &["activate", &rental, "--ssh", "u@10.0.0.1"]).success();
    assert_eq!(n.json(&m.renter, &["access", &rental])["ssh_command"], "ssh u@10.0.0.1");
    n.wait_billed(&m.renter, &rental);
    n.run(&m.provider, &["claim", &rental]).success();
    n.run(&m.renter, &["top-up", &rental, "0.5"]).success();
    let stop = n.json(&m.renter, &["stop", &rental]);
    let paid = stop["provider_paid"]["amount"].as_u64().unwrap();
    let fee = stop["fee_paid"]["amount"].as_u64().unwrap();
    let refunded = stop["refunded"]["amount"].as_u64().unwrap();
    assert_eq!(paid + fee + refunded, 4_100_000);
    assert_eq!(m.balance(&m.provider), paid);
    assert_eq!(m.balance(&n.home.path().join("treasury.json")), fee);
    assert_eq!(m.balance(&m.renter), 100_000_000 - 4_100_000 + refunded);
    n.run(&m.renter, &["close", &rental]).success();
    assert_eq!(n.json(&m.renter, &["receipt", &rental])["state"], "Settled (closed)");

    // A stop right after activation: often simulated before a second is billed (no
    // provider or fee transfer) and executed after it (both), so its compute limit must
    // cover transfers the simulation did not see.
    for _ in 0..3 {
        let quick = m.rent("0.1");
        n.run(&m.provider, &["activate", &quick, "--ssh", "u@10.0.0.1"]).success();
        n.run(&m.renter, &["stop", &quick]).success();
    }
}

#[test]
fn the_deploy_script_brings_up_a_cluster_that_runs_the_whole_lifecycle() {
    // A validator without the program, as devnet or mainnet would be: only the URL differs.
    let n = Net::with(TestValidator::start_without_program());
    let admin = n.wallet("admin", 100);
    let (arbiter, treasury) = (n.wallet("arbiter", 1), n.wallet("treasury", 1));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(root.join("migrations/deploy.sh"))
        .env("HOME", n.home.path())
        .env("GPU_ESCROW_CLI", assert_cmd::cargo::cargo_bin("gpu-escrow"))
        .args(["-u", &n.v.rpc_url, "-k"])
        .arg(&admin)
        .args(["--arbiter", &pubkey(&arbiter), "--treasury", &pubkey(&treasury)])
        .output()
        .unwrap();
    assert!(out.status.success(), "deploy.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("initialising the config"));
    let config = n.json(&admin, &["config", "show"]);
    assert_eq!(
        (config["admin"].as_str(), config["treasury"].as_str()),
        (Some(pubkey(&admin).as_str()), Some(pubkey(&treasury).as_str()))
    );

    let m = Market::on_deployed(n, admin);
    let rental = m.rent("0.1");
    m.net.run(&m.provider, &["activate", &rental]).success();
    std::thread::sleep(Duration::from_secs(2));
    let stop = m.net.json(&m.renter, &["stop", &rental]);
    let refunded = stop["refunded"]["amount"].as_u64().unwrap();
    assert_eq!(m.balance(&m.renter), 100_000_000 - 3_600_000 + refunded);
    m.net.run(&m.renter, &["close", &rental]).success();
}
