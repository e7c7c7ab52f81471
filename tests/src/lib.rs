//! Shared test harnesses: `svm` runs the real `.so` in LiteSVM; `validator` runs a real
//! `solana-test-validator` process with the program preloaded (which can be stopped and
//! restarted on its ledger); `proxy` puts a fault-injecting HTTP proxy in front of it;
//! `model`, `gen` and `rng` are the stateful property tests' model, sequence generator and
//! random numbers (`tests/properties.rs`).
pub mod gen;
pub mod model;
pub mod proxy;
pub mod rng;
pub mod svm;
pub mod validator;
