//! Stateful model of the escrow for the property tests (`tests/tests/properties.rs`).
//!
//! A [`World`] is the real `.so` in LiteSVM with the real SPL Token and Token-2022 programs, a
//! config, two accepted mints (one per token program), two providers with four listings,
//! four renters (one of them also a provider), a stranger, and every wallet's token accounts.
//! It is built once and cloned for every sequence, so each sequence starts from the same
//! state and replays exactly.
//!
//! A [`Runner`] applies [`Op`]s to a clone of the world and, for each, predicts the outcome
//! with a [`Model`]: either the exact state after it (every ledger field, token balance,
//! listing and reputation counter), or the set of errors it may fail with. Settlement figures
//! come from the SDK's `quote` module (the program's own `Meter`), never from arithmetic
//! written here. After every step it checks the invariants listed on [`Runner::step`].
//!
//! The files: `fixtures` (the wallets, mints and listings the world is built with), `world`
//! (building it), `state` (the model's state and the payout rules it applies), `op` (the
//! operations), `plan` (each operation's transaction and predicted outcome), `runner` (applying
//! one step), `snapshot` and `checks` (the chain's accounts and the properties checked on them
//! after every step), `crank` (the end of a sequence), `stats`, `fail` and `account_data`.
mod account_data;
mod checks;
mod crank;
mod fail;
mod fixtures;
mod op;
mod plan;
mod runner;
mod snapshot;
mod state;
mod stats;
mod world;

pub use fail::Fail;
pub use fixtures::{
    params, ListingSpec, ADMIN, ARBITER, ARBITER_CHOICES, HOLDERS, LISTINGS, MINT_NAMES, MIN_RATED_GROSS, NAMES, NW,
    P0, P1, PROVIDERS, R0, R1, R2, RENTERS, STRANGER, TREASURY, TREASURY_CHOICES,
};
pub use op::{Dest, Op, Redirect, Terms, Who};
pub use plan::{TOKEN_FROZEN, TOKEN_INSUFFICIENT};
pub use runner::Runner;
pub use state::{Expected, MListing, MRental, MToken, Model};
pub use stats::Stats;
pub use world::World;
