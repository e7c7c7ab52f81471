"""Derive the bpfel-solana target spec from rustc's own bpfel-unknown-none spec."""
import json
import sys

spec = json.load(sys.stdin)
spec["os"] = "solana"
spec["vendor"] = "solana"
# std wants compare-and-swap atomics; the SVM is single-threaded, so plain ops are correct.
spec["atomic-cas"] = True
# compiler_builtins and libm use AtomicU32, which a min width of 64 would forbid.
spec.pop("min-atomic-width", None)
json.dump(spec, sys.stdout, indent=2)
