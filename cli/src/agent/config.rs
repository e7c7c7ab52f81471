//! The agent's configuration: a TOML file, with flags for the common fields (flags win).
use std::path::{Path, PathBuf};

use serde::Deserialize;

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
    pub provision_command: String,
    pub teardown_command: Option<String>,
    pub provision_timeout_secs: u64,
    pub teardown_timeout_secs: u64,
    pub poll_interval_secs: u64,
    pub state_dir: Option<PathBuf>,
    pub claim_every_secs: Option<u64>,
    /// Decimal token amount; converted per mint.
    pub claim_min_amount: Option<String>,
    pub compute_unit_price: Option<String>,
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
    let provision_command = o.provision_command.or(f.provision_command).ok_or_else(|| {
        CliError::Input(
            "the agent needs a provision command (--provision CMD or provision_command in the config)".into(),
        )
    })?;
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
    })
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
        assert_eq!(c.provision_command, "other");
        assert_eq!(c.keypair.unwrap(), PathBuf::from("/etc/gpu/provider.json"));
        assert_eq!((c.listings, c.claim_every_secs, c.claim_min_amount.as_deref()), (None, Some(1_800), Some("1.50")));
        let bad: Result<FileConfig, _> = toml::from_str("provison_command = \"typo\"");
        assert!(bad.unwrap_err().to_string().contains("unknown field"));
        assert!(resolve(None, FileConfig::default(), Overrides::default()).is_err(), "a provision command is required");
    }

    #[test]
    fn the_example_config_in_the_repository_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agent/agent.toml");
        let f: FileConfig = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let c = resolve(Some(&path), f, Overrides::default()).unwrap();
        assert!(c.provision_command.ends_with("provision.sh") && c.teardown_command.is_some());
        assert_eq!((c.claim_every_secs, c.claim_min_amount.as_deref()), (Some(1_800), Some("5.00")));
    }

    #[test]
    fn websocket_urls_follow_the_solana_cli() {
        assert_eq!(ws_url_for("http://127.0.0.1:8899"), "ws://127.0.0.1:8900");
        assert_eq!(ws_url_for("https://api.devnet.solana.com"), "wss://api.devnet.solana.com");
        assert_eq!(ws_url_for("https://rpc.example.com:443/key/abc"), "wss://rpc.example.com:444/key/abc");
    }
}
