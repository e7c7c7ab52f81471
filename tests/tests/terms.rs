//! The renter signs the terms, not just the listing address; activation has a deadline
//! (hardening issue, points 1 and 2).
use gpu_escrow::state::{Provider, RentalState};
use gpu_escrow_sdk::{ix, pda, Signer};
use gpu_escrow_tests::svm::{listing_params, Market, RENTER_FUNDS, START_TIME};

#[test]
fn a_listing_repriced_between_quote_and_open_is_refused() {
    let mut m = Market::new();
    let quoted = m.open_request(600_000);
    // The provider sees the pending open and quintuples the price first.
    let p = m.provider.insecure_clone();
    let repriced = listing_params(5 * gpu_escrow_tests::svm::PRICE);
    m.env.send1(ix::update_listing(&p.pubkey(), &m.listing, repriced), &p).unwrap();
    let before = m.balances();
    assert_eq!(m.send_open(&quoted).unwrap_err().name, "TermsChanged");
    assert_eq!(m.balances(), before, "nothing moved");
    assert!(!m.env.exists(&quoted.rental()));
    // A fresh quote at the new price opens normally.
    let k = m.open(3_000_000).unwrap();
    assert_eq!(m.rental(&k).price_per_hour, 5 * gpu_escrow_tests::svm::PRICE);
}

#[test]
fn a_changed_sla_or_fee_is_refused_too() {
    let mut m = Market::new();
    let quoted = m.open_request(600_000);
    let p = m.provider.insecure_clone();
    let mut sla = listing_params(gpu_escrow_tests::svm::PRICE);
    sla.heartbeat_interval_secs = 1;
    m.env.send1(ix::update_listing(&p.pubkey(), &m.listing, sla), &p).unwrap();
    assert_eq!(m.send_open(&quoted).unwrap_err().name, "TermsChanged");

    let quoted = m.open_request(600_000);
    let admin = m.env.admin.pubkey();
    m.env
        .admin_send(ix::update_config(&admin, ix::UpdateConfigArgs { fee_bps: Some(3_000), ..Default::default() }))
        .unwrap();
    assert_eq!(m.send_open(&quoted).unwrap_err().name, "TermsChanged");
    assert_eq!(m.balances().renter, RENTER_FUNDS);
}

#[test]
fn a_longest_rental_lowered_under_a_pending_open_is_refused() {
    let mut m = Market::new();
    let quoted = m.open_request(600_000);
    // The provider shortens the longest rental first: the renter's later top-ups would fail.
    let p = m.provider.insecure_clone();
    let mut shorter = listing_params(gpu_escrow_tests::svm::PRICE);
    shorter.max_rental_secs = 900;
    m.env.send1(ix::update_listing(&p.pubkey(), &m.listing, shorter), &p).unwrap();
    assert_eq!(m.send_open(&quoted).unwrap_err().name, "TermsChanged");
    assert_eq!(m.balances().renter, RENTER_FUNDS);
    // Quoted again, the renter opens with the limit it now knows of.
    let k = m.open(600_000).unwrap();
    assert_eq!(m.rental(&k).max_rental_secs, 900);
}

#[test]
fn activation_after_the_deadline_is_refused_so_a_no_show_stays_a_no_show() {
    let mut m = Market::new(); // activation timeout 600 s
    let k = m.open(600_000).unwrap();
    m.env.advance(600);
    // The provider tries to front-run the crank's cancel.
    assert_eq!(m.activate(&k).unwrap_err().name, "ActivationExpired");
    assert_eq!(m.rental(&k).state, RentalState::Funded);
    let crank = m.env.wallet();
    m.env.send1(ix::cancel_rental(&crank.pubkey(), &k), &crank).unwrap();
    assert_eq!(m.balances().renter, RENTER_FUNDS);
    assert_eq!(m.env.decode::<Provider>(&pda::provider(&m.provider.pubkey())).no_shows, 1);
}

#[test]
fn activation_one_second_before_the_deadline_works() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    m.env.advance(599);
    m.activate(&k).unwrap();
    assert_eq!(m.rental(&k).activated_at, START_TIME + 599);
}

#[test]
fn a_changed_timeout_is_refused() {
    let mut m = Market::new();
    let quoted = m.open_request(600_000);
    let admin = m.env.admin.pubkey();
    let longer = ix::UpdateConfigArgs { dispute_timeout_secs: Some(90 * 24 * 3_600), ..Default::default() };
    m.env.admin_send(ix::update_config(&admin, longer)).unwrap();
    assert_eq!(m.send_open(&quoted).unwrap_err().name, "TermsChanged");
    assert_eq!(m.balances().renter, RENTER_FUNDS);
}
