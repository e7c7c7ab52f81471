//! Reputation that costs what it claims (hardening issue, point 5; round 2, points 1 and 2):
//! every counter is credited only from rentals that count (600 s billed and the mint's
//! minimum paid, the renter never the provider), and a rating waits on nobody's withdrawal.
use gpu_escrow::state::{Config, Provider};
use gpu_escrow_sdk::{ix, pda, Signer};
use gpu_escrow_tests::svm::{listing_params, Market};

fn profile(m: &Market) -> Provider {
    m.env.decode(&pda::provider(&m.provider.pubkey()))
}

#[test]
fn only_rentals_that_billed_ten_minutes_can_be_rated() {
    let mut m = Market::new();
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    // The cheap fake: open, activate, stop and close within seconds.
    let k = m.running(600_000);
    m.env.advance(1);
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(m.env.send1(ix::close_rental(&k, Some(5)), &r).unwrap_err().name, "RatingNotEarned");
    assert_eq!(profile(&m).rating_count, 0);
    assert_eq!((profile(&m).rentals_completed, profile(&m).seconds_billed), (0, 0), "it does not count either");
    // 599 s is still short; 600 s counts.
    for (secs, counted) in [(599, 0), (600, 1)] {
        let k = m.running(3_600_000);
        m.env.advance(secs);
        m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
        let res = m.env.send1(ix::close_rental(&k, Some(4)), &r);
        assert_eq!(res.is_ok(), counted == 1, "{secs} s");
        assert_eq!(profile(&m).rating_count, counted);
        assert_eq!(profile(&m).rentals_completed, counted as u64);
    }
    assert_eq!(profile(&m).rating_sum, 4);
    assert_eq!(profile(&m).seconds_billed, 600);
}

#[test]
fn heartbeats_count_only_when_they_extend_an_sla() {
    let mut m = Market::new(); // no SLA
    let k = m.running(600_000);
    let p = m.provider.insecure_clone();
    assert_eq!(m.env.send1(ix::heartbeat(&p.pubkey(), &k.rental), &p).unwrap_err().name, "NoHeartbeatSla");

    let mut params = listing_params(3_600_000);
    params.heartbeat_interval_secs = 60;
    let mut m = Market::with_params(params);
    let k = m.running(600_000);
    let p = m.provider.insecure_clone();
    // In the activation second the SLA is already fresh: accepted, not counted.
    m.env.send1(ix::heartbeat(&p.pubkey(), &k.rental), &p).unwrap();
    assert_eq!(m.rental(&k).heartbeats, 0);
    // Five in one transaction extend the SLA once.
    m.env.advance(10);
    let five: Vec<_> = (0..5).map(|_| ix::heartbeat(&p.pubkey(), &k.rental)).collect();
    m.env.send(&five, &p, &[]).unwrap();
    assert_eq!(m.rental(&k).heartbeats, 1);
    assert_eq!(m.rental(&k).last_heartbeat, m.env.now());
    // The profile credits nothing until the rental settles, and nothing for a rental that
    // billed under ten minutes.
    assert_eq!(profile(&m).heartbeats, 0);
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(profile(&m).heartbeats, 0);
}

#[test]
fn heartbeats_credit_at_most_one_per_interval_of_billed_time() {
    let mut params = listing_params(3_600_000);
    params.heartbeat_interval_secs = 60;
    let mut m = Market::with_params(params);
    let k = m.running(3_600_000);
    let p = m.provider.insecure_clone();
    // A heartbeat every second for 650 s: 650 recorded, for fees only.
    for _ in 0..650 {
        m.env.advance(1);
        m.env.send1(ix::heartbeat(&p.pubkey(), &k.rental), &p).unwrap();
    }
    assert_eq!(m.rental(&k).heartbeats, 650);
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    let prof = profile(&m);
    // 650 s billed at a 60 s interval: 10 intervals, plus the first heartbeat.
    assert_eq!((prof.rentals_completed, prof.seconds_billed, prof.heartbeats), (1, 650, 11));
}

#[test]
fn a_rating_waits_on_nobodys_withdrawal_and_is_given_once() {
    let mut m = Market::new();
    let k = m.running(3_600_000);
    m.env.advance(700);
    let (provider, mint) = (m.provider.pubkey(), m.mint);
    m.env.set_frozen(&provider, &mint, true);
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert!(m.rental(&k).provider_owed > 0, "the provider's share is held");
    // Closing must wait for the held share; rating need not.
    assert_eq!(m.env.send1(ix::close_rental(&k, Some(5)), &r).unwrap_err().name, "FundsStillOwed");
    let stranger = m.env.wallet();
    let mut by_stranger = ix::rate_rental(&k, 5);
    by_stranger.accounts[0].pubkey = stranger.pubkey();
    assert_eq!(m.env.send1(by_stranger, &stranger).unwrap_err().name, "NotRenter");
    assert_eq!(m.env.send1(ix::rate_rental(&k, 0), &r).unwrap_err().name, "InvalidRating");
    m.env.send1(ix::rate_rental(&k, 5), &r).unwrap();
    assert_eq!((profile(&m).rating_sum, profile(&m).rating_count), (5, 1));
    assert_eq!(m.env.send1(ix::rate_rental(&k, 1), &r).unwrap_err().name, "AlreadyRated");
    // Delivered later; the close cannot rate a second time either.
    m.env.set_frozen(&provider, &mint, false);
    m.env.send1(ix::deliver_owed(&stranger.pubkey(), &k, &treasury), &stranger).unwrap();
    assert_eq!(m.env.send1(ix::close_rental(&k, Some(1)), &r).unwrap_err().name, "AlreadyRated");
    m.env.send1(ix::close_rental(&k, None), &r).unwrap();
    assert_eq!((profile(&m).rating_sum, profile(&m).rating_count), (5, 1));
}

#[test]
fn a_rental_cannot_be_rated_before_it_settles() {
    let mut m = Market::new();
    let k = m.running(3_600_000);
    m.env.advance(700);
    let r = m.renter.insecure_clone();
    assert_eq!(m.env.send1(ix::rate_rental(&k, 5), &r).unwrap_err().name, "RatingNotAllowed");
}

#[test]
fn an_arbiter_who_is_a_party_may_not_rule() {
    let mut m = Market::new();
    let admin = m.env.admin.pubkey();
    let renter = m.renter.pubkey();
    m.env
        .admin_send(ix::update_config(&admin, ix::UpdateConfigArgs { arbiter: Some(renter), ..Default::default() }))
        .unwrap();
    assert_eq!(m.env.decode::<Config>(&pda::config()).arbiter, renter);
    let k = m.running(600_000);
    m.env.advance(100);
    let r = m.renter.insecure_clone();
    m.env.send1(ix::open_dispute(&r.pubkey(), &k, 2), &r).unwrap();
    let treasury = m.env.treasury.pubkey();
    let err = m.env.send1(ix::resolve_dispute(&r.pubkey(), &k, &treasury, 0), &r).unwrap_err();
    assert_eq!(err.name, "ArbiterIsParty");
    // The objective rule still ends it.
    m.env.advance(3_600);
    m.env.send1(ix::resolve_expired_dispute(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(m.balances().provider, 97_500);
}

#[test]
fn a_rating_must_cost_the_tokens_minimum_amount_too() {
    use gpu_escrow_tests::svm::{Env, SPL_TOKEN};
    let (mut env, _) = Env::with_config();
    let mint = env.create_mint(SPL_TOKEN);
    let admin = env.admin.pubkey();
    // Ratings in this token need 1.00 token billed.
    env.admin_send(ix::add_mint(&admin, &mint, &SPL_TOKEN, 1_000_000)).unwrap();
    // At 1 token per hour, ten minutes bill 0.166666: too little to rate.
    let mut m = Market::on(env, mint, listing_params(1_000_000));
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let k = m.running(2_000_000);
    m.env.advance(600);
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(m.env.send1(ix::close_rental(&k, Some(5)), &r).unwrap_err().name, "RatingNotEarned");
    // An hour bills the full token: that rating counts.
    let k = m.running(2_000_000);
    m.env.advance(3_600);
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    m.env.send1(ix::close_rental(&k, Some(5)), &r).unwrap();
    assert_eq!(profile(&m).rating_count, 1);
}

#[test]
fn the_minimum_is_the_one_in_force_when_the_rental_opened() {
    use gpu_escrow_tests::svm::{Env, SPL_TOKEN};
    let (mut env, _) = Env::with_config();
    let mint = env.create_mint(SPL_TOKEN);
    let admin = env.admin.pubkey();
    env.admin_send(ix::add_mint(&admin, &mint, &SPL_TOKEN, 100_000)).unwrap();
    let mut m = Market::on(env, mint, listing_params(3_600_000));
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let k = m.running(3_600_000);
    m.env.advance(700); // 700_000 gross: above the minimum at open
                        // The admin raises the minimum (remove and re-add) while the rental runs: it keeps its terms.
    m.env.admin_send(ix::remove_mint(&admin, &mint)).unwrap();
    m.env.admin_send(ix::add_mint(&admin, &mint, &SPL_TOKEN, 10_000_000)).unwrap();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(profile(&m).rentals_completed, 1);
    m.env.send1(ix::close_rental(&k, Some(4)), &r).unwrap();
    assert_eq!(profile(&m).rating_count, 1);
    // A rental opened under the new minimum does not count for the same time.
    let k = m.running(3_600_000);
    m.env.advance(700);
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(profile(&m).rentals_completed, 1);
    assert_eq!(m.env.send1(ix::close_rental(&k, Some(4)), &r).unwrap_err().name, "RatingNotEarned");
}

#[test]
fn a_decline_after_the_deadline_still_counts_as_a_no_show() {
    let mut m = Market::new(); // activation timeout 600 s
    let p = m.provider.insecure_clone();
    let k = m.open(600_000).unwrap();
    m.env.send1(ix::decline_rental(&k), &p).unwrap();
    assert_eq!(profile(&m).no_shows, 0, "a prompt decline is not a no-show");
    let k = m.open(600_000).unwrap();
    m.env.advance(600);
    m.env.send1(ix::decline_rental(&k), &p).unwrap();
    assert_eq!(profile(&m).no_shows, 1);
}
