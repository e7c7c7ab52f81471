//! Cluster, wallet and output settings, following the Solana CLI: the config file
//! (~/.config/solana/cli/config.yml), `-u/--url` with monikers, `-k/--keypair`, `--commitment`.
use std::path::{Path, PathBuf};

use gpu_escrow_sdk::client::EscrowClient;
use gpu_escrow_sdk::{CommitmentConfig, Keypair, Pubkey, Signer};

use crate::error::CliError;
use crate::output::Format;

#[derive(Debug, Default, serde::Deserialize)]
struct SolanaConfig {
    json_rpc_url: Option<String>,
    keypair_path: Option<String>,
    commitment: Option<String>,
}

pub struct Context {
    pub url: String,
    pub keypair_path: PathBuf,
    pub commitment: CommitmentConfig,
    pub format: Format,
    pub client: EscrowClient,
    /// The priority fee the user chose (`--with-compute-unit-price`).
    pub compute_unit_price: gpu_escrow_sdk::client::ComputeUnitPrice,
    /// `--keep-wsol`: payouts in wrapped SOL stay wrapped instead of returning as SOL.
    pub keep_wsol: bool,
    /// The `-u`/`-k` the user typed, repeated in the commands we suggest.
    url_arg: Option<String>,
    keypair_arg: Option<PathBuf>,
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}

pub fn default_config_path() -> PathBuf {
    home().join(".config/solana/cli/config.yml")
}

/// Resolves Solana monikers (`localhost`, `devnet`, `testnet`, `mainnet-beta` and their first
/// letters) to URLs; anything else must be an http(s) URL.
pub fn resolve_url(text: &str) -> Result<String, CliError> {
    Ok(match text {
        "l" | "localhost" => "http://127.0.0.1:8899".into(),
        "d" | "devnet" => "https://api.devnet.solana.com".into(),
        "t" | "testnet" => "https://api.testnet.solana.com".into(),
        "m" | "mainnet-beta" => "https://api.mainnet-beta.solana.com".into(),
        u if u.starts_with("http://") || u.starts_with("https://") => u.into(),
        other => {
            return Err(CliError::Input(format!(
                "unknown cluster `{other}`: use localhost, devnet, testnet, mainnet-beta or an http(s) URL"
            )))
        }
    })
}

fn parse_commitment(text: &str) -> Result<CommitmentConfig, CliError> {
    match text {
        "processed" => Ok(CommitmentConfig::processed()),
        "confirmed" => Ok(CommitmentConfig::confirmed()),
        "finalized" => Ok(CommitmentConfig::finalized()),
        other => Err(CliError::Input(format!("unknown commitment `{other}`: use processed, confirmed or finalized"))),
    }
}

impl Context {
    pub fn new(
        config_file: Option<&Path>,
        url: Option<&str>,
        keypair: Option<&Path>,
        commitment: Option<&str>,
        format: Format,
    ) -> Result<Self, CliError> {
        let path = config_file.map(Path::to_path_buf).unwrap_or_else(default_config_path);
        let file: SolanaConfig = match std::fs::read_to_string(&path) {
            Ok(text) => serde_yaml::from_str(&text)
                .map_err(|e| CliError::Input(format!("cannot parse Solana CLI config {}: {e}", path.display())))?,
            Err(_) if config_file.is_none() => SolanaConfig::default(),
            Err(e) => return Err(CliError::Input(format!("cannot read config file {}: {e}", path.display()))),
        };
        let url_text = url;
        let url = resolve_url(url.or(file.json_rpc_url.as_deref()).unwrap_or("localhost"))?;
        let keypair_path = keypair
            .map(Path::to_path_buf)
            .or(file.keypair_path.map(PathBuf::from))
            .unwrap_or_else(|| home().join(".config/solana/id.json"));
        let commitment = parse_commitment(commitment.or(file.commitment.as_deref()).unwrap_or("confirmed"))?;
        let client = EscrowClient::new(url.clone(), commitment);
        let (url_arg, keypair_arg) = (url_text.map(str::to_string), keypair.map(Path::to_path_buf));
        Ok(Context {
            url,
            keypair_path,
            commitment,
            format,
            client,
            compute_unit_price: Default::default(),
            keep_wsol: false,
            url_arg,
            keypair_arg,
        })
    }

    /// Every transaction from now on pays this priority fee.
    pub fn set_compute_unit_price(&mut self, price: gpu_escrow_sdk::client::ComputeUnitPrice) {
        self.compute_unit_price = price;
        self.client = EscrowClient::new(self.url.clone(), self.commitment).with_compute_unit_price(price);
    }

    /// What a command's few transactions can cost in fees at most: base fees, and the
    /// priority fee at the chosen (or the automatic mode's highest) price for 200,000
    /// compute units, more than a rent or a settlement with its account creations uses.
    pub fn fee_allowance(&self) -> u64 {
        use gpu_escrow_sdk::client::{ComputeUnitPrice, MAX_AUTO_UNIT_PRICE};
        let price = match self.compute_unit_price {
            ComputeUnitPrice::None => 0,
            ComputeUnitPrice::Fixed(p) => p,
            ComputeUnitPrice::Auto => MAX_AUTO_UNIT_PRICE,
        };
        20_000 + (price as u128 * 200_000).div_ceil(1_000_000).min(u64::MAX as u128) as u64
    }

    /// A command to suggest to the user, with the `-u` and `-k` they gave.
    pub fn hint(&self, command: &str) -> String {
        let mut out = self.hint_for_others(command);
        if let Some(k) = &self.keypair_arg {
            out = out.replacen("gpu-escrow", &format!("gpu-escrow -k {}", k.display()), 1);
        }
        out
    }

    /// A command for another party to run: only the cluster is repeated, not the wallet.
    pub fn hint_for_others(&self, command: &str) -> String {
        match &self.url_arg {
            Some(u) => format!("gpu-escrow -u {u} {command}"),
            None => format!("gpu-escrow {command}"),
        }
    }

    /// The wallet from `-k` or the config file, with a clear error if it cannot be read.
    pub fn signer(&self) -> Result<Keypair, CliError> {
        read_keypair(&self.keypair_path)
    }

    pub fn signer_pubkey(&self) -> Result<Pubkey, CliError> {
        Ok(self.signer()?.pubkey())
    }
}

pub fn read_keypair(path: &Path) -> Result<Keypair, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let fix = if e.kind() == std::io::ErrorKind::NotFound {
            "; pass your wallet with `-k FILE`, or create one with `gpu-escrow dev keygen <FILE>`"
        } else {
            ""
        };
        CliError::Input(format!("cannot read keypair file {}: {e}{fix}", path.display()))
    })?;
    let bytes: Vec<u8> = serde_json::from_str(&text)
        .map_err(|_| CliError::Input(format!("keypair file {} is not a JSON array of 64 bytes", path.display())))?;
    Keypair::try_from(bytes.as_slice())
        .map_err(|_| CliError::Input(format!("keypair file {} does not hold a valid ed25519 keypair", path.display())))
}

pub fn write_keypair(path: &Path, k: &Keypair) -> Result<(), CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CliError::Input(format!("cannot create {}: {e}", dir.display())))?;
    }
    let json = serde_json::to_string(&k.to_bytes().to_vec()).expect("bytes serialise");
    std::fs::write(path, json).map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
}

/// An address, or an error saying what is wrong with it (bad character, wrong length).
pub fn parse_pubkey(text: &str, what: &str) -> Result<Pubkey, CliError> {
    let bad = |why: String| CliError::Input(format!("{what} `{text}` is not a valid address: {why}"));
    let bytes = bs58::decode(text).into_vec().map_err(|e| match e {
        bs58::decode::Error::InvalidCharacter { character, .. } => {
            bad(format!("`{character}` is not a base58 character (base58 leaves out 0, O, I and l)"))
        }
        other => bad(other.to_string()),
    })?;
    let array: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| bad(format!("it decodes to {} bytes and an address has 32", bytes.len())))?;
    Ok(Pubkey::new_from_array(array))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        let good = "So11111111111111111111111111111111111111112";
        assert_eq!(parse_pubkey(good, "mint").unwrap().to_string(), good);
        let short = parse_pubkey(&good[..42], "mint").unwrap_err().to_string();
        assert!(short.contains("decodes to 31 bytes and an address has 32"), "{short}");
        let zero = parse_pubkey("So1111111111111111111111111111111111111111O", "rental").unwrap_err().to_string();
        assert!(zero.starts_with("rental `So1") && zero.contains("`O` is not a base58 character"), "{zero}");
        assert!(parse_pubkey("", "listing").unwrap_err().to_string().contains("decodes to 0 bytes"));
    }

    #[test]
    fn hints_repeat_the_cluster_and_wallet_given() {
        let ctx = Context::new(None, Some("devnet"), Some(Path::new("me.json")), None, Format::Human).unwrap();
        assert_eq!(ctx.hint("status X"), "gpu-escrow -k me.json -u devnet status X");
        assert_eq!(ctx.hint_for_others("withdraw X"), "gpu-escrow -u devnet withdraw X");
    }
}
