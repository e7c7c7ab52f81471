//! Builds the program's IDL on the host (anchor-lang's idl-build) and writes it to
//! target/idl/gpu_escrow.json and idls/gpu_escrow.json, or with `--check` fails if the
//! committed copy differs from what the program now generates.
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let check = std::env::args().any(|a| a == "--check");
    // anchor-lang-idl turns RUSTUP_TOOLCHAIN into `rustup toolchain install` plus a broken
    // `cargo +{toolchain}` call, which would update the machine's Rust. Use the ambient one.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = match anchor_lang_idl::build::IdlBuilder::new().program_path(root.join("programs/gpu-escrow")).build() {
        Ok(idl) => idl,
        Err(e) => {
            eprintln!("error: IDL build failed: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let json = serde_json::to_string_pretty(&idl).expect("an IDL always serialises") + "\n";
    let committed = root.join("idls/gpu_escrow.json");
    if check {
        let old = std::fs::read_to_string(&committed).unwrap_or_default();
        if old != json {
            eprintln!("error: {} is stale; run scripts/idl to regenerate it", committed.display());
            return ExitCode::FAILURE;
        }
        println!("idls/gpu_escrow.json matches the program");
        return ExitCode::SUCCESS;
    }
    for path in [root.join("target/idl/gpu_escrow.json"), committed] {
        std::fs::create_dir_all(path.parent().unwrap()).expect("create IDL directory");
        std::fs::write(&path, &json).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
