//! Many parties at once on a real validator: 3 providers with 5 listings, 4 renters opening
//! 20 rentals from parallel tasks (racing for the listings' rental ids), then claims,
//! top-ups, heartbeats, stops and disputes interleaved, batched where the SDK batches. At the
//! end every rental is settled and every party's balance reconciles to the base unit.
use std::collections::HashMap;
use std::sync::Arc;

use gpu_escrow_sdk::client::EscrowClient;
use gpu_escrow_sdk::ix::{self, RentalKeys};
use gpu_escrow_sdk::{batch, pda, quote, CommitmentConfig, Instruction, Keypair, Pubkey, Signer};
use gpu_escrow_tests::svm::listing_params;
use gpu_escrow_tests::validator::TestValidator;

const TP: Pubkey = anchor_spl::token::ID;
const DEPOSIT: u64 = 36_000_000; // an hour at 36 tokens per hour

struct World {
    client: Arc<EscrowClient>,
    mint: Pubkey,
    treasury: Pubkey,
    arbiter: Keypair,
    providers: Vec<Keypair>,
    listings: Vec<(Pubkey, usize)>,
    renters: Vec<Arc<Keypair>>,
}

async fn token_balance(c: &EscrowClient, owner: &Pubkey, mint: &Pubkey) -> u64 {
    c.token_balance(owner, mint, &TP).await.unwrap()
}

async fn setup(v: &TestValidator) -> World {
    let client = Arc::new(EscrowClient::new(v.rpc_url.clone(), CommitmentConfig::confirmed()));
    let admin = v.authority.insecure_clone();
    let (treasury, arbiter, mint) = (Keypair::new(), Keypair::new(), Keypair::new());
    let providers: Vec<Keypair> = (0..3).map(|_| Keypair::new()).collect();
    let renters: Vec<Arc<Keypair>> = (0..4).map(|_| Arc::new(Keypair::new())).collect();
    for k in [&admin, &arbiter].into_iter().chain(providers.iter()).chain(renters.iter().map(|r| r.as_ref())) {
        v.airdrop(&k.pubkey(), 20_000_000_000);
    }
    let config = ix::InitializeConfigArgs {
        arbiter: arbiter.pubkey(),
        treasury: treasury.pubkey(),
        fee_bps: 250,
        activation_timeout_secs: 3_600,
        dispute_timeout_secs: 5,
    };
    let rent = client.rpc().get_minimum_balance_for_rent_exemption(ix::MINT_LEN).await.unwrap();
    let mut ixs = vec![ix::initialize_config(&admin.pubkey(), config)];
    ixs.extend(ix::create_mint(&admin.pubkey(), &mint.pubkey(), &admin.pubkey(), 6, &TP, rent));
    client.send(&ixs, &admin, &[&mint]).await.unwrap();
    let accept = [
        ix::create_ata_idempotent(&admin.pubkey(), &treasury.pubkey(), &mint.pubkey(), &TP),
        ix::add_mint(&admin.pubkey(), &mint.pubkey(), &TP, 0),
    ];
    client.send(&accept, &admin, &[]).await.unwrap();
    for r in &renters {
        client
            .send(
                &ix::mint_to(&admin.pubkey(), &mint.pubkey(), &admin.pubkey(), &r.pubkey(), &TP, 1_000_000_000),
                &admin,
                &[],
            )
            .await
            .unwrap();
    }
    // 5 listings: 2, 2 and 1 per provider; the first of each provider has a 20 s heartbeat SLA.
    let mut listings = Vec::new();
    for (i, p) in providers.iter().enumerate() {
        let mut ixs = vec![
            ix::register_provider(&p.pubkey()),
            ix::create_ata_idempotent(&p.pubkey(), &p.pubkey(), &mint.pubkey(), &TP),
        ];
        for id in 0..[2u64, 2, 1][i] {
            let mut params = listing_params(36_000_000);
            params.capacity = 10;
            params.heartbeat_interval_secs = if id == 0 { 20 } else { 0 };
            ixs.push(ix::create_listing(&p.pubkey(), id, &mint.pubkey(), params));
            listings.push((pda::listing(&p.pubkey(), id), i));
        }
        client.send(&ixs, p, &[]).await.unwrap();
    }
    World { client, mint: mint.pubkey(), treasury: treasury.pubkey(), arbiter, providers, listings, renters }
}

/// Opens a rental on `listing`, retrying when another renter took the listing's next id.
async fn open(client: Arc<EscrowClient>, renter: Arc<Keypair>, listing: Pubkey, mint: Pubkey) -> RentalKeys {
    let config = client.config().await.unwrap();
    for _ in 0..20 {
        let l = client.listing(&listing).await.unwrap();
        let req = ix::OpenRequest {
            renter: renter.pubkey(),
            listing,
            mint,
            token_program: TP,
            rental_id: l.rentals_opened,
            deposit: DEPOSIT,
            terms: quote::terms(&l, &config),
            access: ix::AccessRequest::default(),
        };
        match client.send(&[ix::open_rental(&req)], &renter, &[]).await {
            Ok(_) => return RentalKeys::new(listing, renter.pubkey(), req.rental_id, l.provider, mint, TP),
            Err(e) if e.program_error_name() == Some("StaleRentalId") => continue,
            Err(e) => panic!("open: {e}"),
        }
    }
    panic!("could not open on {listing} after 20 races");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_rentals_among_many_parties_reconcile_to_the_unit() {
    let v = TestValidator::start();
    let w = setup(&v).await;
    let c = &w.client;

    // 20 opens from parallel tasks, 4 per listing, from 4 renters.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (listing, _) = w.listings[i % 5];
            tokio::spawn(open(w.client.clone(), w.renters[i % 4].clone(), listing, w.mint))
        })
        .collect();
    let mut rentals = Vec::new();
    for t in tasks {
        rentals.push(t.await.unwrap());
    }
    let mut ids: Vec<_> = rentals.iter().map(|k| k.rental).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "twenty distinct rentals");
    let provider_of = |k: &RentalKeys| w.providers.iter().find(|p| p.pubkey() == k.provider).unwrap();
    let renter_of = |k: &RentalKeys| w.renters.iter().find(|r| r.pubkey() == k.renter).unwrap().clone();

    // Providers activate theirs (in parallel), except two that they decline.
    let mut sends = Vec::new();
    for (i, k) in rentals.iter().enumerate() {
        let p = provider_of(k);
        let ix = if i == 3 || i == 11 {
            ix::decline_rental(k)
        } else {
            ix::activate_rental(&p.pubkey(), &k.rental, &k.access(), Vec::new())
        };
        sends.push(async move { c.send(&[ix], p, &[]).await });
    }
    for r in futures_util::future::join_all(sends).await {
        r.unwrap();
    }
    let active: Vec<RentalKeys> =
        rentals.iter().enumerate().filter(|(i, _)| *i != 3 && *i != 11).map(|(_, k)| *k).collect();

    // Interleaved: batched heartbeats and claims per provider, top-ups, disputes.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    for p in &w.providers {
        let mine: Vec<&RentalKeys> = active.iter().filter(|k| k.provider == p.pubkey()).collect();
        let mut beats = Vec::new();
        for k in &mine {
            if c.rental(&k.rental).await.unwrap().heartbeat_interval_secs > 0 {
                beats.push(vec![ix::heartbeat(&p.pubkey(), &k.rental)]);
            }
        }
        for tx in batch::pack(beats, &p.pubkey()) {
            c.send(&tx, p, &[]).await.unwrap();
        }
        let claims: Vec<Vec<Instruction>> = mine.iter().map(|k| vec![ix::claim(k, &w.treasury)]).collect();
        for tx in batch::pack(claims, &p.pubkey()) {
            c.send(&tx, p, &[]).await.unwrap();
        }
    }
    let tops: Vec<_> = active
        .iter()
        .step_by(3)
        .map(|k| {
            let r = renter_of(k);
            async move { c.send(&[ix::top_up(k, 1_000_000)], &r, &[]).await }
        })
        .collect();
    for r in futures_util::future::join_all(tops).await {
        r.unwrap();
    }
    // Four disputes: two resolved by the arbiter, two left to the timeout rule.
    for (i, k) in active.iter().enumerate().filter(|(i, _)| i % 5 == 1) {
        let r = renter_of(k);
        c.send(&[ix::open_dispute(&r.pubkey(), k, 1)], &r, &[]).await.unwrap();
        if i % 2 == 0 {
            let locked = c.rental(&k.rental).await.unwrap().dispute_locked;
            c.send(&[ix::resolve_dispute(&w.arbiter.pubkey(), k, &w.treasury, locked / 2)], &w.arbiter, &[])
                .await
                .unwrap();
        }
    }

    // Everything else stops (renters and providers alike), in parallel; then the disputes
    // left to the timeout are settled by a crank.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mut stops = Vec::new();
    for (i, k) in active.iter().enumerate() {
        if c.rental(&k.rental).await.unwrap().state != gpu_escrow_sdk::accounts::RentalState::Active {
            continue;
        }
        let signer: Keypair = if i % 2 == 0 { renter_of(k).insecure_clone() } else { provider_of(k).insecure_clone() };
        let treasury = w.treasury;
        stops.push(async move { c.send(&[ix::stop_rental(&signer.pubkey(), k, &treasury)], &signer, &[]).await });
    }
    for r in futures_util::future::join_all(stops).await {
        r.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    for k in &active {
        if c.rental(&k.rental).await.unwrap().state == gpu_escrow_sdk::accounts::RentalState::Disputed {
            c.send(&[ix::resolve_expired_dispute(&w.arbiter.pubkey(), k, &w.treasury)], &w.arbiter, &[]).await.unwrap();
        }
    }

    // Reconcile: each rental's ledger, and every party's tokens against the ledgers.
    let (mut to_providers, mut fees) = (HashMap::<Pubkey, u64>::new(), 0u64);
    let mut spent = HashMap::<Pubkey, u64>::new();
    for k in &rentals {
        let r = c.rental(&k.rental).await.unwrap();
        assert!(r.is_ended(), "{} ended", k.rental);
        assert_eq!(r.provider_paid + r.fee_paid + r.refunded, r.deposited, "conservation of {}", k.rental);
        assert_eq!(r.owed_total(), Some(0), "nothing held");
        assert!(matches!(c.account_data(&k.vault()).await, Ok(None)), "vault closed");
        *to_providers.entry(r.provider).or_default() += r.provider_paid;
        fees += r.fee_paid;
        *spent.entry(r.renter).or_default() += r.deposited - r.refunded;
    }
    for p in &w.providers {
        assert_eq!(token_balance(c, &p.pubkey(), &w.mint).await, to_providers.get(&p.pubkey()).copied().unwrap_or(0));
    }
    assert_eq!(token_balance(c, &w.treasury, &w.mint).await, fees);
    for r in &w.renters {
        assert_eq!(
            token_balance(c, &r.pubkey(), &w.mint).await,
            1_000_000_000 - spent.get(&r.pubkey()).copied().unwrap_or(0)
        );
    }
}
