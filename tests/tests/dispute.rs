//! Disputes: accrual stops, the unearned rest is refunded at once, only the earned and
//! unclaimed amount stays locked until the arbiter or the timeout settles it.
use gpu_escrow::state::{Provider, RentalState};
use gpu_escrow_sdk::{ix, pda, Signer};
use gpu_escrow_tests::svm::{Balances, Market, RENTER_FUNDS};

fn disputed() -> (Market, ix::RentalKeys) {
    let mut m = Market::new();
    let k = m.running(3_600_000);
    m.env.advance(100);
    m.claim(&k).unwrap(); // 97_500 + 2_500 paid
    m.env.advance(200);
    let r = m.renter.insecure_clone();
    m.env.send1(ix::open_dispute(&r.pubkey(), &k, 3), &r).unwrap();
    (m, k)
}

#[test]
fn opening_a_dispute_refunds_the_unearned_rest_and_locks_the_unclaimed() {
    let (mut m, k) = disputed();
    let r = m.rental(&k);
    assert_eq!(r.state, RentalState::Disputed);
    assert_eq!(r.dispute_locked, 200_000);
    assert_eq!(r.refunded, 3_300_000);
    assert_eq!(m.env.token_amount(&k.vault()), 200_000);
    assert_eq!(m.balances().renter, RENTER_FUNDS - 300_000);
    assert_eq!(m.env.decode::<Provider>(&pda::provider(&m.provider.pubkey())).disputes_against, 1);
    // Frozen: no claims, no stop, no second dispute.
    assert_eq!(m.claim(&k).unwrap_err().name, "RentalNotActive");
    let renter = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    assert_eq!(
        m.env.send1(ix::stop_rental(&renter.pubkey(), &k, &treasury), &renter).unwrap_err().name,
        "RentalNotActive"
    );
    m.env.advance(1_000);
    let r = m.rental(&k);
    assert_eq!(r.dispute_locked, 200_000, "accrual stopped");
}

#[test]
fn only_the_arbiter_resolves_and_the_award_is_capped() {
    let (mut m, k) = disputed();
    let treasury = m.env.treasury.pubkey();
    let p = m.provider.insecure_clone();
    let err = m.env.send1(ix::resolve_dispute(&p.pubkey(), &k, &treasury, 200_000), &p).unwrap_err();
    assert_eq!(err.name, "NotArbiter");
    let arb = m.env.arbiter.insecure_clone();
    let err = m.env.send1(ix::resolve_dispute(&arb.pubkey(), &k, &treasury, 200_001), &arb).unwrap_err();
    assert_eq!(err.name, "AwardExceedsLocked");
    let before = m.balances();
    m.env.send1(ix::resolve_dispute(&arb.pubkey(), &k, &treasury, 120_000), &arb).unwrap();
    // 120_000 to the provider side: fee 3_000, provider 117_000; renter gets 80_000 back.
    assert_eq!(
        m.balances(),
        Balances {
            renter: before.renter + 80_000,
            provider: before.provider + 117_000,
            treasury: before.treasury + 3_000
        }
    );
    let r = m.rental(&k);
    assert_eq!(r.state, RentalState::Settled);
    assert_eq!(r.provider_paid + r.fee_paid + r.refunded, r.deposited);
    assert!(!m.env.exists(&k.vault()));
    assert_eq!(m.env.decode::<Provider>(&pda::provider(&p.pubkey())).disputes_lost, 1);
}

#[test]
fn an_expired_dispute_settles_as_earned_by_anyone() {
    let (mut m, k) = disputed();
    let crank = m.env.wallet();
    let treasury = m.env.treasury.pubkey();
    let err = m.env.send1(ix::resolve_expired_dispute(&crank.pubkey(), &k, &treasury), &crank).unwrap_err();
    assert_eq!(err.name, "DisputeNotExpired");
    m.env.advance(3_600);
    m.env.send1(ix::resolve_expired_dispute(&crank.pubkey(), &k, &treasury), &crank).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 300_000, provider: 292_500, treasury: 7_500 });
    assert_eq!(m.env.decode::<Provider>(&pda::provider(&m.provider.pubkey())).disputes_lost, 0);
}

#[test]
fn the_provider_may_open_a_dispute_too() {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(30);
    let p = m.provider.insecure_clone();
    m.env.send1(ix::open_dispute(&p.pubkey(), &k, 1), &p).unwrap();
    let r = m.rental(&k);
    assert_eq!((r.dispute_locked, r.dispute_opened_by), (30_000, p.pubkey()));
    assert_eq!(m.env.decode::<Provider>(&pda::provider(&p.pubkey())).disputes_against, 0);
}

#[test]
fn the_arbiter_cannot_rule_after_the_dispute_timeout() {
    let (mut m, k) = disputed();
    m.env.advance(3_600);
    let arb = m.env.arbiter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let err = m.env.send1(ix::resolve_dispute(&arb.pubkey(), &k, &treasury, 0), &arb).unwrap_err();
    assert_eq!(err.name, "DisputeTimedOut");
    m.env.send1(ix::resolve_expired_dispute(&arb.pubkey(), &k, &treasury), &arb).unwrap();
    assert_eq!(m.rental(&k).state, RentalState::Settled);
}
