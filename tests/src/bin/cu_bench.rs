//! Compute units per instruction on the real .so in LiteSVM (recorded in the README).
//! Run: cargo run -p gpu-escrow-tests --bin gpu-escrow-cu-bench
use gpu_escrow_sdk::{ix, Signer};
use gpu_escrow_tests::svm::{listing_params, Env, Market};

fn main() {
    let mut rows: Vec<(&str, u64)> = Vec::new();
    let mut env = Env::new();
    let cu = |r: gpu_escrow_tests::svm::TxResult| r.unwrap_or_else(|f| panic!("{f:?}")).compute_units_consumed;
    rows.push(("initialize_config", cu(env.init_config(250))));

    let mut m = Market::new();
    let p = m.provider.insecure_clone();
    rows.push((
        "create_listing",
        cu(m.env.send1(ix::create_listing(&p.pubkey(), 1, &m.mint, listing_params(3_600_000)), &p)),
    ));
    let req = m.open_request(3_600_000);
    let renter = m.renter.insecure_clone();
    rows.push(("open_rental", cu(m.env.send1(ix::open_rental(&req), &renter))));
    let k = m.keys(req.rental_id);
    rows.push(("activate_rental", cu(m.activate(&k))));
    m.env.advance(100);
    rows.push(("claim", cu(m.claim(&k))));
    let r = m.renter.insecure_clone();
    rows.push(("top_up", cu(m.env.send1(ix::top_up(&k, 1_000), &r))));
    m.env.advance(100);
    let treasury = m.env.treasury.pubkey();
    rows.push(("stop_rental", cu(m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r))));
    rows.push(("close_rental", cu(m.env.send1(ix::close_rental(&k, Some(5)), &r))));

    let k2 = m.running(600_000);
    m.env.advance(10);
    rows.push(("open_dispute", cu(m.env.send1(ix::open_dispute(&r.pubkey(), &k2, 1), &r))));
    let arb = m.env.arbiter.insecure_clone();
    rows.push(("resolve_dispute", cu(m.env.send1(ix::resolve_dispute(&arb.pubkey(), &k2, &treasury, 5_000), &arb))));
    let k3 = m.running(600_000);
    m.env.advance(600);
    rows.push(("finalize_rental", cu(m.env.send1(ix::finalize_rental(&r.pubkey(), &k3, &treasury), &r))));
    let payer = m.env.admin.insecure_clone();
    rows.push((
        "quote (u128 path, 2^64 divisor)",
        cu(m.env.send1(ix::quote(u64::MAX, ix::QuoteBy::Deposit(u64::MAX), 1), &payer)),
    ));

    println!("| instruction | compute units |\n|---|---|");
    for (name, units) in rows {
        println!("| {name} | {units} |");
    }
}
