"""Teach a copy of Rust's std (Debian rust-web-src 1.96) about target_os = "solana".

The SVM has no threads, no entropy, no OS allocator and no writable statics, so each edit
routes std to an implementation that already exists for similar targets (vexos, zkvm, wasm).
Every edit asserts its anchor text, so a different std version fails loudly instead of
silently producing a broken std.
"""
import pathlib
import re
import sys

std = pathlib.Path(sys.argv[1]) / "std" / "src"


def replace_once(rel, old, new):
    path = std / rel
    text = path.read_text()
    if text.count(old) != 1:
        sys.exit(f"patch_std: expected exactly one match in {rel} for {old!r}")
    path.write_text(text.replace(old, new))


# Reuse the no-threads / unsupported paths that vexos already selects.
for rel, expected in [
    ("sys/io/error/mod.rs", 1),
    ("sys/random/mod.rs", 2),
    ("sys/thread_local/mod.rs", 2),
]:
    path = std / rel
    text, n = re.subn(r'(?m)^(\s*)target_os = "vexos",$', r'\g<0>\n\1target_os = "solana",', path.read_text())
    if n != expected:
        sys.exit(f"patch_std: {rel}: expected {expected} vexos arms, found {n}")
    path.write_text(text)

# 16-byte minimum alignment like other 64-bit targets, and a System allocator that always
# fails: Anchor's entrypoint installs the real bump allocator as #[global_allocator].
replace_once("sys/alloc/mod.rs", '    target_arch = "wasm64",\n', '    target_arch = "wasm64",\n    target_arch = "bpf",\n')
replace_once(
    "sys/alloc/mod.rs",
    '    target_os = "zkvm" => {\n        mod zkvm;\n    }\n',
    '    target_os = "zkvm" => {\n        mod zkvm;\n    }\n    target_os = "solana" => {\n        mod solana;\n    }\n',
)
(std / "sys/alloc/solana.rs").write_text(
    """// gpu-escrow: the program's entrypoint installs its own #[global_allocator].
use crate::alloc::{GlobalAlloc, Layout, System};

#[stable(feature = "alloc_system_type", since = "1.28.0")]
unsafe impl GlobalAlloc for System {
    #[inline]
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        crate::ptr::null_mut()
    }
    #[inline]
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}
"""
)

# HashMap's RandomState wants a thread-local seed from the OS; the SVM has neither, and
# determinism is what a program needs anyway.
replace_once(
    "hash/random.rs",
    "        thread_local!(static KEYS: Cell<(u64, u64)> = {",
    '        #[cfg(target_os = "solana")]\n        {\n            return RandomState { k0: 0, k1: 0 };\n        }\n'
    "        #[allow(unreachable_code)]\n        thread_local!(static KEYS: Cell<(u64, u64)> = {",
)
print("std patched for target_os = solana")
