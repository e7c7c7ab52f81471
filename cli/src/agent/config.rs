//! The agent's configuration: a TOML file, with flags for the common fields (flags win).
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::backend::container::ContainerConfig;
use super::backend::kubernetes::{KubernetesConfig, NODE_PORTS};
use super::inventory::{self, Gpu, SlotSpec};
use crate::error::CliError;

/// `agent.toml`. Every field is optional in the file; `resolve` fills the defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// RPC endpoint (moniker or URL) [default: the CLI's -u or Solana config].
    pub rpc_url: Option<String>,
    /// WebSocket endpoint [default: derived from the RPC URL as the Solana CLI does].
    pub ws_url: Option<String>,
    /// Provider wallet [default: the CLI's -k or Solana config].
    pub keypair: Option<PathBuf>,
    /// "all" or a list of listing addresses to serve.
    pub listings: Option<Listings>,
    /// Run for each new rental; prints connection details as JSON, or exits non-zero.
    pub provision_command: Option<String>,
    /// Run once for each ended rental the agent served.
    pub teardown_command: Option<String>,
    pub provision_timeout_secs: Option<u64>,
    pub teardown_timeout_secs: Option<u64>,
    /// How often to look at the chain when no notification arrives.
    pub poll_interval_secs: Option<u64>,
    /// Where the journal and the status file live [default: ~/.local/state/gpu-escrow/agent-<provider>].
    pub state_dir: Option<PathBuf>,
    /// Priority fee: micro-lamports per compute unit, or "auto" [default: the CLI's
    /// --with-compute-unit-price, else none].
    pub compute_unit_price: Option<String>,
    pub claim: Option<ClaimPolicyFile>,
    /// This host's GPUs, where `nvidia-smi` cannot report them (or to pin what it must find).
    #[serde(default)]
    pub gpus: Vec<Gpu>,
    /// The listings this agent serves from slots, each with its backend.
    #[serde(default)]
    pub serve: Vec<Serve>,
    /// How often a running rental's machine is checked (and always before a heartbeat).
    pub probe_interval_secs: Option<u64>,
    /// Keep payouts in wrapped SOL wrapped [default: false: the agent closes the provider's
    /// wrapped-SOL account to its wallet after they land, so they arrive as SOL].
    pub keep_wrapped_sol: Option<bool>,
}

/// `[[serve]]`: one listing, the backend that makes its machines, and its slots (as many as
/// the listing's on-chain capacity).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serve {
    pub listing: String,
    pub backend: BackendKind,
    /// The address renters connect to (this host's or the cluster's public name or IP).
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub container: Option<ContainerConfig>,
    #[serde(default)]
    pub kubernetes: Option<KubernetesConfig>,
    #[serde(default)]
    pub command: Option<CommandConfig>,
    pub slots: Vec<SlotSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Container,
    Kubernetes,
    Command,
}

/// `[serve.command]`: the provider's own tooling, now given the slot too.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    pub provision: String,
    #[serde(default)]
    pub teardown: Option<String>,
    /// Check TCP and the host key before activating [default: true].
    #[serde(default = "yes")]
    pub probe: bool,
    #[serde(default)]
    pub probe_host: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Listings {
    All(String),
    Some(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimPolicyFile {
    /// Claim each rental at least this often.
    pub every_minutes: Option<u64>,
    /// Claim a rental as soon as its unclaimed share reaches this many tokens (e.g. "1.50").
    pub min_amount: Option<String>,
}

/// The settings the agent runs with.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub rpc_url: Option<String>,
    pub ws_url: Option<String>,
    pub keypair: Option<PathBuf>,
    /// None = every listing of the provider.
    pub listings: Option<Vec<String>>,
    /// The flag-configured command for listings without slots (None when `serve` is used).
    pub provision_command: Option<String>,
    pub teardown_command: Option<String>,
    pub provision_timeout_secs: u64,
    pub teardown_timeout_secs: u64,
    pub poll_interval_secs: u64,
    pub state_dir: Option<PathBuf>,
    pub claim_every_secs: Option<u64>,
    /// Decimal token amount; converted per mint.
    pub claim_min_amount: Option<String>,
    pub compute_unit_price: Option<String>,
    pub gpus: Vec<Gpu>,
    pub serve: Vec<Serve>,
    pub probe_interval_secs: u64,
    pub keep_wrapped_sol: bool,
}

/// Command-line values that override the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub provision_command: Option<String>,
    pub teardown_command: Option<String>,
    pub listings: Vec<String>,
    pub state_dir: Option<PathBuf>,
    pub poll_interval_secs: Option<u64>,
    pub claim_every_minutes: Option<u64>,
    pub claim_min_amount: Option<String>,
    /// The CLI's global `--keep-wsol`: keeps wrapped SOL wrapped whatever the file says.
    pub keep_wrapped_sol: bool,
}

pub fn load(path: Option<&Path>) -> Result<FileConfig, CliError> {
    let Some(path) = path else { return Ok(FileConfig::default()) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("cannot read agent config {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| CliError::Input(format!("agent config {}: {e}", path.display())))
}

/// Relative paths in the file are relative to the file's directory.
fn beside(file: Option<&Path>, p: PathBuf) -> PathBuf {
    match file.and_then(Path::parent) {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p,
    }
}

pub fn resolve(file_path: Option<&Path>, f: FileConfig, o: Overrides) -> Result<AgentConfig, CliError> {
    let listings = if !o.listings.is_empty() {
        Some(o.listings)
    } else {
        match f.listings {
            None => None,
            Some(Listings::All(s)) if s == "all" => None,
            Some(Listings::All(s)) => {
                return Err(CliError::Input(format!(
                    "agent config: listings = \"{s}\": use \"all\" or a list of addresses"
                )))
            }
            Some(Listings::Some(v)) => Some(v),
        }
    };
    let provision_command = o.provision_command.or(f.provision_command);
    check_serve(&f.serve)?;
    if f.serve.is_empty() && provision_command.is_none() {
        return Err(CliError::Input(
            "the agent needs [[serve]] listings in its config (or --provision CMD for listings without slots)".into(),
        ));
    }
    if !f.serve.is_empty() && (provision_command.is_some() || listings.is_some()) {
        return Err(CliError::Input(
            "with [[serve]] the agent serves exactly those listings: drop provision_command/--provision and \
             listings/--listing (a command goes in [serve.command])"
                .into(),
        ));
    }
    let claim = f.claim.unwrap_or_default();
    let poll = o.poll_interval_secs.or(f.poll_interval_secs).unwrap_or(5);
    if poll == 0 {
        return Err(CliError::Input("poll interval must be at least 1 second".into()));
    }
    Ok(AgentConfig {
        rpc_url: f.rpc_url,
        ws_url: f.ws_url,
        keypair: f.keypair.map(|k| beside(file_path, k)),
        listings,
        provision_command,
        teardown_command: o.teardown_command.or(f.teardown_command),
        provision_timeout_secs: f.provision_timeout_secs.unwrap_or(120),
        teardown_timeout_secs: f.teardown_timeout_secs.unwrap_or(120),
        poll_interval_secs: poll,
        state_dir: o.state_dir.or(f.state_dir.map(|d| beside(file_path, d))),
        claim_every_secs: o.claim_every_minutes.or(claim.every_minutes).map(|m| m * 60),
        claim_min_amount: o.claim_min_amount.or(claim.min_amount),
        compute_unit_price: f.compute_unit_price,
        gpus: f.gpus,
        serve: f.serve,
        probe_interval_secs: f.probe_interval_secs.unwrap_or(30).max(1),
        keep_wrapped_sol: o.keep_wrapped_sol || f.keep_wrapped_sol.unwrap_or(false),
    })
}

/// Each `[[serve]]` names its backend's table and a public host where it needs one, and
/// the slots of all of them together never share a GPU or port.
fn check_serve(serve: &[Serve]) -> Result<(), CliError> {
    let bad = |s: &Serve, why: String| CliError::Input(format!("agent config: [[serve]] listing {}: {why}", s.listing));
    for s in serve {
        if serve.iter().filter(|o| o.listing == s.listing).count() > 1 {
            return Err(bad(s, "served twice".into()));
        }
        let tables = [s.container.is_some(), s.kubernetes.is_some(), s.command.is_some()];
        let wanted = match s.backend {
            BackendKind::Container => 0,
            BackendKind::Kubernetes => 1,
            BackendKind::Command => 2,
        };
        let name = ["container", "kubernetes", "command"][wanted];
        if !tables[wanted] {
            return Err(bad(s, format!("backend \"{name}\" needs a [serve.{name}] table")));
        }
        if tables.iter().filter(|t| **t).count() > 1 {
            return Err(bad(s, format!("only the [serve.{name}] table belongs to backend \"{name}\"")));
        }
        if s.backend != BackendKind::Command && s.host.as_deref().is_none_or(str::is_empty) {
            return Err(bad(s, "host = \"<address renters connect to>\" is required".into()));
        }
        if s.backend == BackendKind::Kubernetes {
            if let Some(p) = s.slots.iter().flat_map(SlotSpec::ports).find(|p| !NODE_PORTS.contains(p)) {
                return Err(bad(s, format!("port {p} is outside Kubernetes' node port range 30000-32767")));
            }
        }
    }
    inventory::check_slots(serve.iter().map(|s| (s.listing.as_str(), s.slots.as_slice())))
        .map_err(|e| CliError::Input(format!("agent config: {e}")))
}

/// The PubSub URL for an RPC URL, as the Solana CLI derives it: ws(s), port + 1.
pub fn ws_url_for(rpc_url: &str) -> String {
    let (scheme, rest) = match rpc_url.split_once("://") {
        Some(("https", r)) => ("wss", r),
        Some((_, r)) => ("ws", r),
        None => ("ws", rpc_url),
    };
    let (hostport, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, String::new()));
    match hostport.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => {
            let port: u16 = port.parse().expect("checked");
            format!("{scheme}://{host}:{}{path}", port.saturating_add(1))
        }
        _ => format!("{scheme}://{hostport}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_parses_and_flags_win() {
        let f: FileConfig = toml::from_str(
            r#"
            rpc_url = "http://127.0.0.1:8899"
            keypair = "provider.json"
            listings = "all"
            provision_command = "./provision.sh"
            teardown_command = "./teardown.sh"
            [claim]
            every_minutes = 30
            min_amount = "1.50"
            "#,
        )
        .unwrap();
        let o = Overrides { provision_command: Some("other".into()), ..Default::default() };
        let c = resolve(Some(Path::new("/etc/gpu/agent.toml")), f, o).unwrap();
        assert_eq!(c.provision_command.as_deref(), Some("other"));
        assert_eq!(c.keypair.unwrap(), PathBuf::from("/etc/gpu/provider.json"));
        assert_eq!((c.listings, c.claim_every_secs, c.claim_min_amount.as_deref()), (None, Some(1_800), Some("1.50")));
        let bad: Result<FileConfig, _> = toml::from_str("provison_command = \"typo\"");
        assert!(bad.unwrap_err().to_string().contains("unknown field"));
        assert!(!c.keep_wrapped_sol, "payouts in wrapped SOL are unwrapped by default");
        assert!(resolve(None, FileConfig::default(), Overrides::default()).is_err(), "something to serve is required");
    }

    #[test]
    fn keeping_wrapped_sol_is_a_checked_setting_and_the_flag_wins() {
        let with = |line: &str, flag: bool| {
            let f: FileConfig = toml::from_str(&format!("provision_command = \"p\"\n{line}"))
                .map_err(|e| CliError::Input(e.to_string()))?;
            resolve(None, f, Overrides { keep_wrapped_sol: flag, ..Default::default() }).map(|c| c.keep_wrapped_sol)
        };
        assert!(with("keep_wrapped_sol = true", false).unwrap());
        assert!(!with("keep_wrapped_sol = false", false).unwrap());
        assert!(with("keep_wrapped_sol = false", true).unwrap(), "--keep-wsol keeps it wrapped");
        let e = with("keep_wrapped_sol = \"yes\"", false).unwrap_err().to_string();
        assert!(e.contains("invalid type") && e.contains("keep_wrapped_sol"), "{e}");
        let e = with("keep_wraped_sol = true", false).unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn the_example_configs_per_backend_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agent");
        for (file, kind) in [
            ("agent.toml", BackendKind::Container),
            ("agent-kubernetes.toml", BackendKind::Kubernetes),
            ("agent-command.toml", BackendKind::Command),
        ] {
            let path = dir.join(file);
            let f: FileConfig =
                toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{file}: {e}"));
            let c = resolve(Some(&path), f, Overrides::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(c.serve[0].backend, kind, "{file}");
            assert!(!c.serve[0].slots.is_empty(), "{file}");
        }
    }

    #[test]
    fn serve_entries_are_checked_before_anything_runs() {
        let parse = |extra: &str| -> Result<AgentConfig, CliError> {
            let text = format!("[[serve]]\nlisting = \"L1\"\nbackend = \"container\"\nhost = \"203.0.113.7\"\n{extra}");
            let f: FileConfig = toml::from_str(&text).map_err(|e| CliError::Input(e.to_string()))?;
            resolve(None, f, Overrides::default())
        };
        let container = "[serve.container]\nruntime = \"podman\"\nimage = \"i\"\n";
        let slot = |gpu: &str, port: u16| {
            format!("[[serve.slots]]\ngpus = [\"{gpu}\"]\nssh_port = {port}\ncpus = 2\nmemory_gb = 8\n")
        };
        assert!(parse(&format!("{container}{}{}", slot("GPU-a", 2201), slot("GPU-b", 2202))).is_ok());
        let e = parse(&format!("{container}{}{}", slot("GPU-a", 2201), slot("GPU-a", 2202))).unwrap_err();
        assert!(e.to_string().contains("GPU GPU-a is in both"), "{e}");
        let e = parse(&slot("GPU-a", 2201)).unwrap_err();
        assert!(e.to_string().contains("needs a [serve.container] table"), "{e}");
        let o = Overrides { provision_command: Some("x".into()), ..Default::default() };
        let f: FileConfig = toml::from_str(&format!(
            "[[serve]]\nlisting = \"L1\"\nbackend = \"container\"\nhost = \"h\"\n{container}{}",
            slot("GPU-a", 2201)
        ))
        .unwrap();
        assert!(resolve(None, f, o).unwrap_err().to_string().contains("exactly those listings"));
    }

    #[test]
    fn websocket_urls_follow_the_solana_cli() {
        assert_eq!(ws_url_for("http://127.0.0.1:8899"), "ws://127.0.0.1:8900");
        assert_eq!(ws_url_for("https://api.devnet.solana.com"), "wss://api.devnet.solana.com");
        assert_eq!(ws_url_for("https://rpc.example.com:443/key/abc"), "wss://rpc.example.com:444/key/abc");
    }
}
