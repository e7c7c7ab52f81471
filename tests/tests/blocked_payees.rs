//! No party's token account can hold another party's money hostage (hardening issue,
//! point 4). Whatever state one payee's account is in (frozen by the issuer, closed, or
//! requiring memos), every other party is paid in the same single settlement and that
//! payee's share waits in the vault until it withdraws.
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow::state::RentalState;
use gpu_escrow_sdk::{ix, pda, Signer};
use gpu_escrow_tests::svm::{listing_params, Balances, Env, Market, RENTER_FUNDS, TOKEN_2022};

/// A rental that billed 100 s (100_000 gross: provider 97_500, fee 2_500) of a 600 s deposit.
fn billed_100s() -> (Market, ix::RentalKeys) {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(100);
    (m, k)
}

fn stop_by_renter(m: &mut Market, k: &ix::RentalKeys) {
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&r.pubkey(), k, &treasury), &r).unwrap();
}

fn withdraw(m: &mut Market, k: &ix::RentalKeys, who: &gpu_escrow_sdk::Keypair) -> gpu_escrow_tests::svm::TxResult {
    let dest = k.token_account_of(&who.pubkey());
    m.env.send1(ix::withdraw_owed(&who.pubkey(), k, &dest), who)
}

#[test]
fn a_frozen_provider_account_does_not_block_the_renters_refund() {
    let (mut m, k) = billed_100s();
    let (provider, mint) = (m.provider.pubkey(), m.mint);
    m.env.set_frozen(&provider, &mint, true);
    stop_by_renter(&mut m, &k);
    // Renter refunded and treasury paid in the same instruction; the provider's share waits.
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 100_000, provider: 0, treasury: 2_500 });
    let r = m.rental(&k);
    assert_eq!((r.state, r.provider_owed, r.fee_owed, r.renter_owed), (RentalState::Settled, 97_500, 0, 0));
    assert_eq!(r.provider_paid + r.fee_paid + r.refunded, r.deposited);
    assert_eq!(m.env.token_amount(&k.vault()), 97_500, "the vault holds exactly what is owed");
    // The renter cannot close the ledger while it holds someone's money.
    let renter = m.renter.insecure_clone();
    assert_eq!(m.env.send1(ix::close_rental(&k, None), &renter).unwrap_err().name, "FundsStillOwed");
    // Frozen, the provider cannot take it out either; thawed, it can.
    let p = m.provider.insecure_clone();
    assert_eq!(withdraw(&mut m, &k, &p).unwrap_err().name, "PayeeCannotReceive");
    m.env.set_frozen(&provider, &mint, false);
    withdraw(&mut m, &k, &p).unwrap();
    assert_eq!(m.balances().provider, 97_500);
    assert!(!m.env.exists(&k.vault()), "the last withdrawal closes the vault");
    // A second withdrawal fails (the vault is gone) and moves nothing.
    assert!(withdraw(&mut m, &k, &p).is_err());
    assert_eq!(m.balances().provider, 97_500);
    m.env.send1(ix::close_rental(&k, None), &renter).unwrap();
}

#[test]
fn a_closed_provider_account_does_not_block_settlement() {
    let (mut m, k) = billed_100s();
    let p = m.provider.insecure_clone();
    let mint = m.mint;
    m.env.close_token_account(&p, &mint);
    stop_by_renter(&mut m, &k);
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 100_000, provider: 0, treasury: 2_500 });
    assert_eq!(m.rental(&k).provider_owed, 97_500);
    // The provider opens a fresh account and withdraws into it.
    m.env.fund(&p.pubkey(), &mint, 0);
    withdraw(&mut m, &k, &p).unwrap();
    assert_eq!(m.balances().provider, 97_500);
}

#[test]
fn a_frozen_treasury_blocks_neither_claims_nor_settlement() {
    let (mut m, k) = billed_100s();
    let (treasury, mint) = (m.env.treasury.pubkey(), m.mint);
    m.env.set_frozen(&treasury, &mint, true);
    m.claim(&k).unwrap();
    assert_eq!(m.balances().provider, 97_500);
    assert_eq!(m.rental(&k).fee_owed, 2_500);
    m.env.advance(100);
    stop_by_renter(&mut m, &k);
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 200_000, provider: 195_000, treasury: 0 });
    assert_eq!(m.rental(&k).fee_owed, 5_000, "earlier and new fees both held");
    m.env.set_frozen(&treasury, &mint, false);
    let t = m.env.treasury.insecure_clone();
    withdraw(&mut m, &k, &t).unwrap();
    assert_eq!(m.balances().treasury, 5_000);
    assert!(!m.env.exists(&k.vault()));
}

#[test]
fn a_frozen_renter_account_does_not_block_the_providers_pay() {
    let (mut m, k) = billed_100s();
    let (renter, mint) = (m.renter.pubkey(), m.mint);
    m.env.set_frozen(&renter, &mint, true);
    let p = m.provider.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&p.pubkey(), &k, &treasury), &p).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 600_000, provider: 97_500, treasury: 2_500 });
    assert_eq!(m.rental(&k).renter_owed, 500_000);
    m.env.set_frozen(&renter, &mint, false);
    let r = m.renter.insecure_clone();
    withdraw(&mut m, &k, &r).unwrap();
    assert_eq!(m.balances().renter, RENTER_FUNDS - 100_000);
    assert!(!m.env.exists(&k.vault()));
    m.env.send1(ix::close_rental(&k, None), &r).unwrap();
}

#[test]
fn a_frozen_renter_is_still_refunded_on_cancel_and_dispute_paths_later() {
    let mut m = Market::new();
    let k = m.open(600_000).unwrap();
    let (renter, mint) = (m.renter.pubkey(), m.mint);
    m.env.set_frozen(&renter, &mint, true);
    let p = m.provider.insecure_clone();
    m.env.send1(ix::decline_rental(&k), &p).unwrap();
    let r = m.rental(&k);
    assert_eq!((r.state, r.renter_owed), (RentalState::Cancelled, 600_000));
    assert_eq!(m.env.token_amount(&k.vault()), 600_000);
    m.env.set_frozen(&renter, &mint, false);
    let rk = m.renter.insecure_clone();
    withdraw(&mut m, &k, &rk).unwrap();
    assert_eq!(m.balances().renter, RENTER_FUNDS);
}

#[test]
fn a_dispute_refund_to_a_frozen_renter_waits_and_the_award_still_pays_everyone_else() {
    let (mut m, k) = billed_100s();
    let (renter, mint) = (m.renter.pubkey(), m.mint);
    m.env.set_frozen(&renter, &mint, true);
    let p = m.provider.insecure_clone();
    m.env.send1(ix::open_dispute(&p.pubkey(), &k, 1), &p).unwrap();
    assert_eq!(m.rental(&k).renter_owed, 500_000);
    let arb = m.env.arbiter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::resolve_dispute(&arb.pubkey(), &k, &treasury, 60_000), &arb).unwrap();
    // Award 60_000 gross to the provider side: fee 1_500; the renter's 40_000 joins its held refund.
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 600_000, provider: 58_500, treasury: 1_500 });
    assert_eq!(m.rental(&k).renter_owed, 540_000);
}

#[test]
fn a_memo_requiring_account_is_treated_as_unable_to_receive() {
    let (mut env, _) = Env::with_config();
    let mint = env.create_mint(TOKEN_2022);
    let admin = env.admin.pubkey();
    env.admin_send(ix::add_mint(&admin, &mint, &TOKEN_2022, 0)).unwrap();
    let mut m = Market::on(env, mint, listing_params(3_600_000));
    let k = m.running(600_000);
    // The provider's account switches on "memo required for incoming transfers".
    let p = m.provider.insecure_clone();
    let ata = pda::ata(&p.pubkey(), &mint, &TOKEN_2022);
    let realloc = t22::instruction::reallocate(
        &TOKEN_2022,
        &ata,
        &p.pubkey(),
        &p.pubkey(),
        &[],
        &[t22::extension::ExtensionType::MemoTransfer],
    )
    .unwrap();
    let memo =
        t22::extension::memo_transfer::instruction::enable_required_transfer_memos(&TOKEN_2022, &ata, &p.pubkey(), &[])
            .unwrap();
    m.env.send(&[realloc, memo], &p, &[]).unwrap();
    m.env.advance(100);
    stop_by_renter(&mut m, &k);
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 100_000, provider: 0, treasury: 2_500 });
    assert_eq!(m.rental(&k).provider_owed, 97_500);
}

#[test]
fn strangers_cannot_withdraw_or_redirect_held_funds() {
    let (mut m, k) = billed_100s();
    let (provider, mint) = (m.provider.pubkey(), m.mint);
    m.env.set_frozen(&provider, &mint, true);
    stop_by_renter(&mut m, &k);
    let thief = m.env.wallet();
    m.env.fund(&thief.pubkey(), &mint, 0);
    assert_eq!(withdraw(&mut m, &k, &thief).unwrap_err().name, "NothingOwed");
    // The provider signs but names the thief's account: only its own account may receive.
    let p = m.provider.insecure_clone();
    let dest = k.token_account_of(&thief.pubkey());
    assert_eq!(m.env.send1(ix::withdraw_owed(&p.pubkey(), &k, &dest), &p).unwrap_err().name, "PayeeCannotReceive");
    assert_eq!(m.env.balance(&thief.pubkey(), &mint), 0);
    assert_eq!(m.rental(&k).provider_owed, 97_500);
}
