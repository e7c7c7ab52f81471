//! One container per rental, started with podman or docker from an image the provider
//! names (any image with OpenSSH's sshd):
//! - only the slot's GPUs: the CDI device `nvidia.com/gpu=<UUID>` (podman) or
//!   `--gpus "device=<UUID>,…"` (docker);
//! - the slot's CPU, memory, pids and /dev/shm limits; a volume of its own at /workspace;
//! - its own network (podman: `isolate=true`, so renters cannot reach each other), the slot's
//!   port published to the container's sshd, no host network, no privileged mode;
//! - sshd runs with a config, host key and authorized key the agent mounts read-only: the
//!   renter's checked key is the only one that logs in, the per-rental host key is sealed.
//!
//! Everything is named `gpu-escrow-<RENTAL>` and labelled with the rental, the listing and
//! the slot, so teardown and reconciliation find it after any restart.
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use gpu_escrow_sdk::access::ConnectionDetails;
use serde::Deserialize;
use tokio::process::Command;

use super::{hostkey, Provisioned, Request, LISTING_LABEL, PROVIDER_LABEL, RENTAL_LABEL, SLOT_LABEL};
use crate::agent::inventory::allocator::HeldSlot;
use crate::agent::probe::{Health, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Podman,
    Docker,
}

/// `[serve.container]` in the agent config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerConfig {
    pub runtime: Runtime,
    /// The runtime's binary [default: `podman` or `docker` on PATH].
    #[serde(default)]
    pub runtime_path: Option<String>,
    /// Flags before every subcommand (e.g. podman's `--runtime runc`).
    #[serde(default)]
    pub runtime_args: Vec<String>,
    /// Extra flags for `run`, before the image (e.g. `--ulimit nofile=1024:1024`).
    #[serde(default)]
    pub run_args: Vec<String>,
    pub image: String,
    /// The login user inside the container [default: root].
    #[serde(default = "default_user")]
    pub user: String,
    /// Host address the slot's ports are published on [default: all].
    #[serde(default = "default_publish")]
    pub publish_address: String,
    /// Where the agent itself reaches the published ports [default: 127.0.0.1].
    #[serde(default = "default_probe_host")]
    pub probe_host: String,
    /// Run inside the container to list its GPUs, one UUID per line; it must print exactly
    /// the slot's [default: nvidia-smi --query-gpu=uuid --format=csv,noheader].
    #[serde(default)]
    pub gpu_probe: Option<String>,
    /// Also start Jupyter (the image must have it) on the slot's jupyter_port, with a random
    /// token sealed into the URL.
    #[serde(default)]
    pub jupyter: bool,
    /// How long a runtime command may take before the runtime counts as unreachable.
    #[serde(default = "default_runtime_timeout")]
    pub runtime_timeout_secs: u64,
    /// Keep rentals off `blocked_networks` and the host's own services with iptables rules
    /// the agent adds at start [default: true; needs root and iptables].
    #[serde(default = "default_true")]
    pub firewall: bool,
    /// Destinations a rental may not open connections to [default: RFC 1918, carrier-grade
    /// NAT and link-local, where cloud metadata endpoints live].
    #[serde(default = "super::kubernetes::default_blocked")]
    pub blocked_networks: Vec<String>,
    /// The runtime's bridge interfaces, as an iptables pattern [default: podman+ or br-+].
    #[serde(default)]
    pub bridge_interfaces: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_user() -> String {
    "root".into()
}
fn default_publish() -> String {
    "0.0.0.0".into()
}
fn default_probe_host() -> String {
    "127.0.0.1".into()
}
fn default_runtime_timeout() -> u64 {
    60
}

pub const DEFAULT_GPU_PROBE: &str = "nvidia-smi --query-gpu=uuid --format=csv,noheader";
/// Where the agent's files for the rental (sshd config, host key, authorized key) appear.
pub const MOUNT: &str = "/run/gpu-escrow";
const JUPYTER_PORT: u16 = 8888;

#[derive(Debug, Clone)]
pub struct ContainerBackend {
    pub cfg: ContainerConfig,
    /// The address renters connect to (this host's public name or IP).
    pub public_host: String,
    /// The provider whose rentals these are (labelled on everything, listed by it).
    pub provider: String,
}

const NAME_PREFIX: &str = "gpu-escrow-";

pub fn name(rental: &str) -> String {
    format!("{NAME_PREFIX}{rental}")
}

/// The sshd config mounted into the container: only the per-rental host key and the
/// renter's key log in; no passwords. The files are root's, the host key 0600 (sshd's
/// StrictModes refuses anything looser).
pub fn sshd_config(user: &str) -> String {
    format!(
        "Port 22\n\
         HostKey {MOUNT}/{key}\n\
         AuthorizedKeysFile {MOUNT}/authorized_keys\n\
         AllowUsers {user}\n\
         PermitRootLogin prohibit-password\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         HostbasedAuthentication no\n\
         PermitEmptyPasswords no\n\
         UsePAM no\n\
         StrictModes yes\n\
         X11Forwarding no\n\
         PrintMotd no\n\
         PidFile /run/sshd.pid\n\
         Subsystem sftp internal-sftp\n",
        key = hostkey::KEY_FILE
    )
}

/// The container's command: sshd in the foreground (and Jupyter beside it when asked).
pub fn command(jupyter_token: Option<&str>) -> Vec<String> {
    let jupyter = jupyter_token
        .map(|t| {
            format!(
                "(cd /workspace && jupyter lab --ip=0.0.0.0 --port={JUPYTER_PORT} --no-browser --allow-root \
                 --IdentityProvider.token={t} >/tmp/jupyter.log 2>&1 &); "
            )
        })
        .unwrap_or_default();
    let script = format!("mkdir -p /run/sshd && {jupyter}exec /usr/sbin/sshd -D -e -f {MOUNT}/sshd_config");
    vec!["/bin/sh".into(), "-c".into(), script]
}

/// The GPU flags that give the container exactly `gpus` and nothing else.
pub fn gpu_args(runtime: Runtime, gpus: &[String]) -> Vec<String> {
    if gpus.is_empty() {
        return Vec::new();
    }
    match runtime {
        Runtime::Podman => gpus.iter().flat_map(|g| ["--device".to_string(), format!("nvidia.com/gpu={g}")]).collect(),
        // docker parses --gpus as CSV: several devices need the quotes inside the value.
        Runtime::Docker => vec!["--gpus".into(), format!("\"device={}\"", gpus.join(","))],
    }
}

/// Labels for everything made for a rental.
pub fn labels(provider: &str, rental: &str, listing: &str, slot: usize) -> Vec<String> {
    [
        (PROVIDER_LABEL, provider.to_string()),
        (RENTAL_LABEL, rental.to_string()),
        (LISTING_LABEL, listing.to_string()),
        (SLOT_LABEL, slot.to_string()),
    ]
    .into_iter()
    .flat_map(|(k, v)| ["--label".to_string(), format!("{k}={v}")])
    .collect()
}

impl ContainerBackend {
    /// `run`'s arguments (after the runtime's global flags) for a rental in `slot`, with the
    /// agent's files for it in `dir`. Pure, so the exact isolation is tested as data.
    pub fn run_args(
        &self,
        rental: &str,
        listing: &str,
        slot: &HeldSlot,
        dir: &Path,
        jupyter: Option<&str>,
    ) -> Vec<String> {
        let s = &slot.spec;
        let n = name(rental);
        let mut a: Vec<String> = vec!["run".into(), "--detach".into(), "--name".into(), n.clone()];
        a.extend(labels(&self.provider, rental, listing, slot.index));
        a.extend([
            "--hostname".into(),
            "gpu".into(),
            "--network".into(),
            n.clone(),
            "--publish".into(),
            format!("{}:{}:22", self.cfg.publish_address, s.ssh_port),
        ]);
        if let (Some(port), Some(_)) = (s.jupyter_port, jupyter) {
            a.extend(["--publish".into(), format!("{}:{port}:{JUPYTER_PORT}", self.cfg.publish_address)]);
        }
        a.extend([
            "--cpus".into(),
            s.cpus.to_string(),
            "--memory".into(),
            format!("{}g", s.memory_gb),
            // No swap beyond the memory limit: the slot's RAM is what was sold.
            "--memory-swap".into(),
            format!("{}g", s.memory_gb),
            "--pids-limit".into(),
            s.pids.to_string(),
            "--shm-size".into(),
            format!("{}g", s.shm_gb),
            "--security-opt".into(),
            "no-new-privileges".into(),
            // Raw sockets would let a renter spoof addresses on the bridge.
            "--cap-drop".into(),
            "NET_RAW".into(),
            "--volume".into(),
            format!("{n}:/workspace"),
            "--volume".into(),
            format!("{}:{MOUNT}:ro", dir.display()),
            "--restart".into(),
            "unless-stopped".into(),
        ]);
        a.extend(gpu_args(self.cfg.runtime, &s.gpus));
        a.extend(self.cfg.run_args.iter().cloned());
        a.push(self.cfg.image.clone());
        a.extend(command(jupyter));
        a
    }

    fn binary(&self) -> &str {
        self.cfg.runtime_path.as_deref().unwrap_or(match self.cfg.runtime {
            Runtime::Podman => "podman",
            Runtime::Docker => "docker",
        })
    }

    /// Runs the runtime; Err(text) only when it could not be run or did not answer in time.
    async fn runtime(&self, args: &[String]) -> Result<Output, String> {
        let mut cmd = Command::new(self.binary());
        cmd.args(&self.cfg.runtime_args).args(args).stdin(std::process::Stdio::null()).kill_on_drop(true);
        let timeout = Duration::from_secs(self.cfg.runtime_timeout_secs);
        match tokio::time::timeout(timeout, cmd.output()).await {
            Err(_) => Err(format!("`{} {}` did not answer within {} s", self.binary(), args[0], timeout.as_secs())),
            Ok(Err(e)) => Err(format!("cannot run {}: {e}", self.binary())),
            Ok(Ok(o)) => Ok(o),
        }
    }

    /// Runs the runtime and requires success (or, with `absent_ok`, an "already gone" error).
    async fn must(&self, args: &[String], absent_ok: bool) -> Result<String, String> {
        let o = self.runtime(args).await?;
        let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
        if o.status.success() || (absent_ok && is_absent(&err)) {
            return Ok(String::from_utf8_lossy(&o.stdout).into_owned());
        }
        Err(format!("`{} {}` failed: {}", self.binary(), args.join(" "), err.lines().last().unwrap_or("")))
    }

    pub async fn provision(&self, req: &Request) -> Result<Provisioned, String> {
        let slot = req.slot.as_ref().ok_or("the container backend serves listings from slots; none was assigned")?;
        let (_, host_key) = hostkey::ensure(&req.dir).await?;
        let write =
            |file: &str, text: String| crate::agent::journal::write_atomic(&req.dir.join(file), text.as_bytes());
        write("authorized_keys", format!("{}\n", req.ssh_key))?;
        write("sshd_config", sshd_config(&self.cfg.user))?;
        let token = match (self.cfg.jupyter, slot.spec.jupyter_port) {
            (true, Some(_)) => Some(jupyter_token(&req.dir)?),
            _ => None,
        };
        let n = name(&req.rental);
        match self.state(&req.rental).await? {
            // A restart after a crash mid-provision: the rental's container is already there.
            Some(s) if s.running => {}
            other => {
                if other.is_some() {
                    self.must(&["rm".into(), "--force".into(), n.clone()], true).await?;
                }
                let labels = labels(&self.provider, &req.rental, &req.listing, slot.index);
                let mut net = vec!["network".into(), "create".into()];
                if self.cfg.runtime == Runtime::Podman {
                    // Isolated from every other rental's network; no DNS server that would
                    // resolve other containers' names.
                    net.extend(["--opt".into(), "isolate=true".into(), "--disable-dns".into()]);
                }
                net.extend(labels.iter().cloned());
                net.push(n.clone());
                self.must(&net, false)
                    .await
                    .or_else(|e| if e.contains("exists") { Ok(String::new()) } else { Err(e) })?;
                let mut vol = vec!["volume".into(), "create".into()];
                vol.extend(labels.iter().cloned());
                vol.push(n.clone());
                self.must(&vol, false)
                    .await
                    .or_else(|e| if e.contains("exists") { Ok(String::new()) } else { Err(e) })?;
                let run = self.run_args(&req.rental, &req.listing, slot, &req.dir, token.as_deref());
                if let Err(e) = self.must(&run, false).await {
                    // A `run` from before a crash may have finished in the meantime.
                    if !matches!(self.state(&req.rental).await, Ok(Some(ContainerState { running: true }))) {
                        return Err(e);
                    }
                }
            }
        }
        let details = ConnectionDetails {
            host: Some(self.public_host.clone()),
            port: Some(slot.spec.ssh_port),
            user: Some(self.cfg.user.clone()),
            host_key: Some(host_key.clone()),
            url: match (&token, slot.spec.jupyter_port) {
                (Some(t), Some(p)) => Some(format!("http://{}:{p}/lab?token={t}", self.public_host)),
                _ => None,
            },
            note: Some(format!("container {n}, workspace at /workspace")),
            ..Default::default()
        };
        let probe =
            Some(Target { host: self.cfg.probe_host.clone(), port: slot.spec.ssh_port, host_key: Some(host_key) });
        Ok(Provisioned { details, probe })
    }

    /// The rental's container: None if there is none; Err if the runtime cannot be asked.
    async fn state(&self, rental: &str) -> Result<Option<ContainerState>, String> {
        let args = ["container".into(), "inspect".into(), "--format".into(), "{{.State.Running}}".into(), name(rental)];
        let o = self.runtime(&args).await?;
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.success() {
            Ok(Some(ContainerState { running: String::from_utf8_lossy(&o.stdout).trim() == "true" }))
        } else if is_absent(&err) {
            Ok(None)
        } else {
            Err(format!("{} cannot inspect containers: {}", self.binary(), err.trim()))
        }
    }

    pub async fn observe(&self, rental: &str, slot: Option<&HeldSlot>) -> Health {
        match self.state(rental).await {
            Err(e) => return Health::Unobservable(e),
            Ok(None) => return Health::Broken(format!("container {} is gone", name(rental))),
            Ok(Some(s)) if !s.running => return Health::Broken(format!("container {} is not running", name(rental))),
            Ok(Some(_)) => {}
        }
        let Some(slot) = slot.filter(|s| !s.spec.gpus.is_empty()) else { return Health::Healthy };
        let probe = self.cfg.gpu_probe.clone().unwrap_or_else(|| DEFAULT_GPU_PROBE.into());
        let args = ["exec".into(), name(rental), "/bin/sh".into(), "-c".into(), probe.clone()];
        match self.runtime(&args).await {
            Err(e) => Health::Unobservable(e),
            Ok(o) if !o.status.success() => Health::Broken(format!(
                "`{probe}` failed inside {}: {}",
                name(rental),
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Ok(o) => {
                let mut seen: Vec<String> =
                    String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_string).collect();
                let mut want = slot.spec.gpus.clone();
                seen.sort();
                want.sort();
                if seen == want {
                    Health::Healthy
                } else {
                    Health::Broken(format!("the container sees GPUs {seen:?}, its slot holds {want:?}"))
                }
            }
        }
    }

    pub async fn teardown(&self, rental: &str) -> Result<(), String> {
        let n = name(rental);
        self.must(&["rm".into(), "--force".into(), "--volumes".into(), n.clone()], true).await?;
        self.must(&["volume".into(), "rm".into(), "--force".into(), n.clone()], true).await?;
        self.must(&["network".into(), "rm".into(), n.clone()], true).await?;
        Ok(())
    }

    /// Rentals with a container, volume or network labelled as ours (by their names, which
    /// every runtime's `--format` can print).
    pub async fn owned(&self) -> Result<Vec<String>, String> {
        let filter = format!("label={PROVIDER_LABEL}={}", self.provider);
        let mut rentals = Vec::new();
        for (kind, field) in
            [(["ps", "--all"], "{{.Names}}"), (["volume", "ls"], "{{.Name}}"), (["network", "ls"], "{{.Name}}")]
        {
            let mut args: Vec<String> = kind.iter().map(|k| k.to_string()).collect();
            args.extend(["--filter".into(), filter.clone(), "--format".into(), field.into()]);
            let out = self.must(&args, false).await?;
            rentals.extend(out.split_whitespace().filter_map(|n| n.strip_prefix(NAME_PREFIX)).map(str::to_string));
        }
        rentals.sort();
        rentals.dedup();
        Ok(rentals)
    }

    /// Keeps every rental's container off the provider's private networks and off the host's
    /// own services (and, on podman, off other rentals' networks even while netavark 1.4
    /// briefly drops its isolation rule, which it does whenever a container stops). Two
    /// mangle-table rules for new connections from the runtime's bridges, which the runtimes
    /// never rewrite; replies and published ports (connections from the host) are untouched.
    pub async fn ensure_firewall(&self) -> Result<(), String> {
        if !self.cfg.firewall {
            return Ok(());
        }
        for rule in firewall_rules(&self.cfg) {
            let run = |op: &str| {
                let mut c = Command::new("iptables");
                // -w: wait for the xtables lock netavark may hold, instead of failing.
                c.args(["-w", "-t", "mangle", op, "PREROUTING"]).args(&rule);
                c
            };
            let present = run("-C").output().await.map_err(|e| format!("cannot run iptables: {e}"))?;
            if present.status.success() {
                continue;
            }
            let o = run("-I").output().await.map_err(|e| format!("cannot run iptables: {e}"))?;
            if !o.status.success() {
                return Err(format!(
                    "cannot add the rentals' firewall rule (iptables -t mangle -I PREROUTING {}): {}",
                    rule.join(" "),
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
        }
        Ok(())
    }
}

/// The rules [`ContainerBackend::ensure_firewall`] keeps in `mangle PREROUTING`.
pub fn firewall_rules(cfg: &ContainerConfig) -> Vec<Vec<String>> {
    let bridges = cfg.bridge_interfaces.clone().unwrap_or_else(|| match cfg.runtime {
        Runtime::Podman => "podman+".into(),
        Runtime::Docker => "br-+".into(),
    });
    let new = ["-m", "conntrack", "--ctstate", "NEW"];
    let rule = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    let mut host = rule(&["-i", &bridges]);
    host.extend(rule(&new));
    host.extend(rule(&["-m", "addrtype", "--dst-type", "LOCAL", "-j", "DROP"]));
    let mut private = rule(&["-i", &bridges, "-d", &cfg.blocked_networks.join(",")]);
    private.extend(rule(&new));
    private.extend(rule(&["-j", "DROP"]));
    vec![host, private]
}

struct ContainerState {
    running: bool,
}

/// The runtimes' ways of saying "there is no such object".
fn is_absent(stderr: &str) -> bool {
    let e = stderr.to_lowercase();
    e.contains("no such") || e.contains("not found") || e.contains("no container with")
}

/// The rental's Jupyter token: random, kept in its directory so a re-provision after a
/// restart seals the same URL.
fn jupyter_token(dir: &Path) -> Result<String, String> {
    let path = dir.join("jupyter-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        return Ok(t.trim().to_string());
    }
    let mut bytes = [0u8; 24];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    crate::agent::journal::write_atomic(&path, token.as_bytes())?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::inventory::slot;

    fn backend(runtime: Runtime) -> ContainerBackend {
        let cfg: ContainerConfig = toml::from_str(&format!(
            "runtime = \"{}\"\nimage = \"localhost/gpu-escrow-sshd:bookworm\"\nrun_args = [\"--ulimit\", \"nproc=4096:4096\"]",
            if runtime == Runtime::Podman { "podman" } else { "docker" }
        ))
        .unwrap();
        ContainerBackend { cfg, public_host: "203.0.113.7".into(), provider: "P".into() }
    }

    fn held(gpus: &[&str]) -> HeldSlot {
        let mut s = slot(gpus, 2201);
        s.jupyter_port = Some(8801);
        HeldSlot { index: 1, spec: s, since: 0 }
    }

    fn after<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
        args.windows(2).filter(|w| w[0] == flag).map(|w| w[1].as_str()).collect()
    }

    #[test]
    fn each_slot_runs_with_exactly_its_gpus_and_limits() {
        let b = backend(Runtime::Podman);
        let a = b.run_args("R1", "L1", &held(&["GPU-a", "GPU-b"]), Path::new("/state/rentals/R1"), None);
        assert_eq!(after(&a, "--device"), ["nvidia.com/gpu=GPU-a", "nvidia.com/gpu=GPU-b"]);
        assert_eq!(after(&a, "--publish"), ["0.0.0.0:2201:22"], "no Jupyter port without Jupyter");
        assert_eq!(after(&a, "--cpus"), ["4"]);
        assert_eq!(after(&a, "--memory"), ["16g"]);
        assert_eq!(after(&a, "--pids-limit"), ["4096"]);
        assert_eq!(after(&a, "--shm-size"), ["1g"]);
        assert_eq!(after(&a, "--network"), ["gpu-escrow-R1"]);
        assert_eq!(after(&a, "--volume"), ["gpu-escrow-R1:/workspace", "/state/rentals/R1:/run/gpu-escrow:ro"]);
        assert_eq!(
            after(&a, "--label"),
            ["gpu-escrow.provider=P", "gpu-escrow.rental=R1", "gpu-escrow.listing=L1", "gpu-escrow.slot=1"]
        );
        for forbidden in ["--privileged", "--network=host", "host", "--pid", "--ipc", "--userns=host"] {
            assert!(!a.iter().any(|x| x == forbidden), "{forbidden} in {a:?}");
        }
        let image = a.iter().position(|x| x == "localhost/gpu-escrow-sshd:bookworm").unwrap();
        assert_eq!(&a[image - 2..image], ["--ulimit", "nproc=4096:4096"], "the provider's flags come before the image");
        assert!(a[image + 3].ends_with("exec /usr/sbin/sshd -D -e -f /run/gpu-escrow/sshd_config"));

        let d = backend(Runtime::Docker).run_args("R1", "L1", &held(&["GPU-a", "GPU-b"]), Path::new("/s"), Some("tok"));
        assert_eq!(after(&d, "--gpus"), ["\"device=GPU-a,GPU-b\""]);
        assert!(after(&d, "--device").is_empty());
        assert_eq!(after(&d, "--publish"), ["0.0.0.0:2201:22", "0.0.0.0:8801:8888"]);
        assert!(d.last().unwrap().contains("--IdentityProvider.token=tok"));
        assert!(gpu_args(Runtime::Podman, &[]).is_empty(), "a CPU-only slot gets no GPU at all");
    }

    #[test]
    fn two_rentals_never_share_a_gpu_or_a_port() {
        use crate::agent::inventory::allocator;
        use crate::agent::journal::Journal;
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::load(dir.path()).unwrap();
        let slots = [slot(&["GPU-a"], 2201), slot(&["GPU-b"], 2202)];
        let b = backend(Runtime::Podman);
        let mut seen_gpus = Vec::new();
        let mut seen_ports = Vec::new();
        for r in ["R1", "R2"] {
            let held = allocator::assign(&mut j, r, "renter", "L", &slots, 0).unwrap().unwrap();
            let a = b.run_args(r, "L", &held, dir.path(), None);
            seen_gpus.extend(after(&a, "--device").into_iter().map(str::to_string));
            seen_ports.extend(after(&a, "--publish").into_iter().map(str::to_string));
        }
        assert_eq!(seen_gpus, ["nvidia.com/gpu=GPU-a", "nvidia.com/gpu=GPU-b"]);
        assert_eq!(seen_ports, ["0.0.0.0:2201:22", "0.0.0.0:2202:22"]);
        assert!(allocator::assign(&mut j, "R3", "renter", "L", &slots, 0).unwrap().is_none());
    }

    #[test]
    fn sshd_accepts_only_the_renters_key_and_offers_only_the_sealed_host_key() {
        let c = sshd_config("root");
        assert!(c.contains("HostKey /run/gpu-escrow/ssh_host_ed25519_key\n"));
        assert_eq!(c.matches("HostKey").count(), 1);
        assert!(c.contains("AuthorizedKeysFile /run/gpu-escrow/authorized_keys\n"));
        assert!(c.contains("PasswordAuthentication no") && c.contains("AllowUsers root"));
    }

    #[test]
    fn the_firewall_drops_new_connections_from_rentals_to_private_networks_and_the_host() {
        let b = backend(Runtime::Podman);
        let rules = firewall_rules(&b.cfg);
        assert_eq!(rules[0].join(" "), "-i podman+ -m conntrack --ctstate NEW -m addrtype --dst-type LOCAL -j DROP");
        assert_eq!(
            rules[1].join(" "),
            "-i podman+ -d 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16 -m conntrack --ctstate NEW -j DROP"
        );
        assert!(firewall_rules(&backend(Runtime::Docker).cfg)[0].contains(&"br-+".to_string()));
    }
}
