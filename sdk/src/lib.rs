//! # gpu-escrow SDK
//!
//! Everything an app needs to use the gpu-escrow program:
//! - [`pda`]: every program address, from the program's own seeds;
//! - [`ix`]: pure instruction builders (no network), one per program instruction, plus
//!   token-account creation and SOL wrapping;
//! - [`accounts`]: account types decoded with the program's own definitions;
//! - [`quote`]: prices, earned/claimable/refundable amounts, computed by the program's own
//!   settlement module;
//! - [`client`]: an async RPC client (send with safe retries, filtered queries);
//! - [`receipts`]: receipts and history rebuilt from the program's events;
//! - [`deploy`]: upgradeable-loader deployment to any cluster;
//! - [`batch`]: packs many claims, heartbeats or finalizes into few transactions;
//! - [`error`]: one error type, with program rejections kept apart from RPC failures.
//!
//! The same code works against a local validator, devnet or mainnet: only the URL changes.
//!
//! ## Example: open a rental, claim, stop
//!
//! ```no_run
//! use gpu_escrow_sdk::{client::EscrowClient, ix, quote, CommitmentConfig, Keypair, Pubkey, Signer};
//!
//! # async fn run(renter: Keypair, provider: Keypair, listing: Pubkey) -> Result<(), gpu_escrow_sdk::SdkError> {
//! let client = EscrowClient::new("http://127.0.0.1:8899", CommitmentConfig::confirmed());
//! let l = client.listing(&listing).await?;
//! let config = client.config().await?;
//! let token_program = client.token_program_of(&l.mint).await?;
//!
//! // Two hours at the listing's price; the quote comes from the on-chain math.
//! let q = quote::quote_seconds(l.price_per_hour, 2 * 3600, config.fee_bps).expect("fits");
//! let rental_id = 1; // any id unique for this renter and listing; a resend cannot double-open
//! let open = ix::open_rental(&renter.pubkey(), &listing, &l.mint, &token_program, rental_id, q.deposit);
//! client.send(&[open], &renter, &[]).await?;
//!
//! let keys = ix::RentalKeys::new(listing, renter.pubkey(), rental_id, l.provider, l.mint, token_program);
//! client.send(&[ix::activate_rental(&provider.pubkey(), &keys.rental)], &provider, &[]).await?;
//!
//! // Later: the provider claims what is earned so far (fee goes to the treasury).
//! let mut claim = ix::ensure_payee_accounts(&provider.pubkey(), &keys, &config.treasury);
//! claim.push(ix::claim(&keys, &config.treasury));
//! client.send(&claim, &provider, &[]).await?;
//!
//! // The renter stops: provider paid, fee paid, unused rest refunded, in one instruction.
//! let stop = ix::stop_rental(&renter.pubkey(), &keys, &config.treasury);
//! client.send(&[stop], &renter, &[]).await?;
//! # Ok(()) }
//! ```
pub mod accounts;
pub mod batch;
pub mod client;
pub mod deploy;
pub mod error;
pub mod ix;
pub mod pda;
pub mod quote;
pub mod receipts;

pub use anchor_lang::prelude::Pubkey;
pub use anchor_lang::solana_program::instruction::Instruction;
pub use error::{SdkError, SdkResult};
pub use gpu_escrow::ID as PROGRAM_ID;
pub use solana_commitment_config::CommitmentConfig;
pub use solana_keypair::Keypair;
pub use solana_signature::Signature;
pub use solana_signer::Signer;
