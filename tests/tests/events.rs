//! Events carry every figure an indexer needs to rebuild balances without reading accounts
//! (hardening round 2, point 4).
use anchor_lang::{AnchorDeserialize, Discriminator};
use anchor_spl::token_2022::spl_token_2022 as t22;
use base64::Engine;
use gpu_escrow::events::{ListingUpdated, OwedDelivered, RentalClosed, Withdrawn};
use gpu_escrow_sdk::{ix, Signer};
use gpu_escrow_tests::svm::{listing_params, Market};

/// Every event of type `T` in a transaction's logs.
fn events<T: AnchorDeserialize + Discriminator>(logs: &[String]) -> Vec<T> {
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .filter(|d| d.len() >= 8 && &d[..8] == T::DISCRIMINATOR)
        .filter_map(|d| T::deserialize(&mut &d[8..]).ok())
        .collect()
}

#[test]
fn listing_updated_carries_every_new_value() {
    let mut m = Market::new();
    let p = m.provider.insecure_clone();
    let mut params = listing_params(7_200_000);
    params.capacity = 3;
    params.vram_gb = 48;
    params.max_rental_secs = 7_200;
    params.heartbeat_interval_secs = 45;
    let meta = m.env.send1(ix::update_listing(&p.pubkey(), &m.listing, params.clone()), &p).unwrap();
    let [e]: [ListingUpdated; 1] = events(&meta.logs).try_into().ok().expect("one ListingUpdated");
    assert_eq!((e.listing, e.params), (m.listing, params));
}

#[test]
fn held_funds_and_sweeps_are_in_the_events_to_the_unit() {
    let mut m = Market::new();
    let k = m.running(600_000);
    m.env.advance(100); // provider 97_500, fee 2_500, refund 500_000
    let (provider, mint, treasury) = (m.provider.pubkey(), m.mint, m.env.treasury.pubkey());
    m.env.set_frozen(&provider, &mint, true);
    m.env.set_frozen(&treasury, &mint, true);
    let r = m.renter.insecure_clone();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();
    // A stranger's gift after the end belongs to the renter.
    let gifter = m.env.wallet();
    let from = m.env.fund(&gifter.pubkey(), &mint, 11);
    let tp = m.env.token_program_of(&mint);
    let gift = t22::instruction::transfer_checked(&tp, &from, &mint, &k.vault(), &gifter.pubkey(), &[], 11, 6);
    m.env.send1(gift.unwrap(), &gifter).unwrap();
    // The treasury is thawed and delivered to; the provider's share stays held.
    m.env.set_frozen(&treasury, &mint, false);
    let meta = m.env.send1(ix::deliver_owed(&gifter.pubkey(), &k, &treasury), &gifter).unwrap();
    let [d]: [OwedDelivered; 1] = events(&meta.logs).try_into().ok().expect("one OwedDelivered");
    assert_eq!(
        (d.provider_amount, d.fee_amount, d.renter_amount, d.surplus),
        (0, 2_500, 11, 11),
        "the surplus goes to the renter with the delivery"
    );
    assert_eq!((d.provider_owed, d.fee_owed, d.renter_owed, d.vault_closed), (97_500, 0, 0, false));
    // The provider withdraws its share itself once thawed: the vault closes.
    m.env.set_frozen(&provider, &mint, false);
    let p = m.provider.insecure_clone();
    let meta = m.env.send1(ix::withdraw_owed(&provider, &k, &k.provider_token()), &p).unwrap();
    let [w]: [Withdrawn; 1] = events(&meta.logs).try_into().ok().expect("one Withdrawn");
    assert_eq!((w.payee, w.amount, w.surplus), (provider, 97_500, 0));
    assert_eq!((w.provider_owed, w.fee_owed, w.renter_owed, w.vault_closed), (0, 0, 0, true));
    // The close carries the whole ledger, sweeps included: every token that left the vault.
    let meta = m.env.send1(ix::close_rental(&k, None), &r).unwrap();
    let [c]: [RentalClosed; 1] = events(&meta.logs).try_into().ok().expect("one RentalClosed");
    assert_eq!((c.deposited, c.provider_paid, c.fee_paid, c.refunded, c.swept), (600_000, 97_500, 2_500, 500_000, 11));
    assert!(!c.rated_before);
}
