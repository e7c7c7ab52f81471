//! The provider agent as a separate process against a real validator: it activates with
//! sealed access, declines what it cannot provision, keeps SLA rentals alive, claims by
//! policy, tears down once per ended rental, survives being killed and restarted, takes what
//! a vault holds for its provider, and unwraps wrapped-SOL payouts unless told to keep them.
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::agent::{Agent, TOKEN_PROGRAM};
use common::{wait_until, Market};
use gpu_escrow_sdk::ix::NATIVE_MINT;
use gpu_escrow_sdk::{pda, Pubkey, Signer};
use gpu_escrow_tests::validator::read_keypair;
use serde_json::{json, Value};
use solana_rpc_client_api::request::RpcRequest;

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

/// Rents for 0.1 h and waits for the agent's activation; returns the rental once billed.
fn rent_active(m: &Market) -> String {
    let r = m.net.json(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "60"]);
    assert_eq!(r["state"], "Active", "{r}");
    let rental = r["rental"].as_str().unwrap().to_string();
    m.net.wait_billed(&m.renter, &rental);
    rental
}

/// What the rental's vault holds for its provider (base units), as the renter's `status` reads it.
fn held_for_provider(m: &Market, rental: &str) -> u64 {
    m.net.json(&m.renter, &["status", rental])["held"]["provider"]["amount"].as_u64().unwrap()
}

/// The account's data, if it exists.
fn account(m: &Market, address: &Pubkey) -> Option<Vec<u8>> {
    m.net.v.rpc().get_multiple_accounts(&[*address]).unwrap().pop().flatten().map(|a| a.data)
}

fn lamports(m: &Market, address: &Pubkey) -> u64 {
    m.net.v.rpc().get_balance(address).unwrap()
}

/// The fee a landed transaction paid, from its metadata.
fn fee(m: &Market, signature: &Value) -> u64 {
    let sig = signature.as_str().unwrap();
    let cfg = json!({ "encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0 });
    let tx: Value = m.net.v.rpc().send(RpcRequest::GetTransaction, json!([sig, cfg])).unwrap();
    tx["meta"]["fee"].as_u64().unwrap_or_else(|| panic!("no fee for {sig}: {tx}"))
}

#[test]
fn what_is_held_for_the_provider_reaches_its_account_once_it_can_receive() {
    let started = Instant::now();
    let m = Market::new(&[]);
    let n = &m.net;
    let dir = n.home.path();
    let (provision, teardown) = scripts(dir);
    let agent = Agent::start(&m, &["--provision", &provision, "--teardown", &teardown]);
    let provider = read_keypair(&m.provider);
    let mint: Pubkey = m.mint.parse().unwrap();
    let ata = pda::ata(&provider.pubkey(), &mint, &TOKEN_PROGRAM);

    // The provider's token account is closed (it held nothing: the agent claims by no policy
    // here), so the renter's stop cannot pay the provider's share: the vault holds it.
    let a = rent_active(&m);
    n.v.close_token_account(&provider, &mint, &TOKEN_PROGRAM);
    assert!(account(&m, &ata).is_none());
    let stop = n.json(&m.renter, &["stop", &a]);
    let share_a = stop["held"]["provider"]["amount"].as_u64().unwrap();
    assert!(share_a > 0 && share_a == stop["provider_paid"]["amount"].as_u64().unwrap(), "{stop}");
    // The agent makes the account (paid by the provider) and withdraws into it.
    wait_until("the agent's withdrawal", Duration::from_secs(30), || held_for_provider(&m, &a) == 0);
    assert_eq!(m.balance(&m.provider), share_a);
    // The chain shows it as soon as it lands; the agent logs it once its confirmation returns.
    agent.wait_for_line("\"action\":\"withdraw\"", Duration::from_secs(10));
    let w = agent.lines().into_iter().find(|l| l["action"] == "withdraw").expect("a withdraw line");
    assert_eq!((w["created_account"].as_bool(), w["amount"].as_u64()), (Some(true), Some(share_a)), "{w}");
    // status.json is written at the end of the agent's round, after its log line.
    wait_until("status counting the withdrawal", Duration::from_secs(10), || {
        common::agent::status(&m)["counters"]["withdrawals"] == 1
    });
    assert_eq!(common::agent::status(&m)["held"], json!([]));

    // The issuer freezes the provider's account: the next stop's share is held, and the agent
    // shows why and sends nothing while the account cannot receive.
    let b = rent_active(&m);
    let admin = read_keypair(&m.admin);
    n.v.set_frozen(&provider.pubkey(), &mint, &TOKEN_PROGRAM, &admin, true);
    let stop = n.json(&m.renter, &["stop", &b]);
    let share_b = stop["held"]["provider"]["amount"].as_u64().unwrap();
    assert!(share_b > 0, "{stop}");
    wait_until("status showing the frozen account", Duration::from_secs(20), || {
        common::agent::status(&m)["held"][0]["state"] == "cannot_receive"
    });
    let s = common::agent::status(&m);
    let row = &s["held"][0];
    assert_eq!(row["amount"]["amount"].as_u64(), Some(share_b), "{s}");
    assert_eq!((row["rentals"].clone(), row["account"].as_str()), (json!([b]), Some(ata.to_string().as_str())));
    assert!(row["reason"].as_str().unwrap().contains("frozen"), "{row}");
    let text = common::agent::status_text(&m);
    assert!(text.contains("in 1 rental(s)") && text.contains("cannot receive (frozen"), "{text}");
    let attempts = || agent.count("withdraw") + agent.count("withdraw-failed");
    let before = attempts();
    std::thread::sleep(Duration::from_secs(5)); // five ticks at --poll 1
    assert_eq!(attempts(), before, "no transaction while the account cannot receive");
    assert_eq!(agent.count("held-blocked"), 1, "said once");

    // Thawed: the agent notices at its next look and withdraws.
    n.v.set_frozen(&provider.pubkey(), &mint, &TOKEN_PROGRAM, &admin, false);
    wait_until("the withdrawal after the thaw", Duration::from_secs(60), || held_for_provider(&m, &b) == 0);
    assert_eq!(m.balance(&m.provider), share_a + share_b);
    wait_until("status counting the second withdrawal", Duration::from_secs(10), || {
        common::agent::status(&m)["counters"]["withdrawals"] == 2
    });
    let s = common::agent::status(&m);
    assert_eq!(s["held"], json!([]), "{s}");
    assert_eq!((s["counters"]["withdrawals"].as_u64(), s["counters"]["failures"].as_u64()), (Some(2), Some(0)), "{s}");
    assert!(common::agent::status_text(&m).contains("held:     nothing is held for you"));
    assert!(agent.terminate().success());
    eprintln!("held shares test: {:?}", started.elapsed());
}

#[test]
fn sol_payouts_come_back_as_sol_unless_the_agent_keeps_them_wrapped() {
    let started = Instant::now();
    let m = common::agent::sol_market();
    let n = &m.net;
    let dir = n.home.path();
    let (provision, teardown) = scripts(dir);
    let me: Pubkey = common::pubkey(&m.provider).parse().unwrap();
    let wsol = pda::ata(&me, &NATIVE_MINT, &TOKEN_PROGRAM);
    let wrapped = || account(&m, &wsol).map(|d| u64::from_le_bytes(d[64..72].try_into().unwrap()));
    assert_eq!(wrapped(), Some(0), "the listing opened the provider's wrapped-SOL account");
    let flags = ["--provision", provision.as_str(), "--teardown", teardown.as_str()];

    // By default a payout into the wrapped-SOL account comes back as SOL; the account is
    // reopened (empty) in the same transaction, since the SOL listing may pay into it again.
    let agent = Agent::start(&m, &flags);
    let a = rent_active(&m);
    let before = lamports(&m, &me);
    let stop = n.json(&m.renter, &["stop", &a]);
    let share_a = stop["paid_now"]["provider"]["amount"].as_u64().unwrap();
    assert!(share_a > 0 && stop["held"]["provider"]["amount"] == 0, "{stop}");
    agent.wait_for_line("\"action\":\"unwrap\"", Duration::from_secs(30));
    let u = agent.lines().into_iter().find(|l| l["action"] == "unwrap").unwrap();
    assert_eq!((u["lamports"].as_u64(), u["reopened"].as_bool()), (Some(share_a), Some(true)), "{u}");
    assert_eq!(lamports(&m, &me), before + share_a - fee(&m, &u["signature"]), "the share arrived as SOL");
    assert_eq!(wrapped(), Some(0), "reopened, empty");
    assert!(agent.terminate().success());

    // keep_wrapped_sol = true: the next payout stays wrapped.
    let config = dir.join("keep.toml");
    std::fs::write(
        &config,
        format!("provision_command = \"{provision}\"\nteardown_command = \"{teardown}\"\nkeep_wrapped_sol = true\n"),
    )
    .unwrap();
    let agent = Agent::start(&m, &["--agent-config", config.to_str().unwrap()]);
    let b = rent_active(&m);
    let stop = n.json(&m.renter, &["stop", &b]);
    let share_b = stop["paid_now"]["provider"]["amount"].as_u64().unwrap();
    wait_until("the teardown of B", Duration::from_secs(30), || {
        file_lines(&dir.join("torn-down")).contains(&format!("{b} settled"))
    });
    std::thread::sleep(Duration::from_secs(3)); // a few more ticks
    assert_eq!((wrapped(), agent.count("unwrap")), (Some(share_b), 0));
    let s = common::agent::status(&m);
    assert_eq!((s["keep_wrapped_sol"].as_bool(), s["counters"]["unwraps"].as_u64()), (Some(true), Some(1)), "{s}");
    assert!(common::agent::status_text(&m).contains("wrapped SOL: payouts stay wrapped"));
    assert!(agent.terminate().success());

    // The listing is closed and no SOL rental is open: the default agent unwraps what was kept
    // and closes the account for good, its deposit back in the wallet too.
    n.run(&m.provider, &["listing", "close", &m.listing]).success();
    let (before, in_account) = (lamports(&m, &me), lamports(&m, &wsol));
    let agent = Agent::start(&m, &flags);
    agent.wait_for_line("\"action\":\"unwrap\"", Duration::from_secs(30));
    let u = agent.lines().into_iter().find(|l| l["action"] == "unwrap").unwrap();
    assert_eq!((u["lamports"].as_u64(), u["reopened"].as_bool()), (Some(share_b), Some(false)), "{u}");
    assert!(in_account > share_b);
    assert_eq!(lamports(&m, &me), before + in_account - fee(&m, &u["signature"]));
    assert!(account(&m, &wsol).is_none(), "the wrapped-SOL account is gone");
    // status.json is written at the end of the agent's round, after its log line.
    wait_until("status counting the unwrap", Duration::from_secs(10), || {
        common::agent::status(&m)["counters"]["unwraps"] == 2
    });
    let s = common::agent::status(&m);
    assert_eq!((s["held"].clone(), s["keep_wrapped_sol"].as_bool()), (json!([]), Some(false)), "{s}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(agent.count("unwrap"), 1, "once");
    assert!(agent.terminate().success());
    eprintln!("wrapped SOL test: {:?}", started.elapsed());
}
