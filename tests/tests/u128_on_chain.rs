//! The registry toolchain's i128 libcalls had an ABI mismatch (u128 `/` and `%` crashed
//! on-chain). This runs the deployed binary's own settlement math through the read-only
//! `quote` instruction on operands that need all 128 bits and compares with the host.
use anchor_lang::AnchorDeserialize;
use gpu_escrow::instructions::{QuoteBy, QuoteResult};
use gpu_escrow::math;
use gpu_escrow_sdk::ix;
use gpu_escrow_tests::svm::Env;

fn on_chain(env: &mut Env, price: u64, by: QuoteBy, fee_bps: u16) -> Result<QuoteResult, String> {
    let payer = env.admin.insecure_clone();
    match env.send1(ix::quote(price, by, fee_bps), &payer) {
        Ok(meta) => Ok(QuoteResult::deserialize(&mut meta.return_data.data.as_slice()).expect("QuoteResult")),
        Err(f) => Err(f.name),
    }
}

fn host(price: u64, by: QuoteBy, fee_bps: u16) -> Result<QuoteResult, String> {
    let q = match by {
        QuoteBy::Seconds(s) => math::quote_seconds(price, s, fee_bps),
        QuoteBy::Deposit(d) => math::quote_deposit(price, d, fee_bps),
    };
    q.map(Into::into).map_err(|e| format!("{e:?}"))
}

#[test]
fn full_width_u128_results_match_the_host() {
    let mut env = Env::new();
    let big = u64::MAX;
    // Each case forces a 128-bit intermediate: products above 2^64, divisors 3600 and 10 000
    // (fast path), divisors above 2^32 and at 2^63+ (shift-subtract path), and div_ceil (%).
    let cases: Vec<(u64, QuoteBy, u16)> = vec![
        (3_600 * 7, QuoteBy::Deposit(big), 3_000), // u64::MAX × 3600 / 25 200
        (7, QuoteBy::Seconds(big / 4_000), 1),     // 7 × 4.6e15 / 3600, rounded up
        (big, QuoteBy::Seconds(3_600), 3_000),     // u64::MAX × 3600 / 3600
        (big, QuoteBy::Seconds(1_799), 2_999),     // odd remainder, fee on ~2^63
        (big, QuoteBy::Deposit(big), 1),           // divisor 2^64 − 1
        (1u64 << 63, QuoteBy::Deposit(big - 12_345), 250),
        ((1u64 << 32) + 1, QuoteBy::Deposit(big / 3), 9),
        (u32::MAX as u64, QuoteBy::Deposit(big), 10),
        (987_654_321_987, QuoteBy::Seconds(123_456_789_012), 1_234),
        (1, QuoteBy::Seconds(big), 0), // overflow must be an error, not a wrap
    ];
    let mut checked = 0;
    for (price, by, fee) in cases {
        let want = host(price, by, fee);
        let got = on_chain(&mut env, price, by, fee);
        match (&want, &got) {
            (Ok(w), Ok(g)) => assert_eq!(g, w, "price {price} {by:?} fee {fee}"),
            (Err(_), Err(name)) => assert_eq!(name, "AmountOverflow", "price {price} {by:?}"),
            _ => panic!("price {price} {by:?} fee {fee}: host {want:?}, chain {got:?}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 10);
}

#[test]
fn pseudo_random_operands_match_the_host() {
    let mut env = Env::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..60 {
        let price = (next() >> (i % 64)).max(1);
        let amount = next() >> ((i * 7) % 64);
        let fee = (next() % 3_001) as u16;
        let by = if i % 2 == 0 { QuoteBy::Deposit(amount) } else { QuoteBy::Seconds(amount) };
        let want = host(price, by, fee);
        let got = on_chain(&mut env, price, by, fee);
        match (&want, &got) {
            (Ok(w), Ok(g)) => assert_eq!(g, w, "case {i}: price {price} {by:?} fee {fee}"),
            (Err(_), Err(_)) => {}
            _ => panic!("case {i}: price {price} {by:?} fee {fee}: host {want:?}, chain {got:?}"),
        }
    }
}
