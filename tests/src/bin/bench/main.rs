//! `gpu-escrow-bench`: the numbers in BENCHMARKS.md, measured on fixed keys so a re-run gives
//! the same figures. Run through `scripts/bench`, which builds the `.so` files (the program,
//! the floor and the plain-Anchor fixture), runs the build-setting matrix and the local
//! validator part inside a private network namespace, and writes BENCHMARKS.md.
//!
//! gpu-escrow-bench [--summary] [--validator] [--matrix FILE] [--out FILE]
mod batches;
mod floor;
mod lifecycle;
mod plain;
mod report;
mod svm_costs;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let value = |f: &str| args.iter().position(|a| a == f).and_then(|i| args.get(i + 1)).cloned();
    let mut floor = floor::Floor::new();
    let rows = svm_costs::measure(&floor);
    if flag("--summary") {
        // One line for the build-setting matrix: size and the hot instructions (p-token).
        println!("{}", report::summary(&rows));
        return;
    }
    let plain = plain::costs();
    // RentalSettled, the largest event: 8-byte discriminator and 221 bytes of fields.
    let events = floor.event_costs(229);
    let life = lifecycle::measure();
    let batches = flag("--validator").then(batches::measure);
    let matrix = value("--matrix").map(|p| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}")));
    let text = report::markdown(&rows, plain, events, &life, batches.as_ref(), matrix.as_deref());
    match value("--out") {
        Some(path) => std::fs::write(&path, text).unwrap_or_else(|e| panic!("{path}: {e}")),
        None => print!("{text}"),
    }
}
