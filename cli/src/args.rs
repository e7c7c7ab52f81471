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
    /// Output format
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub output: Format,
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
    Decline { rental: String },
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
    Status { rental: String },
    /// Live meter: elapsed, cost so far, time left
    Watch(WatchArgs),
    /// Renter: add funds to extend a rental
    TopUp {
        rental: String,
        /// Amount in tokens, e.g. 5 or 2.5
        #[arg(allow_hyphen_values = true)]
        amount: String,
    },
    /// Renter or provider: end a running rental now (pays, takes the fee, refunds the rest)
    Stop { rental: String },
    /// Renter: cancel before activation for a full refund (anyone may after the timeout)
    Cancel { rental: String },
    /// Renter: close a finished rental, reclaim its rent, optionally rate 1-5
    Close {
        rental: String,
        /// Rating from 1 to 5 stars
        #[arg(long, value_name = "N")]
        rate: Option<u8>,
    },
    /// Disputes: open (either party), resolve (arbiter), finalize-expired (anyone)
    #[command(subcommand)]
    Dispute(DisputeCmd),
    /// Anyone: settle a rental whose paid time or heartbeat SLA has run out
    Finalize { rental: String },
    /// Receipt of one rental, rebuilt from on-chain events (also after closing)
    Receipt { rental: String },
    /// All your rentals as receipts; --csv writes them for expense and tax records
    History {
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
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Create the config (only the program's upgrade authority may)
    Init {
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
    Show,
    /// Change fields; fee and timeouts apply to rentals opened afterwards
    Update {
        #[arg(long)]
        arbiter: Option<String>,
        #[arg(long)]
        treasury: Option<String>,
        #[arg(long)]
        fee_bps: Option<u16>,
        #[arg(long)]
        activation_timeout: Option<u32>,
        #[arg(long)]
        dispute_timeout: Option<u32>,
    },
}

#[derive(Subcommand)]
pub enum MintCmd {
    Add { mint: String },
    Remove { mint: String },
}

#[derive(Subcommand)]
pub enum AdminCmd {
    /// Name the next admin
    Propose { new_admin: String },
    /// Accept the admin role (signed by the proposed wallet)
    Accept,
}

#[derive(Subcommand)]
pub enum ProviderCmd {
    Register,
    Show { authority: Option<String> },
}

#[derive(Args, Clone)]
pub struct ListingSpec {
    /// Price per hour in tokens, e.g. 0.60
    #[arg(long, allow_hyphen_values = true)]
    pub price: Option<String>,
    /// GPU model, e.g. "RTX 4090" (max 32 bytes)
    #[arg(long)]
    pub gpu: Option<String>,
    #[arg(long)]
    pub gpu_count: Option<u8>,
    /// GPU memory in GB
    #[arg(long)]
    pub vram: Option<u16>,
    #[arg(long)]
    pub cpu: Option<u16>,
    /// System memory in GB
    #[arg(long)]
    pub ram: Option<u32>,
    /// Disk in GB
    #[arg(long)]
    pub disk: Option<u32>,
    /// Region label, e.g. eu-west (max 16 bytes)
    #[arg(long)]
    pub region: Option<String>,
    /// Shortest rental in minutes
    #[arg(long)]
    pub min_minutes: Option<u32>,
    /// Longest rental in hours
    #[arg(long)]
    pub max_hours: Option<u32>,
    /// Heartbeat SLA in seconds (0 = none); billing stops if a heartbeat is missed
    #[arg(long)]
    pub heartbeat_interval: Option<u32>,
    /// Concurrent rentals allowed
    #[arg(long)]
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
    /// Change a listing; running rentals keep their terms
    Update {
        listing: String,
        #[command(flatten)]
        spec: ListingSpec,
    },
    Pause {
        listing: String,
    },
    Resume {
        listing: String,
    },
    /// Close a listing with no open rentals
    Close {
        listing: String,
    },
}

#[derive(Args)]
pub struct HeartbeatArgs {
    /// Rentals to heartbeat (default with --all: every active SLA rental you provide)
    pub rentals: Vec<String>,
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
    /// Agent config file (TOML): rpc_url, keypair, listings, provision_command, teardown_command, [claim]
    #[arg(long, value_name = "FILE")]
    pub agent_config: Option<PathBuf>,
    /// Command run for each new rental; prints connection details as JSON, or exits non-zero to decline
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
    #[arg(long, value_name = "GB")]
    pub min_vram: Option<u16>,
    /// Highest price per hour, in tokens
    #[arg(long)]
    pub max_price: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub mint: Option<String>,
    /// Minimum provider rating, 1.0-5.0
    #[arg(long)]
    pub min_rating: Option<f64>,
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
    pub rental: String,
    /// Refresh every SECS seconds
    #[arg(long, default_value_t = 2)]
    pub interval: u64,
    /// Warn when fewer than this many minutes remain
    #[arg(long, value_name = "MINUTES")]
    pub alert_below: Option<u64>,
    /// Stop after this many refreshes (default: until the rental ends or Ctrl-C)
    #[arg(long)]
    pub count: Option<u64>,
}

#[derive(Subcommand)]
pub enum DisputeCmd {
    /// Freeze the earned-but-unclaimed amount; the unearned rest is refunded now
    Open {
        rental: String,
        /// Reason code (e.g. 1 = no access, 2 = degraded, 3 = billing)
        #[arg(long, default_value_t = 1)]
        reason: u8,
    },
    /// Arbiter: award part of the locked amount to the provider, the rest to the renter
    Resolve {
        rental: String,
        /// Tokens awarded to the provider (before fee)
        #[arg(long, allow_hyphen_values = true)]
        provider_amount: String,
    },
    /// Anyone: settle a dispute past its timeout as earned
    FinalizeExpired { rental: String },
}

#[derive(Subcommand)]
pub enum ProgramCmd {
    /// Deploy target/deploy/gpu_escrow.so at the program keypair's address
    Deploy {
        #[arg(long, default_value = "target/deploy/gpu_escrow.so")]
        so: PathBuf,
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
        /// Recipient (default: your wallet)
        to: Option<String>,
    },
    /// Create a test token mint with your wallet as mint authority
    CreateMint {
        #[arg(long, default_value_t = 6)]
        decimals: u8,
        /// Use Token-2022 instead of SPL Token
        #[arg(long)]
        token_2022: bool,
    },
    /// Mint test tokens to a wallet (creating its token account)
    MintTo { mint: String, owner: String, amount: String },
    /// Print a wallet's token balance
    Balance { mint: String, owner: Option<String> },
    /// Create a new keypair file
    Keygen { path: PathBuf },
    /// Wait until the cluster answers (for scripts that just started a validator)
    Wait {
        /// Give up after this many seconds
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
}
