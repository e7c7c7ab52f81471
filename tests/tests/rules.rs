//! Every rule broken on purpose: each returns its named error and moves nothing.
use gpu_escrow::state::{Listing, RentalState};
use gpu_escrow_sdk::{ix, pda, Signer};
use gpu_escrow_tests::svm::{listing_params, Env, Market, SPL_TOKEN};

#[test]
fn deposit_outside_the_listing_window_is_refused() {
    let mut m = Market::new();
    let before = m.balances();
    // min 60 s = 60_000 units; max 30 days.
    assert_eq!(m.open(59_999).unwrap_err().name, "DepositBelowMinimum");
    assert_eq!(m.open(0).unwrap_err().name, "ZeroAmount");
    assert_eq!(m.open(30 * 24 * 3_600_000 + 1_000).unwrap_err().name, "DepositAboveMaximum");
    assert_eq!(m.balances(), before);
    assert!(!m.env.exists(&m.keys(0).rental));
}

#[test]
fn capacity_is_enforced_and_freed_on_settlement() {
    let mut m = Market::new(); // capacity 2
    let first = m.open(600_000).unwrap();
    m.open(600_000).unwrap();
    assert_eq!(m.open(600_000).unwrap_err().name, "ListingAtCapacity");
    let r = m.renter.insecure_clone();
    m.env.send1(ix::cancel_rental(&r.pubkey(), &first), &r).unwrap();
    m.open(600_000).unwrap();
    assert_eq!(m.env.decode::<Listing>(&m.listing).active_rentals, 2);
}

#[test]
fn paused_listing_takes_no_rentals_and_closed_listing_needs_no_rentals() {
    let mut m = Market::new();
    let p = m.provider.insecure_clone();
    m.env.send1(ix::set_listing_paused(&p.pubkey(), &m.listing, true), &p).unwrap();
    assert_eq!(m.open(600_000).unwrap_err().name, "ListingPaused");
    m.env.send1(ix::set_listing_paused(&p.pubkey(), &m.listing, false), &p).unwrap();
    let k = m.open(600_000).unwrap();
    assert_eq!(m.env.send1(ix::close_listing(&p.pubkey(), &m.listing), &p).unwrap_err().name, "ListingHasRentals");
    m.env.send1(ix::decline_rental(&k), &p).unwrap();
    m.env.send1(ix::close_listing(&p.pubkey(), &m.listing), &p).unwrap();
    assert!(!m.env.exists(&m.listing));
}

#[test]
fn wrong_signers_are_named() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let stranger = m.env.wallet();
    assert_eq!(
        m.env
            .send1(ix::activate_rental(&stranger.pubkey(), &k.rental, &k.access(), vec![]), &stranger)
            .unwrap_err()
            .name,
        "NotProvider"
    );
    let p = m.provider.insecure_clone();
    let err =
        m.env.send1(ix::update_listing(&stranger.pubkey(), &m.listing, listing_params(1)), &stranger).unwrap_err();
    assert_eq!(err.name, "NotProvider");
    m.env.send1(ix::activate_rental(&p.pubkey(), &k.rental, &k.access(), vec![]), &p).unwrap();
    let treasury = m.env.treasury.pubkey();
    let err = m.env.send1(ix::stop_rental(&stranger.pubkey(), &k, &treasury), &stranger).unwrap_err();
    assert_eq!(err.name, "NotParty");
    assert_eq!(m.env.send1(ix::open_dispute(&stranger.pubkey(), &k, 1), &stranger).unwrap_err().name, "NotParty");
    let mint = m.mint;
    m.env.fund(&stranger.pubkey(), &mint, 1_000);
    let err = m.env.send1(ix::top_up(&ix::RentalKeys { renter: stranger.pubkey(), ..k }, 1), &stranger).unwrap_err();
    assert_eq!(err.name, "NotRenter");
}

#[test]
fn payouts_cannot_be_redirected_or_parked_with_a_wrong_account() {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(100);
    let thief = m.env.wallet();
    let mint = m.mint;
    m.env.fund(&thief.pubkey(), &mint, 0);
    // Claim with the thief's account in the treasury's slot: refused, and nothing moves (it
    // used to be held for the treasury, which let a caller park another party's share).
    let p = m.provider.insecure_clone();
    assert_eq!(m.env.send1(ix::claim(&k, &thief.pubkey()), &p).unwrap_err().name, "NotCanonicalPayeeAccount");
    assert_eq!(m.env.balance(&thief.pubkey(), &mint), 0);
    assert_eq!((m.balances().provider, m.balances().treasury, m.rental(&k).fee_owed), (0, 0, 0));
    m.claim(&k).unwrap();
    assert_eq!((m.balances().provider, m.balances().treasury), (97_500, 2_500));
    // Nor can the thief's account stand in for the provider's in a settlement.
    m.env.advance(100);
    let r = m.renter.insecure_clone();
    let mut stop = ix::stop_rental(&r.pubkey(), &k, &m.env.treasury.pubkey());
    let provider_token = k.provider_token();
    stop.accounts
        .iter_mut()
        .filter(|a| a.pubkey == provider_token)
        .for_each(|a| a.pubkey = k.token_account_of(&thief.pubkey()));
    assert_eq!(m.env.send1(stop, &r).unwrap_err().name, "NotCanonicalPayeeAccount");
    assert_eq!(m.env.balance(&thief.pubkey(), &mint), 0);
    assert_eq!(m.rental(&k).provider_owed, 0);
}

#[test]
fn wrong_mint_is_refused() {
    let mut m = Market::new();
    let other = m.env.create_mint(SPL_TOKEN);
    let admin = m.env.admin.pubkey();
    m.env.admin_send(ix::add_mint(&admin, &other, &SPL_TOKEN, 0)).unwrap();
    let r = m.renter.insecure_clone();
    m.env.fund(&r.pubkey(), &other, 10_000_000);
    let mut req = m.open_request(600_000);
    req.mint = other;
    assert_eq!(m.send_open(&req).unwrap_err().name, "WrongMint");
    assert_eq!(m.env.balance(&r.pubkey(), &other), 10_000_000);
}

#[test]
fn renting_your_own_listing_is_refused() {
    let mut m = Market::with_params(listing_params(3_600));
    let mut req = m.open_request(100_000);
    req.renter = m.provider.pubkey();
    let p = m.provider.insecure_clone();
    let mint = m.mint;
    m.env.fund(&p.pubkey(), &mint, 1_000_000);
    assert_eq!(m.env.send1(ix::open_rental(&req), &p).unwrap_err().name, "SelfRental");
}

#[test]
fn rating_out_of_range_and_closing_an_open_rental_are_refused() {
    let mut m = Market::new();
    let k = m.running(600_000);
    let r = m.renter.insecure_clone();
    assert_eq!(m.env.send1(ix::close_rental(&k, None), &r).unwrap_err().name, "RentalNotFinished");
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(m.env.send1(ix::close_rental(&k, Some(0)), &r).unwrap_err().name, "InvalidRating");
    assert_eq!(m.env.send1(ix::close_rental(&k, Some(6)), &r).unwrap_err().name, "InvalidRating");
    assert_eq!(m.rental(&k).state, RentalState::Settled);
}

#[test]
fn a_resent_open_cannot_charge_twice() {
    let mut m = Market::new();
    let req = m.open_request(600_000);
    m.send_open(&req).unwrap();
    // The same transaction again (same id): the listing has moved on to its next id.
    assert_eq!(m.send_open(&req).unwrap_err().name, "StaleRentalId");
    assert_eq!(m.balances().renter, gpu_escrow_tests::svm::RENTER_FUNDS - 600_000);
}

#[test]
fn nothing_to_claim_and_claims_before_activation_are_refused() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    assert_eq!(m.claim(&k).unwrap_err().name, "RentalNotActive");
    m.activate(&k).unwrap();
    assert_eq!(m.claim(&k).unwrap_err().name, "NothingToClaim");
}

#[test]
fn heartbeat_sla_stops_billing_and_allows_finalize() {
    let mut params = listing_params(3_600_000);
    params.heartbeat_interval_secs = 60;
    let mut m = Market::with_params(params);
    let k = m.running(3_600_000);
    let p = m.provider.insecure_clone();
    m.env.advance(50);
    m.env.send1(ix::heartbeat(&p.pubkey(), &k.rental), &p).unwrap();
    m.env.advance(61); // missed: the cut is at +110
    assert_eq!(m.env.send1(ix::heartbeat(&p.pubkey(), &k.rental), &p).unwrap_err().name, "SlaMissed");
    let crank = m.env.wallet();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::finalize_rental(&crank.pubkey(), &k, &treasury), &crank).unwrap();
    let r = m.rental(&k);
    assert_eq!((r.billed_seconds, r.provider_paid + r.fee_paid), (110, 110_000));
    assert_eq!(r.heartbeats, 1, "recorded on the rental");
    // 110 s billed is under the 10 minutes a rental needs to count: the profile credits nothing.
    let prov: gpu_escrow::state::Provider = m.env.decode(&pda::provider(&p.pubkey()));
    assert_eq!(prov.heartbeats, 0);
}

#[test]
fn tokens_sent_to_a_vault_cannot_block_settlement() {
    let mut m = Market::new();
    let k = m.running(600_000);
    // A stranger "donates" to the vault; the escrow must still close, the gift goes to the renter.
    let tp = m.env.token_program_of(&m.mint);
    let admin = m.env.admin.insecure_clone();
    let mint_ix = anchor_spl::token_2022::spl_token_2022::instruction::mint_to(
        &tp,
        &m.mint,
        &k.vault(),
        &admin.pubkey(),
        &[],
        777,
    )
    .unwrap();
    m.env.send1(mint_ix, &admin).unwrap();
    m.env.advance(100);
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert!(!m.env.exists(&k.vault()));
    let rental = m.rental(&k);
    assert_eq!(rental.provider_paid + rental.fee_paid + rental.refunded, rental.deposited);
    assert_eq!(m.balances().renter, gpu_escrow_tests::svm::RENTER_FUNDS - 100_000 + 777);
}

#[test]
fn a_provider_who_is_also_the_treasury_can_still_be_paid() {
    let (env, mint) = Env::with_config();
    let admin = env.admin.pubkey();
    let mut m = Market::on(env, mint, listing_params(3_600_000));
    let provider = m.provider.pubkey();
    m.env
        .admin_send(ix::update_config(&admin, ix::UpdateConfigArgs { treasury: Some(provider), ..Default::default() }))
        .unwrap();
    let k = m.running(600_000);
    m.env.advance(100);
    let p = m.provider.insecure_clone();
    m.env.send1(ix::claim(&k, &provider), &p).unwrap();
    m.env.advance(100);
    m.env.send1(ix::stop_rental(&p.pubkey(), &k, &provider), &p).unwrap();
    assert_eq!(m.env.balance(&provider, &m.mint), 200_000);
}

#[test]
fn another_providers_profile_cannot_stand_in() {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(30);
    // A second registered provider: its profile is a real Provider account, just not this one's.
    let other = m.env.wallet();
    m.env.send1(ix::register_provider(&other.pubkey()), &other).unwrap();
    let swap = |mut i: gpu_escrow_sdk::Instruction| {
        let real = pda::provider(&k.provider);
        let meta = i.accounts.iter_mut().find(|a| a.pubkey == real).expect("the ix names the profile");
        meta.pubkey = pda::provider(&other.pubkey());
        i
    };
    let before = m.balances();
    let renter = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    // Reputation cannot be credited elsewhere (heartbeats and disputes no longer touch the
    // profile: a settlement credits it).
    let err = m.env.send1(swap(ix::stop_rental(&renter.pubkey(), &k, &treasury)), &renter).unwrap_err();
    assert_eq!(err.name, "WrongProviderProfile");
    // Nor can the other provider list under this one's profile.
    let mint = m.mint;
    // (The listing's address follows the profile's count, here the real provider's: 1.)
    let mut listing = ix::create_listing(&other.pubkey(), 1, &mint, listing_params(1_000));
    let theirs = pda::provider(&other.pubkey());
    listing.accounts.iter_mut().find(|a| a.pubkey == theirs).unwrap().pubkey = pda::provider(&k.provider);
    assert_eq!(m.env.send1(listing, &other).unwrap_err().name, "WrongProviderProfile");
    assert_eq!(m.balances(), before, "nothing moved");
    assert_eq!(m.rental(&k).state, RentalState::Active);
}

#[test]
fn a_listing_needs_a_gpu() {
    let mut m = Market::new();
    let p = m.provider.insecure_clone();
    let mint = m.mint;
    let mut params = listing_params(1_000);
    params.gpu_count = 0;
    let err = m.env.send1(ix::create_listing(&p.pubkey(), 1, &mint, params), &p).unwrap_err();
    assert_eq!(err.name, "ZeroGpuCount");
}

#[test]
fn every_party_instruction_refuses_a_stranger_or_a_missing_signature() {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(60);
    // A registered provider, so its profile exists and only the identity check can refuse it.
    let other = m.env.wallet();
    m.env.send1(ix::register_provider(&other.pubkey()), &other).unwrap();
    let as_other = ix::RentalKeys { provider: other.pubkey(), ..k };
    let treasury = m.env.treasury.pubkey();
    // (Rental has no PartialEq; its Debug form lists every field.)
    let before = (m.balances(), format!("{:?}", m.rental(&k)));
    let listing = m.listing;
    let name = |m: &mut Market, i: gpu_escrow_sdk::Instruction, s: &gpu_escrow_sdk::Keypair| {
        m.env.send1(i, s).unwrap_err().name
    };
    assert_eq!(name(&mut m, ix::claim(&as_other, &treasury), &other), "NotProvider");
    assert_eq!(name(&mut m, ix::heartbeat(&other.pubkey(), &k.rental), &other), "NotProvider");
    assert_eq!(name(&mut m, ix::set_listing_paused(&other.pubkey(), &listing, true), &other), "NotProvider");
    assert_eq!(name(&mut m, ix::close_listing(&other.pubkey(), &listing), &other), "NotProvider");
    // The right key, but its signature left out and a stranger paying.
    let mut unsigned = ix::claim(&k, &treasury);
    unsigned.accounts.iter_mut().filter(|a| a.pubkey == k.provider).for_each(|a| a.is_signer = false);
    assert_eq!(name(&mut m, unsigned, &other), "AccountNotSigner");
    assert_eq!((m.balances(), format!("{:?}", m.rental(&k))), before, "nothing moved");

    // decline needs a Funded rental, close a finished one.
    let funded = m.open(600_000).unwrap();
    // With its own profile the other provider fails the profile check; with the real
    // profile, the identity check.
    let err = m.env.send1(ix::decline_rental(&ix::RentalKeys { provider: other.pubkey(), ..funded }), &other);
    assert_eq!(err.unwrap_err().name, "WrongProviderProfile");
    let mut decline = ix::decline_rental(&funded);
    decline.accounts.iter_mut().filter(|a| a.pubkey == k.provider).for_each(|a| a.pubkey = other.pubkey());
    assert_eq!(name(&mut m, decline, &other), "NotProvider");
    assert_eq!(m.rental(&funded).state, RentalState::Funded);
    let r = m.renter.insecure_clone();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    let stranger = ix::RentalKeys { renter: other.pubkey(), ..k };
    assert_eq!(name(&mut m, ix::close_rental(&stranger, Some(1)), &other), "NotRenter");
    assert!(m.env.exists(&k.rental), "the rental is still there for its renter to close");
}

#[test]
fn another_rentals_vault_cannot_stand_in() {
    let mut m = Market::new();
    let k = m.running(600_000);
    let second = m.running(600_000);
    m.env.advance(60);
    let before = m.balances();
    let r = m.renter.insecure_clone();
    let mut stop = ix::stop_rental(&r.pubkey(), &k, &m.env.treasury.pubkey());
    let vault = k.vault();
    stop.accounts.iter_mut().filter(|a| a.pubkey == vault).for_each(|a| a.pubkey = second.vault());
    assert_eq!(m.env.send1(stop, &r).unwrap_err().name, "ConstraintAddress");
    assert_eq!(m.balances(), before);
    assert_eq!((m.rental(&k).state, m.rental(&second).state), (RentalState::Active, RentalState::Active));
}
