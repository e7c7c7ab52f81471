//! Batches on a real local validator: a provider claiming from 1, 10 and 100 rentals and
//! heartbeating 100 SLA rentals, packed by the SDK's batch builder versus one transaction
//! per rental: transactions sent, compute per rental, and wall time. Everything is sent
//! concurrently and timed until the last confirmation.
use std::time::Instant;

use gpu_escrow_sdk::client::EscrowClient;
use gpu_escrow_sdk::{batch, ix, pda, quote, CommitmentConfig, Instruction, Keypair, Pubkey, Signature, Signer};
use gpu_escrow_tests::validator::TestValidator;

pub struct BatchRow {
    pub what: String,
    pub mode: &'static str,
    pub transactions: usize,
    pub cu_per_rental: u64,
    pub wall_ms: u128,
}

const LISTINGS: usize = 10;
const PER_LISTING: usize = 10;

pub fn measure() -> Vec<BatchRow> {
    let v = TestValidator::start();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run(&v))
}

/// Sends every transaction at once and waits until all have confirmed.
async fn send_all(client: &EscrowClient, txs: Vec<Vec<Instruction>>, signer: &Keypair) -> Vec<Signature> {
    let sends = txs.iter().map(|tx| client.send(tx, signer, &[]));
    futures_util::future::join_all(sends).await.into_iter().map(|r| r.unwrap_or_else(|e| panic!("send: {e}"))).collect()
}

async fn units(client: &EscrowClient, sigs: &[Signature]) -> u64 {
    let mut total = 0;
    for sig in sigs {
        total += client.transaction_cost(sig).await.expect("transaction").compute_units;
    }
    total
}

async fn run(v: &TestValidator) -> Vec<BatchRow> {
    let client = EscrowClient::new(v.rpc_url.clone(), CommitmentConfig::confirmed());
    let admin = v.authority.insecure_clone();
    let (provider, renter, treasury) = (Keypair::new(), Keypair::new(), Keypair::new());
    for k in [&admin, &provider, &renter] {
        v.airdrop(&k.pubkey(), 100_000_000_000);
    }
    let mint = Keypair::new();
    let tp = anchor_spl::token::ID;
    let args = ix::InitializeConfigArgs {
        arbiter: Keypair::new().pubkey(),
        treasury: treasury.pubkey(),
        fee_bps: 250,
        activation_timeout_secs: 3_600,
        dispute_timeout_secs: 86_400,
    };
    let rent = client.rpc().get_minimum_balance_for_rent_exemption(ix::MINT_LEN).await.unwrap();
    let mut setup = vec![ix::initialize_config(&admin.pubkey(), args)];
    setup.extend(ix::create_mint(&admin.pubkey(), &mint.pubkey(), &admin.pubkey(), 6, &tp, rent));
    client.send(&setup, &admin, &[&mint]).await.expect("config and mint");
    let accept = [
        ix::create_ata_idempotent(&admin.pubkey(), &treasury.pubkey(), &mint.pubkey(), &tp),
        ix::add_mint(&admin.pubkey(), &mint.pubkey(), &tp, 0),
    ];
    client.send(&accept, &admin, &[]).await.expect("add mint");
    client
        .send(
            &ix::mint_to(&admin.pubkey(), &mint.pubkey(), &admin.pubkey(), &renter.pubkey(), &tp, 10_000_000_000),
            &admin,
            &[],
        )
        .await
        .expect("fund");
    let mut reg = vec![
        ix::register_provider(&provider.pubkey()),
        ix::create_ata_idempotent(&provider.pubkey(), &provider.pubkey(), &mint.pubkey(), &tp),
    ];
    let mut params = gpu_escrow_tests::svm::listing_params(36_000_000);
    params.heartbeat_interval_secs = 3_600;
    params.capacity = PER_LISTING as u16;
    for id in 0..LISTINGS as u64 {
        reg.push(ix::create_listing(&provider.pubkey(), id, &mint.pubkey(), params.clone()));
    }
    for chunk in reg.chunks(4) {
        client.send(chunk, &provider, &[]).await.expect("listings");
    }
    let listings: Vec<Pubkey> = (0..LISTINGS as u64).map(|i| pda::listing(&provider.pubkey(), i)).collect();
    let l0 = client.listing(&listings[0]).await.unwrap();
    let terms = quote::terms(&l0, &client.config().await.unwrap());
    // Rental ids count up per listing: each round opens one rental on every listing.
    let mut keys = Vec::new();
    for round in 0..PER_LISTING as u64 {
        let opens: Vec<Vec<Instruction>> = listings
            .iter()
            .map(|l| {
                vec![ix::open_rental(&ix::OpenRequest {
                    renter: renter.pubkey(),
                    listing: *l,
                    mint: mint.pubkey(),
                    token_program: tp,
                    rental_id: round,
                    deposit: 36_000_000,
                    terms,
                    access: ix::AccessRequest { recipient: [1; 32], ssh_key: Vec::new() },
                })]
            })
            .collect();
        send_all(&client, opens, &renter).await;
        for l in &listings {
            keys.push(ix::RentalKeys::new(*l, renter.pubkey(), round, provider.pubkey(), mint.pubkey(), tp));
        }
    }
    let activations: Vec<Vec<Instruction>> = keys
        .chunks(4)
        .map(|c| {
            c.iter().map(|k| ix::activate_rental(&provider.pubkey(), &k.rental, &k.access(), Vec::new())).collect()
        })
        .collect();
    send_all(&client, activations, &provider).await;

    let mut rows = Vec::new();
    let cases: [(&str, usize); 4] = [("claim", 1), ("claim", 10), ("claim", 100), ("heartbeat", 100)];
    for (what, n) in cases {
        for mode in ["batched", "one per tx"] {
            // Let every rental earn something new to claim (36 tokens/h = 10,000 units/s).
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            let groups: Vec<Vec<Instruction>> = keys[..n]
                .iter()
                .map(|k| match what {
                    "claim" => vec![ix::claim(k, &treasury.pubkey())],
                    _ => vec![ix::heartbeat(&provider.pubkey(), &k.rental)],
                })
                .collect();
            let txs: Vec<Vec<Instruction>> = match mode {
                "batched" => batch::pack(groups, &provider.pubkey()),
                _ => groups.into_iter().flat_map(|g| batch::pack(vec![g], &provider.pubkey())).collect(),
            };
            let count = txs.len();
            let start = Instant::now();
            let sigs = send_all(&client, txs, &provider).await;
            let wall_ms = start.elapsed().as_millis();
            let total = units(&client, &sigs).await;
            rows.push(BatchRow {
                what: format!("{what} ×{n}"),
                mode,
                transactions: count,
                cu_per_rental: total / n as u64,
                wall_ms,
            });
        }
    }
    rows
}
