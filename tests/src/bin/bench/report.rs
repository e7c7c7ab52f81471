//! BENCHMARKS.md, from the measurements.
use std::fmt::Write;

use crate::batches::BatchRow;
use crate::lifecycle::Lifecycle;
use crate::svm_costs::{Row, TokenRuntime};

fn so_size() -> u64 {
    std::fs::metadata(gpu_escrow_tests::svm::program_so()).map(|m| m.len()).unwrap_or(0)
}

/// One line for the build-setting matrix.
pub fn summary(rows: &[Row]) -> String {
    let cu = |name: &str| rows.iter().find(|r| r.name == name).map(|r| r.cu[0]).unwrap_or(0);
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        so_size(),
        cu("open_rental"),
        cu("claim"),
        cu("stop_rental"),
        cu("heartbeat ×10 in one tx"),
        cu("activate_rental")
    )
}

fn sh(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0) / 1_048_576)
        })
        .unwrap_or(0);
    format!("{} cores ({cpu}), {mem} GiB", sh("nproc", &[]))
}

pub fn markdown(
    rows: &[Row],
    plain: (u64, u64),
    events: (u64, u64, u64),
    life: &Lifecycle,
    batches: Option<&Vec<BatchRow>>,
    matrix: Option<&str>,
) -> String {
    let mut o = String::new();
    let size = so_size();
    let rent_sol = anchor_lang::prelude::Rent::default().minimum_balance(size as usize + 45) as f64 / 1e9;
    let _ = writeln!(o, "# Benchmarks\n");
    let _ = writeln!(
        o,
        "Written by `scripts/bench` (it builds the program and two fixtures, runs the build-setting matrix and a local\n\
         validator in a private network namespace, then runs `gpu-escrow-bench`). Every figure below comes from that one\n\
         run; compute units are deterministic for a given `.so` (fixed keys), wall times are not.\n"
    );
    let _ = writeln!(o, "- date: {}", sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    let _ = writeln!(o, "- commit: {}", sh("git", &["rev-parse", "--short", "HEAD"]));
    let _ = writeln!(o, "- machine: {}", machine());
    let _ = writeln!(
        o,
        "- sBPF build: {} + LLVM 23 (PyPI wheels) + sbpf-linker 0.2.6, registry route, sBPF v3",
        sh("/usr/bin/rustc", &["--version"])
    );
    let _ = writeln!(o, "- runtime: LiteSVM 0.16.0 with the mainnet feature set; solana-test-validator (agave) 4.2.2 for the batch part\n");

    let _ = writeln!(o, "## Program size\n");
    let _ = writeln!(
        o,
        "`target/deploy/gpu_escrow.so`: {size} bytes, so a deployment locks {rent_sol:.2} SOL of rent in its program data account.\n"
    );
    if let Some(m) = matrix {
        let _ = writeln!(o, "Build settings measured (size, and compute units with p-token):\n");
        let _ = writeln!(o, "| rustflags | `.so` bytes | open_rental | claim | stop_rental | heartbeat / rental | activate_rental |\n|---|---|---|---|---|---|---|");
        for line in m.lines().filter(|l| !l.trim().is_empty()) {
            let cells: Vec<&str> = line.split('\t').collect();
            let _ = writeln!(o, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "## Compute units per instruction\n");
    let _ = writeln!(
        o,
        "LiteSVM on the real `.so`. The floor is `tests/fixtures/floor`: the same account creations and token CPIs with the\n\
         same PDA seeds, made bare by a minimal program in the same harness (p-token); overhead = gpu-escrow − floor.\n"
    );
    let heads: Vec<&str> = TokenRuntime::ALL.iter().map(|t| t.label()).collect();
    let _ = writeln!(
        o,
        "| instruction | {} | floor | overhead | what it does |\n|---|---|---|---|---|---|---|",
        heads.join(" | ")
    );
    for r in rows {
        let cells: Vec<String> = r.cu.iter().map(|c| c.to_string()).collect();
        let (floor, over) = match r.floor {
            Some(f) => (f.to_string(), (r.cu[0] as i64 - f as i64).to_string()),
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(o, "| {} | {} | {floor} | {over} | {} |", r.name, cells.join(" | "), r.note);
    }
    let _ = writeln!(o);

    let ours = |n: &str| rows.iter().find(|r| r.name == n).map(|r| r.cu[0]).unwrap_or(0);
    let floor = |n: &str| rows.iter().find(|r| r.name == n).and_then(|r| r.floor).unwrap_or(0);
    let _ = writeln!(o, "## Against ordinary Anchor\n");
    let _ = writeln!(
        o,
        "`tests/fixtures/plain-anchor-escrow`: a minimal escrow written the usual Anchor way (`init … bump`, typed accounts),\n\
         same toolchain, same transfers. gpu-escrow's open also creates the access account and checks the quoted terms;\n\
         its stop computes the per-second settlement and checks every payee.\n"
    );
    let _ = writeln!(o, "| operation | floor | gpu-escrow | plain Anchor |\n|---|---|---|---|");
    let _ = writeln!(o, "| open with deposit | {} | {} | {} |", floor("open_rental"), ours("open_rental"), plain.0);
    let _ = writeln!(
        o,
        "| stop: three transfers and closes | {} | {} | {} |\n",
        floor("stop_rental"),
        ours("stop_rental"),
        plain.1
    );

    let (bare, log, cpi) = events;
    let _ = writeln!(o, "## Events: `emit!` or `emit_cpi!`\n");
    let _ = writeln!(
        o,
        "The largest event (RentalSettled, 229 bytes) in the floor program: logged with `sol_log_data` as `emit!` does,\n\
         or sent in a self-CPI signed by a PDA as `emit_cpi!` does.\n\n\
         | | compute units | above a bare instruction |\n|---|---|---|\n\
         | bare instruction | {bare} | 0 |\n| `emit!` | {log} | {} |\n| `emit_cpi!` | {cpi} | {} |\n",
        log - bare,
        cpi - bare
    );
    let _ = writeln!(
        o,
        "gpu-escrow uses `emit!` and does not depend on logs for receipts: the rental account is the source of truth while it\n\
         exists, and `RentalClosed`, emitted in the renter's own closing transaction, carries the complete ledger. So a\n\
         crank who pads a permissionless transaction to truncate its logs costs a receipt nothing, and every instruction\n\
         saves the self-CPI.\n"
    );
    let _ = writeln!(o, "## A whole rental, from the renter's wallet\n");
    let _ = writeln!(o, "| step | SOL balance change (lamports) |\n|---|---|");
    for (step, d) in &life.steps {
        let _ = writeln!(o, "| {step} | {d} |");
    }
    let _ = writeln!(
        o,
        "\n{} transactions, {} lamports of base fees (5,000 per signature, no priority fee); {} lamports of account deposits\n\
         (rental, access and vault accounts) are locked at open and all returned by the stop and the close.\n",
        life.transactions, life.base_fees, life.rent_locked
    );

    if let Some(b) = batches {
        let _ = writeln!(o, "## Batches on a local validator\n");
        let _ = writeln!(
            o,
            "One provider, 100 running rentals on 10 listings. Batched: the SDK's `batch::pack`, each transaction with a\n\
             compute-unit limit from the measured cost (+20%); one per tx: the same instruction alone in each transaction.\n\
             All transactions of a row are sent at once; wall time runs until the last is confirmed.\n"
        );
        let _ = writeln!(
            o,
            "| operation | mode | transactions | compute units per rental | wall time (ms) |\n|---|---|---|---|---|"
        );
        for r in b {
            let _ =
                writeln!(o, "| {} | {} | {} | {} | {} |", r.what, r.mode, r.transactions, r.cu_per_rental, r.wall_ms);
        }
        let _ = writeln!(o);
    }
    o
}
