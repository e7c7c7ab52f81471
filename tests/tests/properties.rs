//! Stateful, seeded property tests on the real `.so` (hardening issue, point 7).
//!
//! Thousands of random operation sequences (open, activate, heartbeat, claim, top-up, stop,
//! cancel, decline, dispute, resolve, resolve-expired, finalize, close, withdraw_owed, tokens
//! sent to vaults by a stranger, the issuer freezing and thawing payee accounts and vaults,
//! payees closing and reopening their accounts or requiring memos, listing updates, pauses,
//! config changes, mints removed and added back, clock jumps from 0 to years) over two
//! providers, four listings, four renters and both token programs, each checked step by step
//! against a model whose figures come from the SDK's quote module; then every rental is
//! cranked to its end within its bound and everything is drained. The properties are listed
//! on `Runner::step` and `Runner::crank_and_drain` in `tests/src/model/runner.rs` and `crank.rs`.
//!
//! - `GPU_ESCROW_PROPTEST_SEED` (decimal or 0x-hex, or `random`; default fixed, so CI is
//!   deterministic)
//! - `GPU_ESCROW_PROPTEST_CASES` (default 10 000)
//! - `GPU_ESCROW_PROPTEST_CASE=N` runs only case N of the seed (what a failure tells you to run)
//! - `GPU_ESCROW_PROPTEST_MAX_OPS` (default 30 operations per sequence, before the crank)
//! - `GPU_ESCROW_PROPTEST_THREADS` (default: the available cores)
//! - `GPU_ESCROW_PROPTEST_COVERAGE=1` prints how often each kind of operation succeeded, and
//!   failed with each error
//!
//! A failure is shrunk to a minimal sequence and reported with the seed and the case.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use gpu_escrow_tests::gen::{run_generated, shrink};
use gpu_escrow_tests::model::{Fail, Op, Stats, World};
use gpu_escrow_tests::rng::case_seed;

const DEFAULT_SEED: u64 = 0x6E5C_0DE5_EED0_0007;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim().replace('_', "");
    if v == "random" {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        return Some(nanos as u64);
    }
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={v}: {e}")))
}

struct Found {
    case: u64,
    ops: Vec<Op>,
    fail: Fail,
}

#[test]
fn random_operation_sequences_keep_every_invariant() {
    let seed = env_u64("GPU_ESCROW_PROPTEST_SEED").unwrap_or(DEFAULT_SEED);
    let only = env_u64("GPU_ESCROW_PROPTEST_CASE");
    let cases = env_u64("GPU_ESCROW_PROPTEST_CASES").unwrap_or(10_000);
    let max_ops = env_u64("GPU_ESCROW_PROPTEST_MAX_OPS").unwrap_or(30) as usize;
    let cores = std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(2);
    let threads = env_u64("GPU_ESCROW_PROPTEST_THREADS").unwrap_or(cores).max(1);
    let (first, end) = match only {
        Some(case) => (case, case + 1),
        None => (0, cases),
    };
    let threads = threads.min(end - first).max(1);
    let coverage = std::env::var_os("GPU_ESCROW_PROPTEST_COVERAGE").is_some();

    let started = Instant::now();
    let world = World::build();
    let built = started.elapsed();
    let next = AtomicU64::new(first);
    let stop = AtomicBool::new(false);
    let found: Mutex<Option<Found>> = Mutex::new(None);
    let totals = Mutex::new(Stats { coverage: coverage.then(Default::default), ..Stats::default() });
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut mine = Stats { coverage: coverage.then(Default::default), ..Stats::default() };
                while !stop.load(Ordering::Relaxed) {
                    let case = next.fetch_add(1, Ordering::Relaxed);
                    if case >= end {
                        break;
                    }
                    let (ops, result) = run_generated(&world, case_seed(seed, case), max_ops, coverage);
                    match result {
                        Ok(st) => mine.add(&st),
                        Err(fail) => {
                            stop.store(true, Ordering::Relaxed);
                            let mut f = found.lock().unwrap();
                            if f.as_ref().is_none_or(|f| case < f.case) {
                                *f = Some(Found { case, ops, fail });
                            }
                        }
                    }
                }
                totals.lock().unwrap().add(&mine);
            });
        }
    });
    let t = totals.into_inner().unwrap();
    eprintln!(
        "property sequences: seed {seed:#x}, cases {first}..{end}, {threads} threads, world built in {built:.1?}, \
         total {:.1?}: {} operations ({} transactions: {} succeeded, {} refused as the model predicted), {} rentals opened",
        started.elapsed(),
        t.ops,
        t.txs,
        t.ok,
        t.rejected,
        t.rentals
    );

    if let Some(c) = &t.coverage {
        for ((kind, outcome), n) in c {
            eprintln!("  {kind:<20} {outcome:<45} {n:>8}");
        }
    }

    if let Some(Found { case, ops, fail }) = found.into_inner().unwrap() {
        let original = ops.len();
        let (minimal, fail) = shrink(&world, ops, fail);
        let mut report = format!(
            "property broken: {fail}\n\nseed {seed:#x}, case {case} (shrunk from {original} to {} operations)\n\
             reproduce: GPU_ESCROW_PROPTEST_SEED={seed:#x} GPU_ESCROW_PROPTEST_CASE={case} \
             cargo test -p gpu-escrow-tests --test properties\n\nminimal sequence (#0 is the first rental the sequence \
             opened; after the last step every rental is cranked to its end and drained):\n",
            minimal.len()
        );
        for (i, op) in minimal.iter().enumerate() {
            report += &format!("  {:>2}. {op}\n", i + 1);
        }
        panic!("{report}");
    }
}
