//! 128-bit integer helpers built from 64-bit operations only.
//!
//! Why this exists: on the registry-only toolchain (upstream `bpf` arch, rustc 1.96 with
//! LLVM 23's sbpf-linker) rustc passes i128 through memory while LLVM's libcall lowering
//! passes it in registers (r1:r2, r3:r4, result r0:r2). The compiler-builtins definitions
//! therefore read garbage and the first u128 `/` or `%` crashes on-chain. The settlement
//! math divides u128 by 3600, 10 000 and prices, so we define the libcalls ourselves with
//! the `unadjusted` ABI, which is LLVM's native convention.
//!
//! The algorithms are plain functions on (hi, lo) pairs so the host tests can check them
//! against native u128 arithmetic; only the `extern` shims are BPF-specific. They must never
//! use a u128 operation that LLVM would lower to another libcall (that would recurse).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct U128 {
    pub hi: u64,
    pub lo: u64,
}

impl U128 {
    pub const ZERO: Self = Self { hi: 0, lo: 0 };

    #[inline(always)]
    fn lt(self, o: Self) -> bool {
        self.hi < o.hi || (self.hi == o.hi && self.lo < o.lo)
    }

    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        let (lo, borrow) = self.lo.overflowing_sub(o.lo);
        Self { hi: self.hi.wrapping_sub(o.hi).wrapping_sub(borrow as u64), lo }
    }

    #[inline(always)]
    fn shl(self, s: u32) -> Self {
        match s {
            0 => self,
            1..=63 => Self { hi: (self.hi << s) | (self.lo >> (64 - s)), lo: self.lo << s },
            64..=127 => Self { hi: self.lo << (s - 64), lo: 0 },
            _ => Self::ZERO,
        }
    }

    #[inline(always)]
    fn shr1(self) -> Self {
        Self { hi: self.hi >> 1, lo: (self.lo >> 1) | (self.hi << 63) }
    }

    #[inline(always)]
    fn leading_zeros(self) -> u32 {
        if self.hi != 0 {
            self.hi.leading_zeros()
        } else {
            64 + self.lo.leading_zeros()
        }
    }

    #[inline(always)]
    pub fn wrapping_neg(self) -> Self {
        let lo = (!self.lo).wrapping_add(1);
        Self { hi: (!self.hi).wrapping_add((lo == 0) as u64), lo }
    }

    #[inline(always)]
    fn is_negative(self) -> bool {
        (self.hi as i64) < 0
    }
}

/// Low 128 bits of a × b (the same bits for signed and unsigned operands).
pub fn mul(a: U128, b: U128) -> U128 {
    const MASK: u64 = u32::MAX as u64;
    let (a0, a1) = (a.lo & MASK, a.lo >> 32);
    let (b0, b1) = (b.lo & MASK, b.lo >> 32);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Sum the middle column in 64 bits; each term is < 2^64 and their halves carry explicitly.
    let mid = (p00 >> 32) + (p01 & MASK) + (p10 & MASK);
    let lo = (p00 & MASK) | (mid << 32);
    let hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    let hi = hi.wrapping_add(a.hi.wrapping_mul(b.lo)).wrapping_add(a.lo.wrapping_mul(b.hi));
    U128 { hi, lo }
}

/// (n / d, n % d) for unsigned operands. `d` must not be zero (Rust checks before calling).
pub fn udivmod(n: U128, d: U128) -> (U128, U128) {
    if d.hi == 0 {
        if n.hi == 0 {
            // BPF divides 64-bit values natively.
            return (U128 { hi: 0, lo: n.lo / d.lo }, U128 { hi: 0, lo: n.lo % d.lo });
        }
        if d.lo <= u32::MAX as u64 {
            // Schoolbook division by a one-digit divisor in base 2^32: four native divisions.
            // This is the hot path: 3600, 10 000 and most prices land here.
            let dv = d.lo;
            let digits = [n.hi >> 32, n.hi & 0xffff_ffff, n.lo >> 32, n.lo & 0xffff_ffff];
            let mut q = [0u64; 4];
            let mut r = 0u64;
            for (i, digit) in digits.iter().enumerate() {
                let cur = (r << 32) | digit;
                q[i] = cur / dv;
                r = cur % dv;
            }
            return (U128 { hi: (q[0] << 32) | q[1], lo: (q[2] << 32) | q[3] }, U128 { hi: 0, lo: r });
        }
    }
    if n.lt(d) {
        return (U128::ZERO, n);
    }
    // Shift-subtract, starting at the highest useful bit.
    let shift = d.leading_zeros() - n.leading_zeros();
    let mut den = d.shl(shift);
    let mut rem = n;
    let mut q = U128::ZERO;
    for _ in 0..=shift {
        q = q.shl(1);
        if !rem.lt(den) {
            rem = rem.sub(den);
            q.lo |= 1;
        }
        den = den.shr1();
    }
    (q, rem)
}

/// Signed division truncating toward zero, with the remainder taking the dividend's sign.
pub fn idivmod(n: U128, d: U128) -> (U128, U128) {
    let (nn, dn) = (n.is_negative(), d.is_negative());
    let na = if nn { n.wrapping_neg() } else { n };
    let da = if dn { d.wrapping_neg() } else { d };
    let (q, r) = udivmod(na, da);
    let q = if nn != dn { q.wrapping_neg() } else { q };
    let r = if nn { r.wrapping_neg() } else { r };
    (q, r)
}

#[cfg(target_arch = "bpf")]
mod shims {
    use super::*;

    #[inline(always)]
    fn parts(v: u128) -> U128 {
        U128 { hi: (v >> 64) as u64, lo: v as u64 }
    }

    #[inline(always)]
    fn join(v: U128) -> u128 {
        ((v.hi as u128) << 64) | v.lo as u128
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __multi3(a: i128, b: i128) -> i128 {
        join(mul(parts(a as u128), parts(b as u128))) as i128
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __udivti3(n: u128, d: u128) -> u128 {
        join(udivmod(parts(n), parts(d)).0)
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __umodti3(n: u128, d: u128) -> u128 {
        join(udivmod(parts(n), parts(d)).1)
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __divti3(n: i128, d: i128) -> i128 {
        join(idivmod(parts(n as u128), parts(d as u128)).0) as i128
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __modti3(n: i128, d: i128) -> i128 {
        join(idivmod(parts(n as u128), parts(d as u128)).1) as i128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: u128) -> U128 {
        U128 { hi: (v >> 64) as u64, lo: v as u64 }
    }
    fn j(v: U128) -> u128 {
        ((v.hi as u128) << 64) | v.lo as u128
    }

    fn samples() -> Vec<u128> {
        let mut v = vec![
            0,
            1,
            2,
            3_600,
            10_000,
            u32::MAX as u128,
            u32::MAX as u128 + 1,
            u64::MAX as u128,
            u64::MAX as u128 + 1,
            u64::MAX as u128 * 3_600,
            1u128 << 63,
            (1u128 << 64) - 3,
            1u128 << 127,
            u128::MAX,
            u128::MAX - 1,
            0x1234_5678_9abc_def0_0fed_cba9_8765_4321,
        ];
        // xorshift: deterministic pseudo-random operands of every width.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..400 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let hi = x;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let full = ((hi as u128) << 64) | x as u128;
            v.push(full >> (i % 128));
        }
        v
    }

    #[test]
    fn unsigned_ops_match_native() {
        let s = samples();
        for &a in &s {
            for &b in s.iter().step_by(7) {
                assert_eq!(j(mul(p(a), p(b))), a.wrapping_mul(b), "{a} * {b}");
                if b != 0 {
                    let (q, r) = udivmod(p(a), p(b));
                    assert_eq!((j(q), j(r)), (a / b, a % b), "{a} / {b}");
                }
            }
        }
    }

    #[test]
    fn signed_ops_match_native() {
        let s = samples();
        for &a in &s {
            for &b in s.iter().step_by(11) {
                let (a, b) = (a as i128, b as i128);
                if b == 0 || (a == i128::MIN && b == -1) {
                    continue;
                }
                let (q, r) = idivmod(p(a as u128), p(b as u128));
                assert_eq!((j(q) as i128, j(r) as i128), (a / b, a % b), "{a} / {b}");
            }
        }
    }
}
