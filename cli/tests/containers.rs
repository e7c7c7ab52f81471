//! The container backend for real: podman runs one container per rental from the sshd image
//! built by scripts/container-image, with test GPUs declared through CDI
//! (scripts/container-test-setup). The renter logs in with `ssh` using only what
//! `gpu-escrow access` printed, with the host key checked; limits, GPU selection and the
//! isolation between renters are checked from inside the containers; every ended rental's
//! container, volume and network is gone and its slot free, also after the agent is killed.
//!
//! Needs root podman; `scripts/test` prepares it and sets GPU_ESCROW_CONTAINER_IMAGE. Without
//! it these tests print why and pass without running (they cannot run on such a machine).
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::agent::Agent;
use common::{pubkey, wait_until, Market};
use serde_json::Value;

fn image() -> Option<String> {
    match std::env::var("GPU_ESCROW_CONTAINER_IMAGE") {
        Ok(i) if !i.is_empty() => Some(i),
        _ => {
            eprintln!(
                "SKIPPED: GPU_ESCROW_CONTAINER_IMAGE is not set (scripts/test sets it when root podman can run here; \
                 see scripts/container-test-setup)"
            );
            None
        }
    }
}

fn gpu(i: usize) -> String {
    format!("GPU-00000000-0000-0000-0000-00000000000{i}")
}

/// A container-backend config for the market's listing: three slots with GPUs `first..`,
/// ports `base..`, 1 CPU, 1 GB, 128 processes each, published on loopback.
fn config(m: &Market, image: &str, first: usize, base: u16) -> String {
    // Probe often, so a dead machine is noticed within the test.
    let mut t = String::from("probe_interval_secs = 2\n\n");
    for i in first..first + 3 {
        t.push_str(&format!(
            "[[gpus]]\nuuid = \"{}\"\nname = \"NVIDIA GeForce RTX 4090\"\nmemory_mib = 24564\n\n",
            gpu(i)
        ));
    }
    t.push_str(&format!(
        "[[serve]]\nlisting = \"{}\"\nbackend = \"container\"\nhost = \"127.0.0.1\"\n\n[serve.container]\n\
         runtime = \"podman\"\nimage = \"{image}\"\n\
         run_args = [\"--runtime\", \"runc\", \"--ulimit\", \"nofile=1024:1024\", \"--ulimit\", \"nproc=4096:4096\"]\n\
         publish_address = \"127.0.0.1\"\ngpu_probe = \"ls /dev/gpu-escrow\"\n\n",
        m.listing
    ));
    for (n, i) in (first..first + 3).enumerate() {
        t.push_str(&format!(
            "[[serve.slots]]\ngpus = [\"{}\"]\nssh_port = {}\ncpus = 1\nmemory_gb = 1\npids = 128\nshm_gb = 1\n\n",
            gpu(i),
            base + n as u16
        ));
    }
    let path = m.net.home.path().join("agent.toml");
    std::fs::write(&path, t).unwrap();
    path.display().to_string()
}

/// A renter's SSH key pair, made by ssh-keygen.
fn ssh_key(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let ok = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"]).arg(&key).status();
    assert!(ok.unwrap().success(), "ssh-keygen");
    key
}

struct Login {
    key: PathBuf,
    known_hosts: PathBuf,
    port: String,
}

impl Login {
    /// Only what `gpu-escrow access` printed: the port, the user, the known_hosts line.
    fn from_access(m: &Market, renter: &Path, rental: &str, key: PathBuf) -> Login {
        let a = m.net.json(renter, &["access", rental]);
        let known_hosts = key.with_extension("known_hosts");
        std::fs::write(&known_hosts, format!("{}\n", a["known_hosts_line"].as_str().unwrap())).unwrap();
        assert_eq!(a["user"], "root");
        Login { key, known_hosts, port: a["port"].to_string() }
    }

    fn ssh(&self, command: &str) -> (bool, String) {
        let out = Command::new("ssh")
            .args(["-p", &self.port, "-i"])
            .arg(&self.key)
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=30",
                "root@127.0.0.1",
                command,
            ])
            .output()
            .unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    }

    fn must(&self, command: &str) -> String {
        let (ok, out) = self.ssh(command);
        assert!(ok, "ssh `{command}` failed: {out}");
        out
    }
}

fn podman(args: &[&str]) -> String {
    let out = Command::new("podman").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Nothing of `rental` is left: no container, volume or network.
fn gone(rental: &str) -> bool {
    let name = format!("gpu-escrow-{rental}");
    let filter = format!("name={name}");
    podman(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"]).trim().is_empty()
        && !podman(&["volume", "ls", "--format", "{{.Name}}"]).lines().any(|l| l == name)
        && !podman(&["network", "ls", "--format", "{{.Name}}"]).lines().any(|l| l == name)
}

/// A stopped container labelled as `provider`'s machine for `rental`, made by hand.
fn labelled_container(image: &str, rental: &str, provider: &str) {
    let made = Command::new("podman")
        .args(["create", "--runtime", "runc", "--name", &format!("gpu-escrow-{rental}")])
        .args(["--label", &format!("gpu-escrow.rental={rental}")])
        .args(["--label", &format!("gpu-escrow.provider={provider}")])
        .arg(image)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
}

fn slots(m: &Market) -> Value {
    let state = m.net.home.path().join("agent-state");
    m.net.json(&m.provider, &["agent", "status", "--state-dir", state.to_str().unwrap()])["listings"][0]["slots"]
        .clone()
}

fn rent(m: &Market, renter: &Path, key: &Path) -> String {
    let pubkey = key.with_extension("pub");
    let r = m.net.json(
        renter,
        &["rent", &m.listing, "--hours", "0.1", "--yes", "--ssh-key", pubkey.to_str().unwrap(), "--wait", "90"],
    );
    assert_eq!(r["state"], "Active", "{r}");
    r["rental"].as_str().unwrap().to_string()
}

#[test]
fn a_renter_logs_into_an_isolated_container_with_only_its_slots_gpu() {
    let Some(image) = image() else { return };
    let m = Market::new(&[]);
    let n = &m.net;
    let dir = n.home.path();
    let agent = Agent::start(&m, &["--agent-config", &config(&m, &image, 1, 22_201)]);
    let renter2 = n.wallet("renter2", 5);
    n.run(&m.admin, &["dev", "mint-to", &m.mint, &pubkey(&renter2), "100"]).success();

    let (k1, k2) = (ssh_key(dir, "renter1"), ssh_key(dir, "renter2"));
    let r1 = rent(&m, &m.renter, &k1);
    let one = Login::from_access(&m, &m.renter, &r1, k1.clone());
    // Exactly its slot's GPU, its limits, and a file and a process of its own.
    assert_eq!(one.must("ls /dev/gpu-escrow").trim(), gpu(1));
    let mem = one.must("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max");
    assert_eq!(mem.trim(), (1u64 << 30).to_string());
    let pids = one.must("cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max");
    assert_eq!(pids.trim(), "128");
    one.must("echo secret-of-renter-1 > /workspace/secret && (sleep 600 >/dev/null 2>&1 &)");
    let ip1 = one.must("ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1").trim().to_string();

    let r2 = rent(&m, &renter2, &k2);
    let two = Login::from_access(&m, &renter2, &r2, k2.clone());
    assert_eq!(two.must("ls /dev/gpu-escrow").trim(), gpu(2));
    assert!(!two.must("ps -e -o comm=").contains("sleep"), "renter 2 sees renter 1's processes");
    assert!(!two.ssh("cat /workspace/secret").0, "renter 2 reads renter 1's workspace");
    // A TCP connect that works (its own sshd) shows the refused ones are not a broken probe.
    let reach = |ip: &str, port: u16| two.ssh(&format!("timeout 3 bash -c '</dev/tcp/{ip}/{port}'")).0;
    assert!(reach("127.0.0.1", 22));
    assert!(!reach(&ip1, 22), "renter 2 reaches renter 1's container at {ip1}");
    let gateway = two.must("ip route | awk '/default/ {print $3}'").trim().to_string();
    let rpc_port: u16 = n.v.rpc_url.rsplit(':').next().unwrap().parse().unwrap();
    assert!(!reach(&gateway, rpc_port), "a rental reaches the host's own services ({gateway}:{rpc_port})");
    // Only the renter's key logs in, and only with the sealed host key.
    let stranger = Login { key: k2.clone(), ..Login::from_access(&m, &m.renter, &r1, k1.clone()) };
    assert!(!stranger.ssh("true").0, "renter 2's key opened renter 1's machine");
    // Renter 2's host key presented as renter 1's: ssh refuses the machine.
    let wrong = dir.join("wrong_known_hosts");
    let line = std::fs::read_to_string(&two.known_hosts)
        .unwrap()
        .replace(&format!("]:{} ", two.port), &format!("]:{} ", one.port));
    std::fs::write(&wrong, line).unwrap();
    let wrong_host = Login { known_hosts: wrong, ..Login::from_access(&m, &m.renter, &r1, k1.clone()) };
    let (ok, out) = wrong_host.ssh("true");
    assert!(!ok && out.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"), "{out}");

    let held: Vec<Value> = slots(&m).as_array().unwrap().iter().map(|s| s["held_by"].clone()).collect();
    assert_eq!(held, vec![Value::from(r1.as_str()), Value::from(r2.as_str()), Value::Null]);
    // The renter stops: the container, its volume and network go, then the slot is free.
    n.run(&m.renter, &["stop", &r1]).success();
    wait_until("renter 1's slot to be freed", Duration::from_secs(30), || slots(&m)[0]["held_by"].is_null());
    assert!(gone(&r1), "renter 1's container, volume or network is left");
    assert!(!gone(&r2));
    assert!(two.must("echo still-here").contains("still-here"), "the other rental is untouched");
    n.run(&renter2, &["stop", &r2]).success();
    wait_until("renter 2's teardown", Duration::from_secs(30), || gone(&r2));
    assert!(agent.terminate().success());
}

#[test]
fn a_killed_agent_leaks_no_slot_and_leaves_no_container_behind() {
    let Some(image) = image() else { return };
    let m = Market::new(&[]);
    let n = &m.net;
    let dir = n.home.path();
    let config = config(&m, &image, 4, 22_211);
    // Something labelled for a rental that holds no slot (left by a crash or by hand): the
    // agent's reconciliation at start removes it.
    let orphan = "11111111111111111111111111111111";
    labelled_container(&image, orphan, &pubkey(&m.provider));
    // Another provider's machine on the same host is not this agent's to remove.
    let foreign = "22222222222222222222222222222222";
    labelled_container(&image, foreign, "SomeOtherProvider");

    // Killed right after the slot is assigned and provisioning started.
    let agent = Agent::start(&m, &["--agent-config", &config]);
    wait_until("the orphan's removal", Duration::from_secs(30), || gone(orphan));
    assert!(!gone(foreign), "the agent removed another provider's container");
    Command::new("podman").args(["rm", "-f", &format!("gpu-escrow-{foreign}")]).output().unwrap();
    let key = ssh_key(dir, "renter");
    let pubkey = key.with_extension("pub");
    let rental = n.json(
        &m.renter,
        &["rent", &m.listing, "--hours", "0.1", "--yes", "--ssh-key", pubkey.to_str().unwrap(), "--wait", "0"],
    )["rental"]
        .as_str()
        .unwrap()
        .to_string();
    agent.wait_for_line("\"action\":\"provision\"", Duration::from_secs(30));
    agent.kill();
    let agent = Agent::start(&m, &["--agent-config", &config]);
    wait_until("activation after the restart", Duration::from_secs(60), || {
        n.json(&m.renter, &["status", &rental])["state"] == "Active"
    });
    let containers = podman(&["ps", "-a", "--filter", "label=gpu-escrow.rental", "--format", "{{.Names}}"]);
    assert_eq!(containers.split_whitespace().filter(|c| c.contains(&rental)).count(), 1, "{containers}");
    let login = Login::from_access(&m, &m.renter, &rental, key.clone());
    assert_eq!(login.must("ls /dev/gpu-escrow").trim(), gpu(4));

    // The machine dies under a running rental: it is made again in the same slot, with the
    // same port and host key, so the sealed details stay true.
    Command::new("podman").args(["rm", "-f", "-t", "0", &format!("gpu-escrow-{rental}")]).output().unwrap();
    wait_until("the repair", Duration::from_secs(90), || login.ssh("true").0);
    // sshd answers as soon as the container runs, before the agent's `run` returns and logs.
    agent.wait_for_line("\"action\":\"repair\"", Duration::from_secs(30));
    assert!(agent.count("health-broken") >= 1);

    // Killed after the rental ended and before its teardown: the restart tears it down.
    agent.kill();
    n.run(&m.renter, &["stop", &rental]).success();
    assert!(!gone(&rental), "nothing tears down while the agent is dead");
    let agent = Agent::start(&m, &["--agent-config", &config]);
    // Generous: under a full test run on two cores each podman call can take seconds.
    let torn = (0..360).any(|_| {
        std::thread::sleep(Duration::from_millis(250));
        gone(&rental)
    });
    let actions: Vec<String> = agent.lines().iter().map(|l| format!("{} {}", l["action"], l["error"])).collect();
    assert!(torn, "the teardown after the restart did not finish: {actions:#?}");
    wait_until("the slot to be freed", Duration::from_secs(30), || slots(&m)[0]["held_by"].is_null());
    let held = slots(&m).as_array().unwrap().iter().filter(|s| !s["held_by"].is_null()).count();
    assert_eq!(held, 0);
    assert!(agent.terminate().success());
}
