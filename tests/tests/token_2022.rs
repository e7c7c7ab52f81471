//! The same escrow with a Token-2022 payment mint (the real Token-2022 program).
use gpu_escrow::state::RentalState;
use gpu_escrow_sdk::{ix, Signer};
use gpu_escrow_tests::svm::{listing_params, Balances, Env, Market, RENTER_FUNDS, TOKEN_2022};

fn market() -> Market {
    let (mut env, _) = Env::with_config();
    let mint = env.create_mint(TOKEN_2022);
    let admin = env.admin.pubkey();
    env.admin_send(ix::add_mint(&admin, &mint, &TOKEN_2022, 0)).unwrap();
    Market::on(env, mint, listing_params(3_600_000))
}

#[test]
fn token_2022_rental_claims_stops_and_refunds_to_the_unit() {
    let mut m = market();
    assert_eq!(m.env.token_program_of(&m.mint), TOKEN_2022);
    let k = m.running(1_800_000);
    assert_eq!(m.env.svm.get_account(&k.vault()).unwrap().owner, TOKEN_2022);
    m.env.advance(600);
    m.claim(&k).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 1_800_000, provider: 585_000, treasury: 15_000 });
    m.env.advance(300);
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 900_000, provider: 877_500, treasury: 22_500 });
    assert_eq!(m.rental(&k).state, RentalState::Settled);
    assert!(!m.env.exists(&k.vault()));
}

#[test]
fn token_2022_dispute_expires_as_earned() {
    let mut m = market();
    let k = m.running(600_000);
    m.env.advance(200);
    let p = m.provider.insecure_clone();
    m.env.send1(ix::open_dispute(&p.pubkey(), &k, 2), &p).unwrap();
    assert_eq!(m.balances().renter, RENTER_FUNDS - 200_000);
    m.env.advance(3_600);
    let crank = m.env.wallet();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::resolve_expired_dispute(&crank.pubkey(), &k, &treasury), &crank).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 200_000, provider: 195_000, treasury: 5_000 });
}
