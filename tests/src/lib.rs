//! Shared test harnesses: `svm` runs the real `.so` in LiteSVM; `validator` runs a real
//! `solana-test-validator` process with the program preloaded.
pub mod svm;
pub mod validator;
