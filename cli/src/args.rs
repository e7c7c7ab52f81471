use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

const EXAMPLES: &str = "Examples:
  gpu-escrow -u devnet market --gpu \"RTX 4090\" --max-price 1.50
  gpu-escrow rent <LISTING> --hours 2          (shows the quote, asks before sending)
  gpu-escrow watch <RENTAL> --alert-below 10   (live meter; warns under 10 minutes left)
  gpu-escrow stop <RENTAL>                     (pays the provider, the fee, refunds the rest)
  gpu-escrow claim --all                       (provider: collect from every rental)
  gpu-escrow history --csv rentals.csv         (records for expenses and taxes)
Config: reads ~/.config/solana/cli/config.yml like the Solana CLI; -u and -k override it.";

/// Rent and provide GPUs with per-second escrow on Solana.
///
/// Amounts are written in tokens with decimals (`--deposit 12.5`, `--price 0.60`), never in
/// base units; prices are per hour and billing is per second of actual use.
#[derive(Parser)]
#[command(name = "gpu-escrow", version, propagate_version = true, after_help = EXAMPLES)]
pub struct Cli {
    /// Solana CLI config file [default: ~/.config/solana/cli/config.yml]
    #[arg(short = 'C', long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Cluster: localhost, devnet, testnet, mainnet-beta (or l/d/t/m), or an RPC URL
    #[arg(short = 'u', long, global = true, value_name = "URL_OR_MONIKER")]
    pub url: Option<String>,
    /// Wallet keypair file [default: from the config file, else ~/.config/solana/id.json]
    #[arg(short = 'k', long, global = true, value_name = "KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// Commitment to wait for: processed, confirmed or finalized
    #[arg(long, global = true, value_name = "LEVEL")]
    pub commitment: Option<String>,
    /// Output format: human text, or one JSON document (errors as JSON on stderr)
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub output: Format,
    /// Keep payouts in wrapped SOL wrapped (by default they return to the wallet as SOL)
    #[arg(long, global = true)]
    pub keep_wsol: bool,
    /// Priority fee of every transaction: micro-lamports per compute unit, or `auto` (the 75th
    /// percentile of recent fees for the same accounts, capped at 5 lamports per unit) [default: none]
    #[arg(
        long = "with-compute-unit-price",
        global = true,
        value_name = "MICRO_LAMPORTS|auto",
        env = "GPU_ESCROW_COMPUTE_UNIT_PRICE"
    )]
    pub compute_unit_price: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Admin: create, show or change the global config
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Admin: accept or stop accepting a payment token
    #[command(subcommand)]
    Mint(MintCmd),
    /// Admin: stop new listings, rentals and top-ups (payouts never stop)
    Pause,
    /// Admin: lift a pause
    Unpause,
    /// Admin: hand the admin role to another wallet (two steps)
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Provider: register or show a provider profile and reputation
    #[command(subcommand)]
    Provider(ProviderCmd),
    /// Provider: create and manage GPU listings
    #[command(subcommand)]
    Listing(ListingCmd),
    /// Provider: grant access to a funded rental, sealing the connection details to the renter; billing starts now
    Activate(ActivateArgs),
    /// Provider: refuse a funded rental; the renter gets everything back
    Decline {
        /// Rental address
        rental: String,
    },
    /// Provider: run the unattended agent: provision, activate, heartbeat, claim, finalize, tear down
    #[command(subcommand)]
    Agent(AgentCmd),
    /// Provider: prove service for SLA listings (one-shot, or a loop with --every)
    Heartbeat(HeartbeatArgs),
    /// Provider: collect earnings so far (the platform fee goes to the treasury)
    Claim(ClaimArgs),
    /// Renter: search listings
    Market(MarketArgs),
    /// Renter: open a rental on a listing, after showing the quote; waits for access
    Rent(RentArgs),
    /// Renter: show how to reach the machine (opens the provider's sealed connection details)
    Access {
        /// Rental address
        rental: String,
    },
    /// Anyone: deliver funds held in a rental to the payees' token accounts, once they can receive
    Deliver {
        /// Rental address
        rental: String,
    },
    /// Any payee: take out funds held for you because your token account could not receive
    Withdraw {
        /// Rental address
        rental: String,
        /// Token account to receive into [default: your associated token account, created if missing]
        #[arg(long, value_name = "TOKEN_ACCOUNT")]
        to: Option<String>,
    },
    /// Your rentals, as renter and as provider
    Rentals,
    /// One rental's state and meter
    Status {
        /// Rental address
        rental: String,
    },
    /// Live meter: elapsed, cost so far, time left
    Watch(WatchArgs),
    /// Renter: add funds to extend a rental
    TopUp {
        /// Rental address
        rental: String,
        /// Amount in tokens, e.g. 5 or 2.5 (in a SOL rental, SOL is wrapped as needed)
        #[arg(allow_hyphen_values = true)]
        amount: String,
    },
    /// Renter or provider: end a running rental now (pays, takes the fee, refunds the rest)
    Stop {
        /// Rental address
        rental: String,
    },
    /// Renter: cancel before activation for a full refund (anyone may after the timeout)
    Cancel {
        /// Rental address
        rental: String,
    },
    /// Renter: close a finished rental, reclaim its account deposits (SOL), optionally rate 1-5
    Close {
        /// Rental address
        rental: String,
        /// Rating from 1 to 5 stars (needs at least 10 billed minutes) [default: no rating]
        #[arg(long, value_name = "N")]
        rate: Option<u8>,
    },
    /// Renter: rate a settled rental 1-5 (once; needs at least 10 billed minutes and the token's minimum)
    Rate {
        /// Rental address
        rental: String,
        /// Stars, 1 to 5
        stars: u8,
    },
    /// Disputes: open (either party), resolve (arbiter), finalize-expired (anyone)
    #[command(subcommand)]
    Dispute(DisputeCmd),
    /// Anyone: settle a rental whose paid time or heartbeat SLA has run out
    Finalize {
        /// Rental address
        rental: String,
    },
    /// Receipt of one rental, rebuilt from on-chain events (also after closing)
    Receipt {
        /// Rental address (open or closed)
        rental: String,
    },
    /// All your rentals as receipts; --csv writes them for expense and tax records
    History {
        /// Also write the receipts to this CSV file (Unix times, ISO 8601 UTC and local time)
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
    },
    /// Deploy the program binary through the upgradeable loader
    #[command(subcommand)]
    Program(ProgramCmd),
    /// Local-cluster helpers: airdrop SOL, create a test token, mint test tokens
    #[command(subcommand)]
    Dev(DevCmd),
    /// Print your wallet's address (the public key of -k or the Solana config's keypair)
    Address,
    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell to print completions for
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Create the config (only the program's upgrade authority may)
    Init {
        /// Wallet that resolves disputes (it may not rule on rentals it is a party to)
        #[arg(long)]
        arbiter: String,
        /// Wallet that owns the fee token accounts
        #[arg(long)]
        treasury: String,
        /// Platform fee in basis points (100 = 1%), at most 3000
        #[arg(long, default_value_t = 250)]
        fee_bps: u16,
        /// Seconds a provider has to activate before the renter may claim a no-show
        #[arg(long, default_value_t = 3_600)]
        activation_timeout: u32,
        /// Seconds before an unresolved dispute settles as earned
        #[arg(long, default_value_t = 7 * 24 * 3_600)]
        dispute_timeout: u32,
    },
    /// Show the config: admin, arbiter, treasury, fee, timeouts, pause
    Show,
    /// Change fields; fee and timeouts apply to rentals opened afterwards
    Update {
        /// New arbiter wallet [default: unchanged]
        #[arg(long)]
        arbiter: Option<String>,
        /// New treasury wallet (owner of the fee token accounts) [default: unchanged]
        #[arg(long)]
        treasury: Option<String>,
        /// New platform fee in basis points (100 = 1%), at most 3000 [default: unchanged]
        #[arg(long)]
        fee_bps: Option<u16>,
        /// New seconds a provider has to activate [default: unchanged]
        #[arg(long)]
        activation_timeout: Option<u32>,
        /// New seconds before an unresolved dispute settles as earned [default: unchanged]
        #[arg(long)]
        dispute_timeout: Option<u32>,
    },
}

#[derive(Subcommand)]
pub enum MintCmd {
    /// Accept a token for payment (SPL Token or Token-2022; So11111111111111111111111111111111111111112 for SOL)
    Add {
        /// Mint address of the token
        mint: String,
        /// Amount (in tokens) a rental must have billed before its renter may rate it, so ratings cost real money
        #[arg(long, value_name = "AMOUNT", default_value = "1")]
        min_rated: String,
    },
    /// Stop accepting a token for new listings (running rentals are not affected)
    Remove {
        /// Mint address of the token
        mint: String,
    },
}

#[derive(Subcommand)]
pub enum AdminCmd {
    /// Name the next admin
    Propose {
        /// Wallet that becomes admin once it runs `admin accept`
        new_admin: String,
    },
    /// Accept the admin role (signed by the proposed wallet)
    Accept,
}

#[derive(Subcommand)]
pub enum ProviderCmd {
    /// Create your provider profile (needed before listing a GPU)
    Register,
    /// A provider's reputation: rentals completed, time billed, no-shows, disputes, rating
    Show {
        /// The provider's wallet address [default: your wallet]
        authority: Option<String>,
    },
}

#[derive(Args, Clone)]
// A listing's terms; `listing update` keeps every value not given. (A plain comment: a doc
// comment on a flattened struct would replace the subcommand's about text.)
pub struct ListingSpec {
    /// Price per hour in tokens, e.g. 0.60 (required when creating)
    #[arg(long, value_name = "PER_HOUR", allow_hyphen_values = true)]
    pub price: Option<String>,
    /// GPU model, e.g. "RTX 4090" (max 32 bytes; required when creating)
    #[arg(long, value_name = "MODEL")]
    pub gpu: Option<String>,
    /// Number of GPUs in the machine [default when creating: 1]
    #[arg(long, value_name = "N")]
    pub gpu_count: Option<u8>,
    /// GPU memory in GB [default when creating: not stated]
    #[arg(long, value_name = "GB")]
    pub vram: Option<u16>,
    /// CPU cores [default when creating: not stated]
    #[arg(long, value_name = "CORES")]
    pub cpu: Option<u16>,
    /// System memory in GB [default when creating: not stated]
    #[arg(long, value_name = "GB")]
    pub ram: Option<u32>,
    /// Disk in GB [default when creating: not stated]
    #[arg(long, value_name = "GB")]
    pub disk: Option<u32>,
    /// Region label, e.g. eu-west (max 16 bytes) [default when creating: any]
    #[arg(long)]
    pub region: Option<String>,
    /// Shortest rental in minutes [default when creating: 1]
    #[arg(long, value_name = "MINUTES")]
    pub min_minutes: Option<u32>,
    /// Longest rental in hours [default when creating: 720, i.e. 30 days]
    #[arg(long, value_name = "HOURS")]
    pub max_hours: Option<u32>,
    /// Heartbeat SLA in seconds (0 = none); billing stops if a heartbeat is missed [default when creating: 0]
    #[arg(long, value_name = "SECS")]
    pub heartbeat_interval: Option<u32>,
    /// Concurrent rentals allowed [default when creating: 1]
    #[arg(long, value_name = "N")]
    pub capacity: Option<u16>,
}

#[derive(Subcommand)]
pub enum ListingCmd {
    /// List a GPU for rent
    Create {
        /// Payment token mint (must be accepted by the admin)
        #[arg(long)]
        mint: String,
        #[command(flatten)]
        spec: ListingSpec,
    },
    /// Change a listing; values not given stay as they are, running rentals keep their terms
    Update {
        /// Listing address (yours)
        listing: String,
        #[command(flatten)]
        spec: ListingSpec,
    },
    /// Stop taking new rentals on a listing (running rentals continue)
    Pause {
        /// Listing address (yours)
        listing: String,
    },
    /// Take new rentals on a paused listing again
    Resume {
        /// Listing address (yours)
        listing: String,
    },
    /// Close a listing with no open rentals (its account deposit returns to you)
    Close {
        /// Listing address (yours)
        listing: String,
    },
}

#[derive(Args)]
pub struct HeartbeatArgs {
    /// Rentals to heartbeat (default with --all: every active SLA rental you provide)
    pub rentals: Vec<String>,
    /// Heartbeat every active SLA rental you provide (instead of naming them)
    #[arg(long)]
    pub all: bool,
    /// Keep running, sending heartbeats every SECS seconds until Ctrl-C
    #[arg(long, value_name = "SECS")]
    pub every: Option<u64>,
    /// Stop after this many rounds (for scripts)
    #[arg(long, hide = true)]
    pub rounds: Option<u64>,
}

#[derive(Subcommand)]
pub enum AgentCmd {
    /// Run the agent for your provider wallet until SIGTERM or Ctrl-C (then it drains and exits)
    Run(AgentRunArgs),
    /// Counters and health of a running (or the last) agent, from its status file
    Status {
        /// The agent's state directory [default: ~/.local/state/gpu-escrow/agent-<WALLET>]
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct AgentRunArgs {
    /// Agent config file (TOML): rpc_url, keypair, [[gpus]], [[serve]] listings with their backend and slots, [claim]
    #[arg(long, value_name = "FILE")]
    pub agent_config: Option<PathBuf>,
    /// Command run for each new rental of listings without slots; prints connection details as JSON, or exits non-zero to decline
    #[arg(long, value_name = "CMD")]
    pub provision: Option<String>,
    /// Command run once for each ended rental the agent served
    #[arg(long, value_name = "CMD")]
    pub teardown: Option<String>,
    /// Serve only this listing (repeatable) [default: all your listings]
    #[arg(long = "listing", value_name = "LISTING")]
    pub listing: Vec<String>,
    /// Where the journal and status file live [default: ~/.local/state/gpu-escrow/agent-<WALLET>]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Seconds between looks at the chain when no notification arrives [default: 5]
    #[arg(long, value_name = "SECS")]
    pub poll: Option<u64>,
    /// Claim each running rental at least every N minutes
    #[arg(long, value_name = "MINUTES")]
    pub claim_every: Option<u64>,
    /// Claim a rental as soon as its unclaimed share reaches AMOUNT tokens, e.g. 1.50
    #[arg(long, value_name = "AMOUNT")]
    pub claim_min: Option<String>,
}

#[derive(Args)]
pub struct ClaimArgs {
    /// Rental address (or --all)
    pub rental: Option<String>,
    /// Claim from every active rental you provide
    #[arg(long)]
    pub all: bool,
}

#[derive(Args)]
pub struct MarketArgs {
    /// GPU model, exact (e.g. "RTX 4090")
    #[arg(long)]
    pub gpu: Option<String>,
    /// Least GPU memory, in GB (listings that state none are left out)
    #[arg(long, value_name = "GB")]
    pub min_vram: Option<u16>,
    /// Highest price per hour, in each listing's own token, e.g. 1.50
    #[arg(long)]
    pub max_price: Option<String>,
    /// Region label, exact (e.g. eu-west)
    #[arg(long)]
    pub region: Option<String>,
    /// Only listings paid in this token (mint address)
    #[arg(long)]
    pub mint: Option<String>,
    /// Minimum provider rating, 1.0-5.0 (unrated providers are left out)
    #[arg(long)]
    pub min_rating: Option<f64>,
    /// Order: price (cheapest first), vram (most first) or rating (best first)
    #[arg(long, value_enum, default_value = "price")]
    pub sort: SortKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortKey {
    Price,
    Vram,
    Rating,
}

#[derive(Args)]
pub struct ActivateArgs {
    /// Rental address
    pub rental: String,
    /// Connection details as JSON (host, port, user, host_key, host_key_fingerprint, password, url, note); `-` reads stdin
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ssh", "url"])]
    pub details: Option<PathBuf>,
    /// Shorthand for SSH access: USER@HOST or USER@HOST:PORT
    #[arg(long, value_name = "USER@HOST[:PORT]")]
    pub ssh: Option<String>,
    /// A web endpoint for the renter, e.g. a Jupyter URL with its token
    #[arg(long)]
    pub url: Option<String>,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("size").required(true).args(["hours", "deposit"])))]
pub struct RentArgs {
    /// Listing address (from `gpu-escrow market`)
    pub listing: String,
    /// Rent for this many hours (decimals allowed, e.g. 1.5)
    #[arg(long)]
    pub hours: Option<f64>,
    /// Deposit this many tokens; the time follows from the price
    #[arg(long, allow_hyphen_values = true)]
    pub deposit: Option<String>,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// SSH public key for the provider to install [default: ~/.ssh/id_ed25519.pub, id_ecdsa.pub or id_rsa.pub if present]
    #[arg(long, value_name = "FILE", conflicts_with = "no_ssh_key")]
    pub ssh_key: Option<PathBuf>,
    /// Publish no SSH key (the provider may still hand out a password or URL)
    #[arg(long)]
    pub no_ssh_key: bool,
    /// Seconds to wait for the provider to activate and deliver access (0: do not wait)
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub wait: u64,
}

#[derive(Args)]
pub struct WatchArgs {
    /// Rental address
    pub rental: String,
    /// Refresh every SECS seconds
    #[arg(long, default_value_t = 2)]
    pub interval: u64,
    /// Warn when fewer than this many minutes remain
    #[arg(long, value_name = "MINUTES")]
    pub alert_below: Option<u64>,
    /// Stop after this many refreshes [default: until the rental ends or Ctrl-C]
    #[arg(long)]
    pub count: Option<u64>,
}

#[derive(Subcommand)]
pub enum DisputeCmd {
    /// Freeze the earned-but-unclaimed amount; the unearned rest is refunded now
    Open {
        /// Rental address (Active)
        rental: String,
        /// Why, recorded on-chain for the arbiter: 1 or no-access (the machine could not be
        /// reached or used), 2 or degraded (it ran slower, smaller or less reliably than
        /// listed), 3 or billing (the meter charged for time not received), 0 or other
        #[arg(long, value_name = "REASON", default_value = "no-access", value_parser = DisputeReason::parse)]
        reason: DisputeReason,
    },
    /// Arbiter: award part of the locked amount to the provider, the rest to the renter
    Resolve {
        /// Rental address (Disputed)
        rental: String,
        /// Tokens awarded to the provider (before fee)
        #[arg(long, allow_hyphen_values = true)]
        provider_amount: String,
    },
    /// Anyone: settle a dispute past its timeout as earned
    FinalizeExpired {
        /// Rental address (Disputed)
        rental: String,
    },
}

/// Why a dispute was opened; its on-chain code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeReason {
    Other,
    NoAccess,
    Degraded,
    Billing,
}

impl DisputeReason {
    const ALL: [(DisputeReason, u8, &'static str); 4] = [
        (DisputeReason::Other, 0, "other"),
        (DisputeReason::NoAccess, 1, "no-access"),
        (DisputeReason::Degraded, 2, "degraded"),
        (DisputeReason::Billing, 3, "billing"),
    ];

    pub fn code(self) -> u8 {
        Self::ALL.iter().find(|(r, _, _)| *r == self).map(|(_, c, _)| *c).expect("every reason has a code")
    }

    /// A name (`no-access`) or its code (`1`).
    fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(_, code, name)| text == *name || text == code.to_string())
            .map(|(r, _, _)| *r)
            .ok_or_else(|| {
                format!("`{text}` is not a reason: use no-access (1), degraded (2), billing (3) or other (0)")
            })
    }
}

#[derive(Subcommand)]
pub enum ProgramCmd {
    /// Deploy target/deploy/gpu_escrow.so at the program keypair's address
    Deploy {
        /// The program binary (sBPF ELF) to upload
        #[arg(long, default_value = "target/deploy/gpu_escrow.so")]
        so: PathBuf,
        /// Keypair file of the program address (must match the id this CLI was built for)
        #[arg(long)]
        program_keypair: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum DevCmd {
    /// Request an airdrop (local and test clusters only)
    Airdrop {
        /// SOL to request
        #[arg(long, default_value = "10")]
        sol: f64,
        /// Recipient address [default: your wallet]
        to: Option<String>,
    },
    /// Create a test token mint with your wallet as mint (and freeze) authority
    CreateMint {
        /// Decimal places of the token
        #[arg(long, default_value_t = 6)]
        decimals: u8,
        /// Use Token-2022 instead of SPL Token
        #[arg(long)]
        token_2022: bool,
        /// Symbol shown next to amounts, e.g. GPUC (max 10 characters); creates a Token-2022
        /// mint that carries its name and symbol in its metadata extension
        #[arg(long)]
        symbol: Option<String>,
        /// Token name for the metadata (max 32 characters) [default: the symbol]
        #[arg(long, requires = "symbol")]
        name: Option<String>,
    },
    /// Mint test tokens to a wallet (creating its token account)
    MintTo {
        /// Mint address (yours: you must be its mint authority)
        mint: String,
        /// Wallet that receives the tokens
        owner: String,
        /// Amount in tokens, e.g. 100 or 2.5
        amount: String,
    },
    /// Print a wallet's token balance
    Balance {
        /// Mint address of the token
        mint: String,
        /// Wallet address [default: your wallet]
        owner: Option<String>,
    },
    /// Create a new keypair file and print its address (refuses to overwrite)
    Keygen {
        /// Where to write the keypair (a JSON array of 64 bytes, like solana-keygen)
        path: PathBuf,
    },
    /// Wait until the cluster answers (for scripts that just started a validator)
    Wait {
        /// Give up after this many seconds
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    fn missing_help(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        if cmd.get_about().is_none() {
            missing.push(format!("`{path}` (the command itself)"));
        }
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if !matches!(arg.get_id().as_str(), "help" | "version") && arg.get_help().is_none() {
                missing.push(format!("`{path}`: {}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            missing_help(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }

    /// `--help` explains every command, argument and option, so no future one lacks a line.
    #[test]
    fn every_command_argument_and_option_has_help() {
        let mut cmd = Cli::command();
        cmd.build();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        missing_help(&cmd, "gpu-escrow", &mut missing);
        assert!(missing.is_empty(), "without help text:\n{}", missing.join("\n"));
    }

    #[test]
    fn dispute_reasons_take_names_or_codes() {
        use super::DisputeReason;
        assert_eq!(DisputeReason::parse("degraded").map(DisputeReason::code), Ok(2));
        assert_eq!(DisputeReason::parse("3").map(DisputeReason::code), Ok(3));
        assert!(DisputeReason::parse("9").unwrap_err().contains("no-access (1)"));
    }
}
