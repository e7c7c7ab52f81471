//! What one rental costs the renter in SOL: transactions, base fees, and the account
//! deposits (rent) that come back when the rental is settled and closed.
use gpu_escrow_sdk::{ix, Signer};
use gpu_escrow_tests::svm::{self, Market};

pub struct Lifecycle {
    /// (step, lamports the renter's balance changed by: negative is spent)
    pub steps: Vec<(&'static str, i64)>,
    pub transactions: usize,
    pub base_fees: u64,
    pub rent_locked: u64,
}

pub fn measure() -> Lifecycle {
    svm::seed_keys(Some(5_000));
    let mut m = Market::new();
    let renter = m.renter.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let sol = |m: &Market| m.env.lamports(&renter.pubkey()) as i64;
    let mut steps = Vec::new();
    let before = sol(&m);
    let k = m.open(3_600_000).expect("open");
    let after_open = sol(&m);
    steps.push(("open_rental", after_open - before));
    m.activate(&k).expect("activate");
    m.env.advance(600);
    let b = sol(&m);
    m.env.send1(ix::stop_rental(&renter.pubkey(), &k, &treasury), &renter).expect("stop");
    steps.push(("stop_rental", sol(&m) - b));
    let b = sol(&m);
    m.env.send1(ix::close_rental(&k, None), &renter).expect("close");
    steps.push(("close_rental", sol(&m) - b));
    svm::seed_keys(None);
    let base_fees = 5_000 * steps.len() as u64;
    Lifecycle { transactions: steps.len(), base_fees, rent_locked: (before - after_open) as u64 - 5_000, steps }
}
