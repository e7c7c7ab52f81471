//! The provider agent as a separate process against a real validator: it activates with
//! sealed access, declines what it cannot provision, keeps SLA rentals alive, claims by
//! policy, tears down once per ended rental, and survives being killed and restarted.
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::agent::Agent;
use common::{wait_until, Market};
use serde_json::Value;

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

/// An agent config serving `listing` from `slots` (one GPU and one port each) of declared
/// RTX 4090s, with `backend` as the `[[serve]]` table's body.
fn slot_config(dir: &Path, listing: &str, backend: &str, ports: &[u16], gpu_name: &str) -> String {
    let mut toml = String::new();
    for (i, _) in ports.iter().enumerate() {
        toml.push_str(&format!("[[gpus]]\nuuid = \"GPU-test-{i}\"\nname = \"{gpu_name}\"\nmemory_mib = 24564\n\n"));
    }
    toml.push_str(&format!("[[serve]]\nlisting = \"{listing}\"\n{backend}\n"));
    for (i, port) in ports.iter().enumerate() {
        toml.push_str(&format!(
            "[[serve.slots]]\ngpus = [\"GPU-test-{i}\"]\nssh_port = {port}\ncpus = 2\nmemory_gb = 8\n\n"
        ));
    }
    let path = dir.join("agent.toml");
    std::fs::write(&path, toml).unwrap();
    path.display().to_string()
}

#[test]
fn the_agent_refuses_slots_that_disagree_with_the_listing_or_the_host() {
    let m = Market::new(&[]);
    let n = &m.net;
    let dir = n.home.path();
    let command = "backend = \"command\"\n[serve.command]\nprovision = \"true\"\nprobe = false";
    let state = dir.join("agent-state");
    let run = |config: &str| {
        n.run(&m.provider, &["agent", "run", "--agent-config", config, "--state-dir", state.to_str().unwrap()])
    };
    // The listing's capacity is 3: two slots would sell a third rental nothing.
    let e = run(&slot_config(dir, &m.listing, command, &[2201, 2202], "NVIDIA GeForce RTX 4090")).failure();
    assert!(e.stderr.contains("has capacity 3 on-chain but 2 slot(s)"), "{}", e.stderr);
    // The listing advertises RTX 4090s; the host's GPUs are something else.
    let e = run(&slot_config(dir, &m.listing, command, &[2201, 2202, 2203], "NVIDIA A100-SXM4-40GB")).failure();
    assert!(e.stderr.contains("advertises RTX 4090 but slot 0's GPU GPU-test-0 is a NVIDIA A100"), "{}", e.stderr);
    // Two slots may not share a port.
    let e = run(&slot_config(dir, &m.listing, command, &[2201, 2201, 2203], "NVIDIA GeForce RTX 4090")).failure();
    assert!(e.stderr.contains("port 2201 is in both"), "{}", e.stderr);
}

#[test]
fn each_rental_holds_its_own_slot_until_its_teardown_is_confirmed() {
    let m = Market::new(&[]);
    let n = &m.net;
    let dir = n.home.path();
    let provision = common::script(
        dir,
        "provision.sh",
        r#"#!/bin/sh
set -e
echo "$GPU_ESCROW_RENTAL $GPU_ESCROW_SLOT $GPU_ESCROW_SLOT_GPUS $GPU_ESCROW_SLOT_SSH_PORT" >> "$(dirname "$0")/provisioned"
printf '{"host":"127.0.0.1","port":%s,"note":"%s"}' "$GPU_ESCROW_SLOT_SSH_PORT" "$GPU_ESCROW_SLOT_GPUS"
"#,
    );
    let teardown = common::script(
        dir,
        "teardown.sh",
        "#!/bin/sh\necho \"$GPU_ESCROW_RENTAL $GPU_ESCROW_SLOT_GPUS\" >> \"$(dirname \"$0\")/torn-down\"\n",
    );
    let backend = format!(
        "backend = \"command\"\n[serve.command]\nprovision = \"{}\"\nteardown = \"{}\"\nprobe = false",
        provision.display(),
        teardown.display()
    );
    let config = slot_config(dir, &m.listing, &backend, &[2201, 2202, 2203], "NVIDIA GeForce RTX 4090");
    let agent = Agent::start(&m, &["--agent-config", &config]);
    let renter2 = n.wallet("renter2", 5);
    n.run(&m.admin, &["dev", "mint-to", &m.mint, &common::pubkey(&renter2), "100"]).success();
    let rent = |w: &Path| {
        let r = n.json(w, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "60"]);
        assert_eq!(r["state"], "Active", "{r}");
        r["rental"].as_str().unwrap().to_string()
    };
    let (a, b) = (rent(&m.renter), rent(&renter2));
    let provisioned = file_lines(&dir.join("provisioned"));
    assert_eq!(provisioned, vec![format!("{a} 0 GPU-test-0 2201"), format!("{b} 1 GPU-test-1 2202")]);
    let access = n.json(&renter2, &["access", &b]);
    assert_eq!((access["port"].as_u64(), access["note"].as_str()), (Some(2202), Some("GPU-test-1")));

    let state = dir.join("agent-state");
    let slots = || {
        n.json(&m.provider, &["agent", "status", "--state-dir", state.to_str().unwrap()])["listings"][0]["slots"]
            .clone()
    };
    let held: Vec<Value> = slots().as_array().unwrap().iter().map(|s| s["held_by"].clone()).collect();
    assert_eq!(held, vec![Value::from(a.as_str()), Value::from(b.as_str()), Value::Null]);
    let human = n.run(&m.provider, &["agent", "status", "--state-dir", state.to_str().unwrap()]).success().stdout;
    assert!(human.contains(&format!("0  port 2201  GPUs GPU-test-0  held by {a} since")), "{human}");
    assert!(human.contains("2  port 2203  GPUs GPU-test-2  free"), "{human}");

    // A stops: its slot is freed once the teardown ran, and the next rental gets slot 0 again.
    n.run(&m.renter, &["stop", &a]).success();
    wait_until("the teardown of A", Duration::from_secs(30), || slots()[0]["held_by"].is_null());
    assert_eq!(file_lines(&dir.join("torn-down")), vec![format!("{a} GPU-test-0")]);
    let c = rent(&m.renter);
    assert!(file_lines(&dir.join("provisioned")).contains(&format!("{c} 0 GPU-test-0 2201")));
    assert!(agent.terminate().success());
}

#[test]
fn a_machine_that_fails_its_access_check_is_declined_and_the_renter_refunded() {
    let m = Market::new(&[]);
    let n = &m.net;
    let dir = n.home.path();
    // A short activation window, so the agent's checks run out within the test.
    n.run(&m.admin, &["config", "update", "--activation-timeout", "40"]).success();
    // Nothing listens on the slot's port: the details are a promise nobody can use.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let provision = format!(r#"printf '{{"host":"127.0.0.1","port":{port}}}'"#);
    let backend = format!("backend = \"command\"\n[serve.command]\nprovision = '''{provision}'''\nprobe = true");
    let ports = [port, port + 1, port + 2];
    let config = slot_config(dir, &m.listing, &backend, &ports, "NVIDIA GeForce RTX 4090");
    let agent = Agent::start(&m, &["--agent-config", &config]);
    let e = n.run(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "90"]).failure();
    assert!(e.stderr.contains("declined") && e.stderr.contains("refunded in full"), "{}", e.stderr);
    assert_eq!(m.balance(&m.renter), 100_000_000, "not a base unit billed");
    // The renter sees the refund as soon as the decline lands; the agent logs it once its
    // own confirmation returns.
    agent.wait_for_line("\"action\":\"decline\"", Duration::from_secs(30));
    let decline = agent.lines().into_iter().find(|l| l["action"] == "decline").expect("a decline line");
    let reason = decline["reason"].as_str().unwrap();
    assert!(reason.contains("did not pass its checks") && reason.contains("refused"), "{reason}");
    let state = dir.join("agent-state");
    wait_until("the slot to be freed", Duration::from_secs(30), || {
        n.json(&m.provider, &["agent", "status", "--state-dir", state.to_str().unwrap()])["listings"][0]["slots"][0]
            ["held_by"]
            .is_null()
    });
}
