//! Smaller defects found in review (hardening issue, point 6), each pinned by a test.
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow::state::RentalState;
use gpu_escrow_sdk::receipts::{parse_logs, EscrowEvent};
use gpu_escrow_sdk::{ix, Signer};
use gpu_escrow_tests::svm::{listing_params, Env, Market, RENTER_FUNDS, SPL_TOKEN, TOKEN_2022};

/// An awkward price and fee so that taking the fee on a slice and on the total round differently.
fn awkward() -> Market {
    let (mut env, mint) = Env::with_config();
    let admin = env.admin.pubkey();
    env.admin_send(ix::update_config(&admin, ix::UpdateConfigArgs { fee_bps: Some(137), ..Default::default() }))
        .unwrap();
    Market::on(env, mint, listing_params(1_234_567))
}

#[test]
fn an_expired_dispute_pays_exactly_what_a_stop_at_that_moment_pays() {
    for (claim_after, dispute_after) in [(7, 13), (101, 3_333), (1, 2), (59, 61)] {
        let (mut a, mut b) = (awkward(), awkward());
        let (ka, kb) = (a.running(9_876_543), b.running(9_876_543));
        for (m, k) in [(&mut a, &ka), (&mut b, &kb)] {
            m.env.advance(claim_after);
            m.claim(k).unwrap();
            m.env.advance(dispute_after - claim_after);
        }
        let (ra, rb) = (a.renter.insecure_clone(), b.renter.insecure_clone());
        let ta = a.env.treasury.pubkey();
        a.env.send1(ix::stop_rental(&ra.pubkey(), &ka, &ta), &ra).unwrap();
        b.env.send1(ix::open_dispute(&rb.pubkey(), &kb, 1), &rb).unwrap();
        b.env.advance(3_600);
        let crank = b.env.wallet();
        let tb = b.env.treasury.pubkey();
        b.env.send1(ix::resolve_expired_dispute(&crank.pubkey(), &kb, &tb), &crank).unwrap();
        assert_eq!(a.balances(), b.balances(), "claim at +{claim_after}, end at +{dispute_after}");
    }
}

#[test]
fn a_closed_rentals_address_can_never_hold_a_second_escrow() {
    let mut m = Market::new();
    let req = m.open_request(600_000);
    let k = m.send_open(&req).unwrap();
    let r = m.renter.insecure_clone();
    m.env.send1(ix::cancel_rental(&r.pubkey(), &k), &r).unwrap();
    m.env.send1(ix::close_rental(&k, None), &r).unwrap();
    assert!(!m.env.exists(&k.rental));
    // Replaying the very same open after the close: the id was used, the listing moved on.
    assert_eq!(m.send_open(&req).unwrap_err().name, "StaleRentalId");
    assert!(!m.env.exists(&k.rental));
    let next = m.open(600_000).unwrap();
    assert_ne!(next.rental, k.rental);
}

#[test]
fn a_quote_with_a_fee_above_100_percent_is_a_named_error() {
    let (mut env, _) = Env::with_config();
    let payer = env.admin.insecure_clone();
    let err = env.send1(ix::quote(3_600, ix::QuoteBy::Seconds(60), 10_001), &payer).unwrap_err();
    assert_eq!(err.name, "InvalidFeeBps");
}

#[test]
fn top_up_of_an_ended_rental_names_the_states_that_allow_it() {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(10);
    let r = m.renter.insecure_clone();
    m.env.send1(ix::open_dispute(&r.pubkey(), &k, 1), &r).unwrap();
    assert_eq!(m.env.send1(ix::top_up(&k, 1_000), &r).unwrap_err().name, "RentalNotOpen");
    // A Funded rental takes top-ups (it is not "not Active").
    let funded = m.open(600_000).unwrap();
    m.env.send1(ix::top_up(&funded, 1_000), &r).unwrap();
}

#[test]
fn surplus_swept_from_a_vault_is_reported_with_the_parties() {
    let mut m = Market::new();
    let k = m.running(600_000);
    let (tp, mint) = (m.env.token_program_of(&m.mint), m.mint);
    let admin = m.env.admin.insecure_clone();
    let gift = t22::instruction::mint_to(&tp, &mint, &k.vault(), &admin.pubkey(), &[], 777).unwrap();
    m.env.send1(gift, &admin).unwrap();
    m.env.advance(100);
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let meta = m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    let settled = parse_logs(&meta.logs)
        .into_iter()
        .find_map(|e| if let EscrowEvent::Settled(s) = e { Some(s) } else { None })
        .expect("RentalSettled in the logs");
    assert_eq!(
        (settled.swept, settled.renter, settled.provider, settled.mint),
        (777, r.pubkey(), m.provider.pubkey(), mint)
    );
    assert_eq!(settled.refund_amount + settled.swept, m.balances().renter - (RENTER_FUNDS - 600_000));
}

#[test]
fn a_token_2022_mint_with_the_classic_token_program_gets_the_named_constraint() {
    let (mut env, _) = Env::with_config();
    let mint = env.create_mint(TOKEN_2022);
    let admin = env.admin.pubkey();
    env.admin_send(ix::add_mint(&admin, &mint, &TOKEN_2022, 0)).unwrap();
    let mut m = Market::on(env, mint, listing_params(3_600_000));
    // The right accounts, but the classic token program named as the token program.
    let mut open = ix::open_rental(&m.open_request(600_000));
    open.accounts.iter_mut().filter(|a| a.pubkey == TOKEN_2022).for_each(|a| a.pubkey = SPL_TOKEN);
    let r = m.renter.insecure_clone();
    assert_eq!(m.env.send1(open, &r).unwrap_err().name, "ConstraintMintTokenProgram");
    assert_eq!(m.balances().renter, RENTER_FUNDS);
    assert_eq!(m.open(600_000).map(|k| m.rental(&k).state).unwrap(), RentalState::Funded);
}
