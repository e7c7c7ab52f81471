//! Nobody can park another party's share (hardening round 2, point 1). Whoever settles must
//! pay each payee through its associated token account unless that payee signs; a share is
//! held only when that account truly cannot receive, and anyone may deliver it later.
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow::state::RentalState;
use gpu_escrow_sdk::{ix, Keypair, Signer};
use gpu_escrow_tests::svm::{Balances, Market, RENTER_FUNDS};

/// A rental that billed 100 s (100_000 gross: provider 97_500, fee 2_500) of a 600 s deposit.
fn billed_100s() -> (Market, ix::RentalKeys) {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(100);
    (m, k)
}

/// A second token account of `owner` for the market's mint, at a fresh address (not its ATA).
fn extra_account(m: &mut Market, owner: &gpu_escrow_sdk::Pubkey) -> gpu_escrow_sdk::Pubkey {
    let tp = m.env.token_program_of(&m.mint);
    let account = Keypair::new();
    let payer = m.env.admin.insecure_clone();
    let space = anchor_spl::token::TokenAccount::LEN as u64;
    let rent = m.env.svm.minimum_balance_for_rent_exemption(space as usize);
    let create =
        solana_system_interface::instruction::create_account(&payer.pubkey(), &account.pubkey(), rent, space, &tp);
    let init = t22::instruction::initialize_account3(&tp, &account.pubkey(), &m.mint, owner).unwrap();
    m.env.send(&[create, init], &payer, &[&account]).unwrap();
    account.pubkey()
}

#[test]
fn a_renter_who_stops_cannot_pass_a_wrong_account_for_the_provider_or_the_treasury() {
    let (mut m, k) = billed_100s();
    let r = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let mut stop = ix::stop_rental(&r.pubkey(), &k, &treasury);
    // provider_token and treasury_token are accounts 9 and 10 of the Settle list.
    let (provider_at, treasury_at) = (9, 10);
    assert_eq!(stop.accounts[provider_at].pubkey, k.provider_token());
    assert_eq!(stop.accounts[treasury_at].pubkey, k.treasury_token(&treasury));
    // The renter's own account, an address with no account, the renter's again for the treasury.
    for (index, wrong) in [
        (provider_at, k.renter_token()),
        (provider_at, gpu_escrow_sdk::Pubkey::new_unique()),
        (treasury_at, k.renter_token()),
    ] {
        let mut bad = stop.clone();
        bad.accounts[index].pubkey = wrong;
        assert_eq!(m.env.send1(bad, &r).unwrap_err().name, "NotCanonicalPayeeAccount");
    }
    // Also a live account of the provider's own, when the provider did not sign.
    let other = extra_account(&mut m, &k.provider);
    stop.accounts[provider_at].pubkey = other;
    assert_eq!(m.env.send1(stop, &r).unwrap_err().name, "NotCanonicalPayeeAccount");
    assert_eq!(m.rental(&k).state, RentalState::Active, "nothing moved");
    // With the canonical accounts everyone is paid at once and nothing is held.
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 100_000, provider: 97_500, treasury: 2_500 });
    let rental = m.rental(&k);
    assert_eq!((rental.provider_owed, rental.fee_owed, rental.renter_owed), (0, 0, 0));
}

#[test]
fn a_stranger_finalizing_or_cancelling_cannot_park_anyones_share() {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(700);
    let stranger = m.env.wallet();
    let treasury = m.env.treasury.pubkey();
    // Paid time is over: everything goes to the provider and the treasury (accounts 9, 10).
    let fin = ix::finalize_rental(&stranger.pubkey(), &k, &treasury);
    for index in [9, 10] {
        let mut bad = fin.clone();
        bad.accounts[index].pubkey = gpu_escrow_sdk::Pubkey::new_unique();
        assert_eq!(m.env.send1(bad, &stranger).unwrap_err().name, "NotCanonicalPayeeAccount", "account {index}");
    }
    m.env.send1(fin, &stranger).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 600_000, provider: 585_000, treasury: 15_000 });
    // A no-show cancelled by a stranger: the renter's refund must go to the renter's account.
    let k = m.open(600_000).unwrap();
    m.env.advance(600);
    let cancel = ix::cancel_rental(&stranger.pubkey(), &k);
    assert_eq!(cancel.accounts[7].pubkey, k.renter_token());
    let mut bad = cancel.clone();
    bad.accounts[7].pubkey = gpu_escrow_sdk::Pubkey::new_unique();
    assert_eq!(m.env.send1(bad, &stranger).unwrap_err().name, "NotCanonicalPayeeAccount");
    m.env.send1(cancel, &stranger).unwrap();
    assert_eq!(m.balances().renter, RENTER_FUNDS - 600_000);
}

#[test]
fn a_payee_who_signs_may_name_any_account_of_its_own() {
    let (mut m, k) = billed_100s();
    let p = m.provider.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let other = extra_account(&mut m, &p.pubkey());
    let mut stop = ix::stop_rental(&p.pubkey(), &k, &treasury);
    stop.accounts[9].pubkey = other;
    m.env.send1(stop, &p).unwrap();
    assert_eq!(m.env.token_amount(&other), 97_500);
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 100_000, provider: 0, treasury: 2_500 });
}

#[test]
fn anyone_delivers_a_held_share_once_the_payees_account_can_receive() {
    let (mut m, k) = billed_100s();
    let (provider, mint) = (m.provider.pubkey(), m.mint);
    let treasury = m.env.treasury.pubkey();
    m.env.set_frozen(&provider, &mint, true);
    let r = m.renter.insecure_clone();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(m.rental(&k).provider_owed, 97_500, "held: the provider's own account is frozen");
    let stranger = m.env.wallet();
    let deliver = ix::deliver_owed(&stranger.pubkey(), &k, &treasury);
    assert_eq!(m.env.send1(deliver.clone(), &stranger).unwrap_err().name, "NothingDelivered");
    // Someone sends tokens to the vault after the end: they are the renter's.
    let gift_from = m.env.wallet();
    let gift = m.env.fund(&gift_from.pubkey(), &mint, 7);
    let tp = m.env.token_program_of(&mint);
    let send =
        t22::instruction::transfer_checked(&tp, &gift, &mint, &k.vault(), &gift_from.pubkey(), &[], 7, 6).unwrap();
    m.env.send1(send, &gift_from).unwrap();
    // The issuer thaws; a wrong account is still refused, the right one is paid.
    m.env.set_frozen(&provider, &mint, false);
    let mut bad = deliver.clone();
    bad.accounts[7].pubkey = k.renter_token();
    assert_eq!(m.env.send1(bad, &stranger).unwrap_err().name, "NotCanonicalPayeeAccount");
    m.env.send1(deliver.clone(), &stranger).unwrap();
    assert_eq!(m.balances(), Balances { renter: RENTER_FUNDS - 100_000 + 7, provider: 97_500, treasury: 2_500 });
    let rental = m.rental(&k);
    assert_eq!((rental.provider_owed, rental.renter_owed, rental.swept), (0, 0, 7));
    assert!(!m.env.exists(&k.vault()), "delivering the last held share closes the vault");
    assert!(m.env.send1(deliver, &stranger).is_err(), "nothing is paid twice");
    m.env.send1(ix::close_rental(&k, None), &r).unwrap();
}

#[test]
fn a_held_share_waits_while_its_account_cannot_receive_and_the_payee_can_still_withdraw_anywhere() {
    let (mut m, k) = billed_100s();
    let p = m.provider.insecure_clone();
    let (mint, treasury) = (m.mint, m.env.treasury.pubkey());
    m.env.close_token_account(&p, &mint);
    let r = m.renter.insecure_clone();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    assert_eq!(m.rental(&k).provider_owed, 97_500, "held: the provider closed its account");
    let stranger = m.env.wallet();
    assert_eq!(
        m.env.send1(ix::deliver_owed(&stranger.pubkey(), &k, &treasury), &stranger).unwrap_err().name,
        "NothingDelivered"
    );
    let other = extra_account(&mut m, &p.pubkey());
    m.env.send1(ix::withdraw_owed(&p.pubkey(), &k, &other), &p).unwrap();
    assert_eq!(m.env.token_amount(&other), 97_500);
    assert!(!m.env.exists(&k.vault()));
}
