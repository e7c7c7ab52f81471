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
# The SVM allows misaligned loads and stores. The feature is set here rather than with
# `-C target-feature`, where rustc warns on every build that the LLVM feature is unstable.
spec["features"] = "+allows-misaligned-mem-access"
json.dump(spec, sys.stdout, indent=2)
