//! Happy paths of the rental lifecycle, checking every party's balance to the base unit.
//! Price 3_600_000/h = 1_000 base units per second; fee 250 bps.
use gpu_escrow::state::{Listing, Provider, RentalState};
use gpu_escrow_sdk::{ix, pda, Signer};
use gpu_escrow_tests::svm::{Balances, Market, RENTER_FUNDS, START_TIME};

#[test]
fn open_activate_claim_stop_close() {
    let mut m = Market::new();
    let k = m.open(3_600_000).unwrap();
    let r = m.rental(&k);
    assert_eq!(r.state, RentalState::Funded);
    assert_eq!((r.deposited, r.price_per_hour, r.fee_bps), (3_600_000, 3_600_000, 250));
    assert_eq!(m.env.token_amount(&k.vault()), 3_600_000);
    assert_eq!(m.env.decode::<Listing>(&m.listing).active_rentals, 1);

    // Billing starts at activation, not at funding.
    m.env.advance(500);
    m.activate(&k).unwrap();
    let r = m.rental(&k);
    assert_eq!(r.state, RentalState::Active);
    assert_eq!(r.activated_at, START_TIME + 500);
    assert_eq!(r.end_at, START_TIME + 500 + 3_600);

    m.env.advance(100);
    m.claim(&k).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 3_600_000, provider: 97_500, treasury: 2_500 });

    m.env.advance(60);
    let renter = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let renter_sol = m.env.lamports(&renter.pubkey());
    m.env.send1(ix::stop_rental(&renter.pubkey(), &k, &treasury), &renter).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 160_000, provider: 156_000, treasury: 4_000 });
    let r = m.rental(&k);
    assert_eq!(r.state, RentalState::Settled);
    assert_eq!((r.provider_paid, r.fee_paid, r.refunded, r.billed_seconds), (156_000, 4_000, 3_440_000, 160));
    assert_eq!(r.provider_paid + r.fee_paid + r.refunded, r.deposited);
    assert!(!m.env.exists(&k.vault()), "vault closed");
    assert!(m.env.lamports(&renter.pubkey()) > renter_sol, "vault rent returned to the renter");
    assert_eq!(m.env.decode::<Listing>(&m.listing).active_rentals, 0);
    let p: Provider = m.env.decode(&pda::provider(&m.provider.pubkey()));
    // 160 s billed is below the 10 minutes a rental needs to count (or be rated).
    assert_eq!((p.rentals_completed, p.seconds_billed), (0, 0));

    assert_eq!(m.env.send1(ix::close_rental(&k, Some(5)), &renter).unwrap_err().name, "RatingNotEarned");
    let renter_sol = m.env.lamports(&renter.pubkey());
    m.env.send1(ix::close_rental(&k, None), &renter).unwrap();
    assert!(!m.env.exists(&k.rental) && !m.env.exists(&k.access()), "rental and access accounts closed");
    assert!(m.env.lamports(&renter.pubkey()) > renter_sol, "their deposits returned to the renter");
    let p: Provider = m.env.decode(&pda::provider(&m.provider.pubkey()));
    assert_eq!((p.rating_sum, p.rating_count), (0, 0));
    // Double close: the account is gone.
    assert_eq!(m.env.send1(ix::close_rental(&k, None), &renter).unwrap_err().name, "AccountNotInitialized");
}

#[test]
fn provider_can_stop_too_and_stop_after_end_bills_only_paid_time() {
    let mut m = Market::new();
    let k = m.running(600_000); // 600 s
    m.env.advance(10_000);
    let p = m.provider.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&p.pubkey(), &k, &treasury), &p).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 600_000, provider: 585_000, treasury: 15_000 });
    assert_eq!(m.rental(&k).ended_at, START_TIME + 600);
}

#[test]
fn finalize_by_anyone_after_end() {
    let mut m = Market::new();
    let k = m.running(1_000_500); // 1000.5 s: the half second is refunded
    let crank = m.env.wallet();
    let treasury = m.env.treasury.pubkey();
    m.env.advance(999);
    let err = m.env.send1(ix::finalize_rental(&crank.pubkey(), &k, &treasury), &crank).unwrap_err();
    assert_eq!(err.name, "RentalNotExpired");
    m.env.advance(1);
    m.env.send1(ix::finalize_rental(&crank.pubkey(), &k, &treasury), &crank).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 1_000_000, provider: 975_000, treasury: 25_000 });
    assert_eq!(m.rental(&k).state, RentalState::Settled);
}

#[test]
fn top_up_extends_the_paid_time() {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(300);
    let r = m.renter.insecure_clone();
    m.env.send1(ix::top_up(&k, 300_000), &r).unwrap();
    let rental = m.rental(&k);
    assert_eq!(rental.deposited, 900_000);
    assert_eq!(rental.end_at, START_TIME + 900);
    assert_eq!(m.env.token_amount(&k.vault()), 900_000);
    assert_eq!(m.balances().renter, RENTER_FUNDS - 900_000);
}

#[test]
fn top_up_after_expiry_is_refused_and_moves_nothing() {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(600);
    let r = m.renter.insecure_clone();
    let before = m.balances();
    assert_eq!(m.env.send1(ix::top_up(&k, 300_000), &r).unwrap_err().name, "RentalExpired");
    assert_eq!(m.balances(), before);
    assert_eq!(m.rental(&k).deposited, 600_000);
}

#[test]
fn top_up_while_funded_adds_to_the_deposit() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let r = m.renter.insecure_clone();
    m.env.send1(ix::top_up(&k, 60_000), &r).unwrap();
    m.activate(&k).unwrap();
    assert_eq!(m.rental(&k).end_at, START_TIME + 660);
}

#[test]
fn cancel_before_activation_refunds_everything() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let r = m.renter.insecure_clone();
    m.env.send1(ix::cancel_rental(&r.pubkey(), &k), &r).unwrap();
    assert_eq!(m.balances().renter, RENTER_FUNDS);
    let rental = m.rental(&k);
    assert_eq!((rental.state, rental.refunded), (RentalState::Cancelled, 600_000));
    assert_eq!(m.env.decode::<Provider>(&pda::provider(&m.provider.pubkey())).no_shows, 0);
    // A cancelled rental cannot be rated, but can be closed.
    assert_eq!(m.env.send1(ix::close_rental(&k, Some(1)), &r).unwrap_err().name, "RatingNotAllowed");
    m.env.send1(ix::close_rental(&k, None), &r).unwrap();
}

#[test]
fn activation_timeout_lets_anyone_cancel_and_marks_a_no_show() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let crank = m.env.wallet();
    assert_eq!(m.env.send1(ix::cancel_rental(&crank.pubkey(), &k), &crank).unwrap_err().name, "CancelTooEarly");
    m.env.advance(600);
    m.env.send1(ix::cancel_rental(&crank.pubkey(), &k), &crank).unwrap();
    assert_eq!(m.balances().renter, RENTER_FUNDS);
    assert_eq!(m.env.decode::<Provider>(&pda::provider(&m.provider.pubkey())).no_shows, 1);
}

#[test]
fn a_rental_past_its_activation_deadline_takes_no_top_up() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let renter = m.renter.insecure_clone();
    m.env.send1(ix::top_up(&k, 60_000), &renter).unwrap();
    m.env.advance(600);
    let before = m.balances();
    assert_eq!(m.env.send1(ix::top_up(&k, 60_000), &renter).unwrap_err().name, "ActivationExpired");
    assert_eq!(m.balances(), before, "nothing moved");
    // What it can still do: be cancelled, refunding everything deposited.
    m.env.send1(ix::cancel_rental(&renter.pubkey(), &k), &renter).unwrap();
    assert_eq!(m.balances().renter, RENTER_FUNDS);
}

#[test]
fn provider_declines_with_full_refund() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let p = m.provider.insecure_clone();
    m.env.send1(ix::decline_rental(&k), &p).unwrap();
    assert_eq!(m.balances().renter, RENTER_FUNDS);
    assert_eq!(m.rental(&k).state, RentalState::Cancelled);
    assert_eq!(m.env.decode::<Listing>(&m.listing).active_rentals, 0);
}

#[test]
fn listing_changes_never_alter_a_running_rental() {
    let mut m = Market::new();
    let k = m.running(600_000);
    let p = m.provider.insecure_clone();
    let mut params = gpu_escrow_tests::svm::listing_params(7_200_000);
    params.capacity = 3;
    m.env.send1(ix::update_listing(&p.pubkey(), &m.listing, params), &p).unwrap();
    let admin = m.env.admin.pubkey();
    m.env
        .admin_send(ix::update_config(&admin, ix::UpdateConfigArgs { fee_bps: Some(1_000), ..Default::default() }))
        .unwrap();
    m.env.advance(100);
    m.claim(&k).unwrap();
    assert_eq!(m.balances().provider, 97_500);
    assert_eq!(m.env.decode::<Listing>(&m.listing).price_per_hour, 7_200_000);
}
