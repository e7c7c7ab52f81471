//! Compute units of every instruction on the real `.so` in LiteSVM, for SPL Token as
//! mainnet runs it (p-token), classic SPL Token 3.5 and Token-2022, next to the floor: the
//! same account creations and CPIs made bare by `gpu-escrow-floor`.
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow_sdk::{ix, pda, Instruction, Keypair, Pubkey, Signer};
use gpu_escrow_tests::svm::{self, listing_params, Env, Market, SPL_TOKEN, TOKEN_2022};

use crate::floor::Floor;

/// The three ways a payment token can be run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TokenRuntime {
    PToken,
    ClassicSpl,
    Token2022,
}

impl TokenRuntime {
    pub const ALL: [TokenRuntime; 3] = [TokenRuntime::PToken, TokenRuntime::ClassicSpl, TokenRuntime::Token2022];

    pub fn label(self) -> &'static str {
        match self {
            TokenRuntime::PToken => "SPL Token (p-token)",
            TokenRuntime::ClassicSpl => "SPL Token 3.5 (classic)",
            TokenRuntime::Token2022 => "Token-2022",
        }
    }

    fn program(self) -> Pubkey {
        if self == TokenRuntime::Token2022 {
            TOKEN_2022
        } else {
            SPL_TOKEN
        }
    }
}

/// One measured row: an instruction's cost per token variant, and its floor (p-token).
pub struct Row {
    pub name: &'static str,
    pub note: &'static str,
    pub cu: Vec<u64>,
    pub floor: Option<u64>,
}

fn cu(r: svm::TxResult, what: &str) -> u64 {
    r.unwrap_or_else(|f| panic!("{what}: {f:?}")).compute_units_consumed
}

/// A market whose config fee is 250 bps and whose listing has a 60 s heartbeat SLA.
fn market(token: TokenRuntime) -> Market {
    svm::seed_keys(Some(1_000));
    let mut env = match token {
        TokenRuntime::ClassicSpl => Env::with_classic_spl_token(),
        _ => Env::new(),
    };
    env.init_config(250).expect("initialize_config");
    let mint = env.create_mint(token.program());
    let admin = env.admin.pubkey();
    env.admin_send(ix::add_mint(&admin, &mint, &token.program(), 0)).expect("add_mint");
    let mut params = listing_params(3_600_000);
    params.heartbeat_interval_secs = 60;
    params.capacity = 200;
    Market::on(env, mint, params)
}

fn send(m: &mut Market, ixs: &[Instruction], signer: &Keypair, what: &str) -> u64 {
    let s = signer.insecure_clone();
    cu(m.env.send(ixs, &s, &[]), what)
}

/// Every instruction, measured once per token variant, in a fixed order on fixed keys.
pub fn measure(floor: &Floor) -> Vec<Row> {
    let per_token: Vec<Vec<(&'static str, &'static str, u64)>> = TokenRuntime::ALL.iter().map(|t| run(*t)).collect();
    let floors = floor.costs();
    per_token[0]
        .iter()
        .enumerate()
        .map(|(i, (name, note, _))| Row {
            name,
            note,
            cu: per_token.iter().map(|rows| rows[i].2).collect(),
            floor: floors.iter().find(|(n, _)| n == name).map(|(_, c)| *c),
        })
        .collect()
}

fn run(token: TokenRuntime) -> Vec<(&'static str, &'static str, u64)> {
    let mut rows = Vec::new();
    let mut env = match token {
        TokenRuntime::ClassicSpl => {
            svm::seed_keys(Some(1));
            Env::with_classic_spl_token()
        }
        _ => {
            svm::seed_keys(Some(1));
            Env::new()
        }
    };
    rows.push(("initialize_config", "", cu(env.init_config(250), "initialize_config")));
    let mint = env.create_mint(token.program());
    let admin = env.admin.pubkey();
    rows.push(("add_mint", "", cu(env.admin_send(ix::add_mint(&admin, &mint, &token.program(), 0)), "add_mint")));
    let provider = env.wallet();
    rows.push((
        "register_provider",
        "",
        cu(env.send1(ix::register_provider(&provider.pubkey()), &provider), "register"),
    ));
    let lp = listing_params(3_600_000);
    let create = ix::create_listing(&provider.pubkey(), 0, &mint, lp.clone());
    rows.push(("create_listing", "", cu(env.send1(create, &provider), "create_listing")));
    let update = ix::update_listing(&provider.pubkey(), &pda::listing(&provider.pubkey(), 0), lp);
    rows.push(("update_listing", "", cu(env.send1(update, &provider), "update_listing")));

    let mut m = market(token);
    let renter = m.renter.insecure_clone();
    let p = m.provider.insecure_clone();
    let treasury = m.env.treasury.pubkey();
    let req = m.open_request(3_600_000);
    rows.push((
        "open_rental",
        "creates rental, access and vault; deposit",
        send(&mut m, &[ix::open_rental(&req)], &renter, "open"),
    ));
    let k = m.keys(req.rental_id);
    rows.push(("activate_rental", "with a 260-byte sealed access blob", cu(m.activate(&k), "activate")));
    m.env.advance(10);
    rows.push(("heartbeat", "one rental", send(&mut m, &[ix::heartbeat(&p.pubkey(), &k.rental)], &p, "heartbeat")));
    m.env.advance(40);
    rows.push(("claim", "provider and fee transfers", cu(m.claim(&k), "claim")));
    rows.push(("top_up", "", send(&mut m, &[ix::top_up(&k, 60_000)], &renter, "top_up")));
    m.env.advance(5);
    let stop = ix::stop_rental(&renter.pubkey(), &k, &treasury);
    rows.push(("stop_rental", "three transfers, vault closed", send(&mut m, &[stop], &renter, "stop")));
    rows.push((
        "close_rental",
        "rental and access closed",
        send(&mut m, &[ix::close_rental(&k, None)], &renter, "close"),
    ));

    let k = m.running(600_000);
    m.env.advance(30);
    rows.push((
        "open_dispute",
        "refund transfer",
        send(&mut m, &[ix::open_dispute(&renter.pubkey(), &k, 1)], &renter, "dispute"),
    ));
    let arb = m.env.arbiter.insecure_clone();
    let resolve = ix::resolve_dispute(&arb.pubkey(), &k, &treasury, 10_000);
    rows.push(("resolve_dispute", "three transfers, vault closed", send(&mut m, &[resolve], &arb, "resolve")));

    let k = m.running(600_000);
    m.env.advance(20);
    send(&mut m, &[ix::open_dispute(&p.pubkey(), &k, 1)], &p, "dispute");
    m.env.advance(3_600);
    let expired = ix::resolve_expired_dispute(&renter.pubkey(), &k, &treasury);
    rows.push(("resolve_expired_dispute", "", send(&mut m, &[expired], &renter, "expired")));

    let k = m.running(600_000);
    m.env.advance(60);
    let finalize = ix::finalize_rental(&renter.pubkey(), &k, &treasury);
    rows.push(("finalize_rental", "after a missed heartbeat", send(&mut m, &[finalize], &renter, "finalize")));

    let k = m.open(600_000).expect("open");
    rows.push((
        "cancel_rental",
        "refund, vault closed",
        send(&mut m, &[ix::cancel_rental(&renter.pubkey(), &k)], &renter, "cancel"),
    ));
    let k = m.open(600_000).expect("open");
    rows.push(("decline_rental", "refund, vault closed", send(&mut m, &[ix::decline_rental(&k)], &p, "decline")));

    let k = m.running(600_000);
    m.env.advance(30);
    let mint = m.mint;
    m.env.set_frozen(&p.pubkey(), &mint, true);
    let stop = ix::stop_rental(&renter.pubkey(), &k, &treasury);
    rows.push(("stop_rental (provider frozen)", "two transfers, share held", send(&mut m, &[stop], &renter, "stop")));
    m.env.set_frozen(&p.pubkey(), &mint, false);
    let withdraw = ix::withdraw_owed(&p.pubkey(), &k, &k.token_account_of(&p.pubkey()));
    rows.push(("withdraw_owed", "transfer, vault closed", send(&mut m, &[withdraw], &p, "withdraw")));

    // Ten SLA rentals heartbeaten in one transaction: the cost per rental.
    let keys: Vec<_> = (0..10).map(|_| m.running(600_000)).collect();
    m.env.advance(5);
    let beats: Vec<_> = keys.iter().map(|k| ix::heartbeat(&p.pubkey(), &k.rental)).collect();
    let per = send(&mut m, &beats, &p, "heartbeats") / 10;
    rows.push(("heartbeat ×10 in one tx", "per rental", per));
    let claims: Vec<_> = keys.iter().map(|k| ix::claim(k, &treasury)).collect();
    let per = send(&mut m, &claims, &p, "claims") / 10;
    rows.push(("claim ×10 in one tx", "per rental", per));

    let payer = m.env.admin.insecure_clone();
    // Not escrow instructions, but sent with them: a payout to a payee without a token
    // account first creates it (the clients' compute limits budget for this).
    let create = ix::create_ata_idempotent(&payer.pubkey(), &Pubkey::new_unique(), &mint, &token.program());
    rows.push((
        "token account creation",
        "associated token account, idempotent create",
        send(&mut m, std::slice::from_ref(&create), &payer, "create ATA"),
    ));
    rows.push((
        "token account check",
        "the same create, account exists",
        send(&mut m, &[create], &payer, "ATA exists"),
    ));
    let quote = ix::quote(u64::MAX, ix::QuoteBy::Deposit(u64::MAX), 1);
    rows.push(("quote", "u128 path, 2^64 divisor", send(&mut m, &[quote], &payer, "quote")));
    let _ = t22::ID;
    svm::seed_keys(None);
    rows
}
