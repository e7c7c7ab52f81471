//! Disputes: accrual stops, the unearned rest is refunded at once, only the earned and
//! unclaimed amount stays locked until the arbiter or the timeout settles it.
use gpu_escrow::state::{Listing, Provider, RentalState};
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
    let profile = m.env.decode::<Provider>(&pda::provider(&m.provider.pubkey()));
    assert_eq!(profile.disputes_lost, 0, "opening a dispute decides nothing");
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
    assert_eq!(m.env.decode::<Provider>(&pda::provider(&p.pubkey())).disputes_lost, 0);
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

#[test]
fn a_dispute_gives_the_slot_back_but_the_listing_stays_open_until_it_settles() {
    let mut params = gpu_escrow_tests::svm::listing_params(gpu_escrow_tests::svm::PRICE);
    params.capacity = 1;
    let mut m = Market::with_params(params);
    let k = m.running(600_000);
    assert_eq!(m.open(600_000).unwrap_err().name, "ListingAtCapacity");
    m.env.advance(60);
    let r = m.renter.insecure_clone();
    m.env.send1(ix::open_dispute(&r.pubkey(), &k, 1), &r).unwrap();
    let l: Listing = m.env.decode(&m.listing);
    assert_eq!((l.active_rentals, l.disputed_rentals), (0, 1));
    // Billing stopped: the machine can be rented again at once, while the dispute runs.
    let second = m.open(600_000).unwrap();
    let p = m.provider.insecure_clone();
    m.env.send1(ix::decline_rental(&second), &p).unwrap();
    assert_eq!(m.env.send1(ix::close_listing(&p.pubkey(), &m.listing), &p).unwrap_err().name, "ListingHasRentals");
    // Settled by the timeout rule: the listing can close, and the counts are back to zero.
    m.env.advance(3_600);
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::resolve_expired_dispute(&r.pubkey(), &k, &treasury), &r).unwrap();
    let l: Listing = m.env.decode(&m.listing);
    assert_eq!((l.active_rentals, l.disputed_rentals), (0, 0));
    m.env.send1(ix::close_listing(&p.pubkey(), &m.listing), &p).unwrap();
}

#[test]
fn a_dispute_decided_against_the_provider_adds_nothing_to_its_record() {
    let mut m = Market::new();
    let arb = m.env.arbiter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let r = m.renter.insecure_clone();
    let profile = |m: &Market| m.env.decode::<Provider>(&pda::provider(&m.provider.pubkey()));
    // Ten minutes billed and claimed (enough to count), then a dispute.
    for (award_all, completed, lost) in [(false, 0, 1), (true, 1, 1)] {
        let k = m.running(3_600_000);
        m.env.advance(700);
        m.claim(&k).unwrap();
        m.env.advance(100);
        m.env.send1(ix::open_dispute(&r.pubkey(), &k, 2), &r).unwrap();
        let award = if award_all { m.rental(&k).dispute_locked } else { 0 };
        m.env.send1(ix::resolve_dispute(&arb.pubkey(), &k, &treasury, award), &arb).unwrap();
        let p = profile(&m);
        assert_eq!((p.rentals_completed, p.disputes_lost), (completed, lost), "award all: {award_all}");
        // The renter who won may still rate (the rental billed and paid what a rating needs).
        if !award_all {
            m.env.send1(ix::rate_rental(&k, 1), &r).unwrap();
            assert_eq!(profile(&m).rating_count, 1);
        }
    }
    assert_eq!(profile(&m).seconds_billed, 800);
}
