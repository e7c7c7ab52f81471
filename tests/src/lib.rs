//! Shared test harnesses: `svm` runs the real `.so` in LiteSVM; `validator` runs a real
//! `solana-test-validator` process with the program preloaded (which can be stopped and
//! restarted on its ledger); `proxy` puts a fault-injecting HTTP proxy in front of it.
pub mod proxy;
pub mod svm;
pub mod validator;
