//! Rounding and extremes on the real program: cumulative math never drifts or leaks.
use gpu_escrow_sdk::{ix, Signer};
use gpu_escrow_tests::svm::{listing_params, Env, Market, SPL_TOKEN};

#[test]
fn many_small_claims_equal_one_big_claim_to_the_unit() {
    // An awkward price: 1_234_567 units per hour, fee 250 bps.
    let mut a = Market::with_params(listing_params(1_234_567));
    let mut b = Market::with_params(listing_params(1_234_567));
    let ka = a.running(1_000_003);
    let kb = b.running(1_000_003);
    for _ in 0..40 {
        a.env.advance(37);
        let _ = a.claim(&ka); // some steps earn nothing new; that is refused, not drifted
    }
    b.env.advance(37 * 40);
    b.claim(&kb).unwrap();
    assert_eq!(a.balances(), b.balances());
    let treasury = a.env.treasury.pubkey();
    let ra = a.renter.insecure_clone();
    a.env.send1(ix::stop_rental(&ra.pubkey(), &ka, &treasury), &ra).unwrap();
    let treasury = b.env.treasury.pubkey();
    let rb = b.renter.insecure_clone();
    b.env.send1(ix::stop_rental(&rb.pubkey(), &kb, &treasury), &rb).unwrap();
    assert_eq!(a.balances(), b.balances());
    let r = a.rental(&ka);
    assert_eq!(r.provider_paid + r.fee_paid + r.refunded, r.deposited);
}

#[test]
fn one_base_unit_per_hour_bills_whole_hours_only() {
    let mut p = listing_params(1);
    p.min_rental_secs = 3_600;
    let mut m = Market::with_params(p);
    let k = m.running(3);
    assert_eq!(m.rental(&k).end_at - m.rental(&k).activated_at, 3 * 3_600);
    m.env.advance(3_599);
    assert_eq!(m.claim(&k).unwrap_err().name, "NothingToClaim");
    m.env.advance(1);
    m.claim(&k).unwrap();
    let b = m.balances();
    assert_eq!((b.provider, b.treasury), (1, 0)); // fee on 1 unit rounds down to 0
}

#[test]
fn a_u64_max_deposit_settles_exactly() {
    let (env, mint) = Env::with_config();
    let mut p = listing_params(u64::MAX);
    p.min_rental_secs = 1;
    let mut m = Market::on(env, mint, p);
    // Top the renter up to exactly u64::MAX tokens in total.
    let have = m.balances().renter;
    let r = m.renter.pubkey();
    m.env.fund(&r, &mint, u64::MAX - have);
    let k = m.running(u64::MAX); // exactly one hour
    m.env.advance(1_800);
    m.claim(&k).unwrap();
    let ra = m.renter.insecure_clone();
    // One more unit would overflow the recorded deposit.
    assert_eq!(m.env.send1(ix::top_up(&k, 1), &ra).unwrap_err().name, "AmountOverflow");
    let treasury = m.env.treasury.pubkey();
    m.env.advance(600);
    m.env.send1(ix::stop_rental(&ra.pubkey(), &k, &treasury), &ra).unwrap();
    let rental = m.rental(&k);
    let earned = (u64::MAX as u128 * 2_400 / 3_600) as u64;
    assert_eq!(rental.provider_paid + rental.fee_paid, earned);
    assert_eq!(rental.provider_paid as u128 + rental.fee_paid as u128 + rental.refunded as u128, u64::MAX as u128);
    let b = m.balances();
    assert_eq!(b.renter as u128 + b.provider as u128 + b.treasury as u128, u64::MAX as u128);
}

#[test]
fn a_deposit_that_buys_more_than_the_listing_window_is_refused() {
    let (env, mint) = Env::with_config();
    let mut p = listing_params(1);
    p.max_rental_secs = u32::MAX;
    let mut m = Market::on(env, mint, p);
    let before = m.balances();
    // 1e9 units at 1 per hour = 3.6e12 s, beyond any u32 window.
    assert_eq!(m.open(1_000_000_000).unwrap_err().name, "DepositAboveMaximum");
    assert_eq!(m.balances(), before);
    let _ = SPL_TOKEN;
}
