//! The [`Runner`]: applies one operation to its copy of the world, compares the outcome with
//! the model's prediction, then has every property checked.
use litesvm::LiteSVM;
use solana_message::Message;
use solana_transaction::Transaction;

use super::fail::{fail, Fail};
use super::op::Op;
use super::plan::TOKEN_FROZEN;
use super::snapshot::Snapshot;
use super::state::Model;
use super::stats::Stats;
use super::world::World;
use crate::svm;

pub struct Runner<'w> {
    pub w: &'w World,
    pub svm: LiteSVM,
    pub m: Model,
    pub(super) snap: Snapshot,
    pub stats: Stats,
    /// Prefix for the failing step's description ("crank and drain: " after the sequence).
    pub(super) phase: &'static str,
}

impl<'w> Runner<'w> {
    pub fn new(w: &'w World, coverage: bool) -> Self {
        let svm = w.svm.clone();
        let m = w.initial.clone();
        let stats = Stats { coverage: coverage.then(Default::default), ..Stats::default() };
        let mut r = Runner { w, svm, m, snap: Snapshot(Vec::new()), stats, phase: "" };
        r.snap = r.snapshot();
        r
    }

    fn set_time(&mut self, t: i64) {
        let mut clock = self.svm.get_sysvar::<anchor_lang::prelude::Clock>();
        clock.unix_timestamp = t;
        clock.slot += 1;
        self.svm.set_sysvar(&clock);
        self.m.now = t;
    }

    /// Applies one operation and checks every property:
    /// - the outcome is the one the model predicts: success with the exact state after it (every
    ///   rental's ledger as the SDK's quote module computes it from the state before and the
    ///   clock, every token balance, listing, config and reputation counter, and the figures in
    ///   the event), or failure with one of the errors the model expects;
    /// - a failed operation changes nothing at all (every tracked account byte for byte);
    /// - no wallet's tokens decrease except by its own signed deposit (open, top-up) or transfer;
    /// - conservation for every rental: provider_paid + fee_paid + refunded <= deposited, with
    ///   equality once ended; the vault holds exactly what is unallotted, plus what is held for
    ///   payees, plus what strangers sent; an ended rental's vault is closed once nothing is held;
    /// - per mint, the tokens in all accounts equal the supply the model minted.
    pub fn step(&mut self, op: &Op) -> Result<(), Fail> {
        self.stats.ops += 1;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.step_inner(op)));
        let r = r.unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Err(fail("panic", msg))
        });
        r.map_err(|mut f| {
            f.at = format!("{}{op}", self.phase);
            f
        })
    }

    fn step_inner(&mut self, op: &Op) -> Result<(), Fail> {
        if let Op::Advance { secs } = op {
            let t = self.m.now + secs;
            self.set_time(t);
            let after = self.snapshot();
            if after == self.snap {
                return Ok(()); // nothing but the clock moved; the state was checked after the last step
            }
            self.snap = after;
            return Err(fail("state changed without a transaction", "accounts changed when only the clock moved"));
        }
        let Some(plan) = self.plan(op) else { return Ok(()) };
        self.stats.txs += 1;
        let msg = Message::new(&plan.ixs, Some(&plan.payer));
        let tx = Transaction::new_unsigned(msg);
        let result = self.svm.send_transaction(tx).map_err(failure);
        let before = std::mem::replace(&mut self.snap, Snapshot(Vec::new()));
        match (result, plan.prediction) {
            (Ok(meta), Ok((model, expected))) => {
                self.stats.ok += 1;
                self.stats.count(op, "ok");
                let opened = model.rentals.len() > self.m.rentals.len();
                self.m = model;
                if opened {
                    self.stats.rentals += 1;
                }
                self.snap = self.snapshot();
                self.check_event(op, &expected, &meta.logs)?;
            }
            (Err(f), Err(allowed)) => {
                self.stats.rejected += 1;
                let name = normalise(&f.name);
                self.stats.count(op, &name);
                if !allowed.contains(&name.as_str()) {
                    return Err(fail(
                        "unexpected error",
                        format!("failed with {name}; the model expected one of {allowed:?}\nlogs: {:#?}", f.logs),
                    ));
                }
                self.snap = self.snapshot();
                if self.snap != before {
                    return Err(fail("failed op changed state", self.diff(&before)));
                }
                // Byte for byte what was checked after the last step.
                return Ok(());
            }
            (Ok(_), Err(allowed)) => {
                self.snap = self.snapshot();
                return Err(fail("unexpected success", format!("succeeded; the model expected one of {allowed:?}")));
            }
            (Err(f), Ok(_)) => {
                return Err(fail(
                    "unexpected error",
                    format!("failed with {}; the model expected success\nlogs: {:#?}", normalise(&f.name), f.logs),
                ));
            }
        }
        self.check_debits(op, &before, plan.payer)?;
        self.check_state()
    }
}

/// A failed transaction reduced to its program error name (from the IDL) and its logs.
fn failure(f: litesvm::types::FailedTransactionMetadata) -> svm::Failure {
    let logs = f.meta.logs.clone();
    let name = match gpu_escrow_sdk::SdkError::from_transaction_error(&f.err, logs.clone()) {
        gpu_escrow_sdk::SdkError::Program { name, .. } => name,
        // A code the IDL does not know (yet): the name Anchor logged with it.
        other => anchor_error_name(&logs).unwrap_or_else(|| other.to_string()),
    };
    svm::Failure { name, logs }
}

/// The error name in Anchor's "AnchorError ... Error Code: <name>. Error Number: ..." log line.
fn anchor_error_name(logs: &[String]) -> Option<String> {
    logs.iter().find_map(|l| {
        let rest = l.split("Error Code: ").nth(1)?;
        rest.split('.').next().map(str::to_string)
    })
}

/// Maps the token programs' refusals to the model's names for them.
fn normalise(name: &str) -> String {
    if name.contains("custom program error: 0x11") {
        TOKEN_FROZEN.to_string()
    } else {
        name.to_string()
    }
}
