//! # gpu-escrow SDK
//!
//! Everything an app needs to use the gpu-escrow program:
//! - [`pda`]: every program address, from the program's own seeds;
//! - [`access`]: sealing connection details to the renter, and opening them;
//! - [`ix`]: pure instruction builders (no network), one per program instruction, plus
//!   token-account creation and SOL wrapping;
//! - [`accounts`]: account types decoded with the program's own definitions;
//! - [`mint_info`]: token symbols and names from on-chain metadata;
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
//! ## Example: open a rental, activate it with sealed access, claim, stop
//!
//! ```no_run
//! use gpu_escrow_sdk::access::{self, AccessKey, ConnectionDetails};
//! use gpu_escrow_sdk::{client::EscrowClient, ix, quote, CommitmentConfig, Keypair, Pubkey, Signer};
//!
//! # async fn run(renter: Keypair, provider: Keypair, listing: Pubkey) -> Result<(), gpu_escrow_sdk::SdkError> {
//! let client = EscrowClient::new("http://127.0.0.1:8899", CommitmentConfig::confirmed());
//! let l = client.listing(&listing).await?;
//! let config = client.config().await?;
//! let token_program = client.token_program_of(&l.mint).await?;
//!
//! // Two hours at the listing's price; the quote comes from the on-chain math, and the open
//! // carries the quoted terms, so a repriced listing makes it fail instead of overcharging.
//! let q = quote::quote_seconds(l.price_per_hour, 2 * 3600, config.fee_bps).expect("fits");
//! let key = AccessKey::from_wallet(&renter);
//! let req = ix::OpenRequest {
//!     renter: renter.pubkey(),
//!     listing,
//!     mint: l.mint,
//!     token_program,
//!     rental_id: l.rentals_opened, // the listing's next id; ids never repeat
//!     deposit: q.deposit,
//!     terms: quote::terms(&l, &config),
//!     access: ix::AccessRequest { recipient: key.recipient(), ssh_key: b"ssh-ed25519 AAAA...".to_vec() },
//! };
//! client.send(&[ix::open_rental(&req)], &renter, &[]).await?;
//!
//! // The provider seals the connection details to the renter and activates.
//! let keys = ix::RentalKeys::new(listing, renter.pubkey(), req.rental_id, l.provider, l.mint, token_program);
//! let details = ConnectionDetails { host: Some("203.0.113.7".into()), user: Some("renter".into()), ..Default::default() };
//! let sealed = access::seal(&details, &keys.rental, &key.recipient(), &provider).expect("fits");
//! client.send(&[ix::activate_rental(&provider.pubkey(), &keys.rental, &keys.access(), sealed)], &provider, &[]).await?;
//!
//! // The renter opens them: only its wallet can, and only if the provider sealed them.
//! let blob = client.access(&keys).await?;
//! let opened = access::open(&blob.sealed, &keys.rental, &blob.recipient, &l.provider, &key).expect("sealed");
//! println!("{}", opened.ssh_command().unwrap());
//!
//! // Later: the provider claims what is earned so far (fee goes to the treasury).
//! client.send(&[ix::claim(&keys, &config.treasury)], &provider, &[]).await?;
//!
//! // The renter stops: provider paid, fee paid, unused rest refunded, in one instruction.
//! let stop = ix::stop_rental(&renter.pubkey(), &keys, &config.treasury);
//! client.send(&[stop], &renter, &[]).await?;
//! # Ok(()) }
//! ```
pub mod access;
pub mod accounts;
pub mod batch;
pub mod client;
pub mod deploy;
pub mod error;
pub mod ix;
pub mod mint_info;
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
