//! Random operation sequences for the model in `model/`, their replay and their shrinking.
use std::panic::{catch_unwind, AssertUnwindSafe};

use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::quote;

use crate::model::*;
use crate::rng::Rng;

const DAY: i64 = 86_400;
const YEAR: i64 = 365 * DAY;

/// Generates a sequence of 1..=`max_len` operations from `seed` and runs each one as it is
/// generated (so the generator can aim at the states the rentals are in), then cranks every
/// rental to its end and drains everything. Returns the operations and the outcome.
pub fn run_generated(w: &World, seed: u64, max_len: usize, coverage: bool) -> (Vec<Op>, Result<Stats, Fail>) {
    let mut ops = Vec::new();
    let result = caught(|| {
        let mut rng = Rng::new(seed);
        let len = rng.range(1, max_len as u64) as usize;
        let mut runner = Runner::new(w, coverage);
        for _ in 0..len {
            let op = gen_op(&mut rng, &runner.m);
            ops.push(op.clone());
            runner.step(&op)?;
        }
        runner.crank_and_drain()?;
        Ok(runner.stats.clone())
    });
    (ops, result)
}

/// Runs `ops` on a fresh copy of the world, then cranks and drains.
pub fn replay(w: &World, ops: &[Op]) -> Result<Stats, Fail> {
    caught(|| {
        let mut runner = Runner::new(w, false);
        for op in ops {
            runner.step(op)?;
        }
        runner.crank_and_drain()?;
        Ok(runner.stats.clone())
    })
}

fn caught(f: impl FnOnce() -> Result<Stats, Fail>) -> Result<Stats, Fail> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Err(Fail { key: "panic", msg, at: String::new() })
        }
    }
}

/// Delta debugging: removes chunks of operations, then single ones, for as long as the
/// sequence still breaks the same property. Returns the minimal sequence and its failure.
pub fn shrink(w: &World, ops: Vec<Op>, first: Fail) -> (Vec<Op>, Fail) {
    let key = first.key;
    let still_fails = |cand: &[Op]| match replay(w, cand) {
        Err(f) if f.key == key => Some(f),
        _ => None,
    };
    let (mut best, mut best_fail) = match still_fails(&ops) {
        Some(f) => (ops, f),
        // Not reproducible by replay: report it unshrunk.
        None => return (ops, first),
    };
    let mut chunk = (best.len() / 2).max(1);
    loop {
        let mut progress = false;
        let mut i = 0;
        while i < best.len() {
            let end = (i + chunk).min(best.len());
            let cand: Vec<Op> = best[..i].iter().chain(&best[end..]).cloned().collect();
            match still_fails(&cand) {
                Some(f) => {
                    best = cand;
                    best_fail = f;
                    progress = true;
                }
                None => i += chunk,
            }
        }
        if chunk == 1 && !progress {
            break;
        }
        if !progress {
            chunk = (chunk / 2).max(1);
        }
    }
    (best, best_fail)
}

// ------------------------------------------------------------------ the generator

const WHO_ANY: [Who; 6] = [Who::Renter, Who::Provider, Who::OtherProvider, Who::Arbiter, Who::Treasury, Who::Stranger];

fn who(rng: &mut Rng, usual: Who) -> Who {
    if rng.chance(9, 10) {
        usual
    } else {
        rng.pick(&WHO_ANY)
    }
}

fn party(rng: &mut Rng) -> Who {
    let usual = if rng.chance(1, 2) { Who::Renter } else { Who::Provider };
    who(rng, usual)
}

fn redirect(rng: &mut Rng) -> Redirect {
    if rng.chance(9, 10) {
        Redirect::None
    } else {
        rng.pick(&[
            Redirect::Renter,
            Redirect::Provider,
            Redirect::Treasury,
            Redirect::OwnToParking,
            Redirect::OwnToStranger,
        ])
    }
}

/// A rental the operation is likely to apply to (4 times in 5, when there is one), or any.
fn pick_rental(rng: &mut Rng, m: &Model, fits: impl Fn(&MRental) -> bool) -> Option<usize> {
    let fitting: Vec<usize> = (0..m.rentals.len()).filter(|i| m.rentals[*i].exists && fits(&m.rentals[*i])).collect();
    if !fitting.is_empty() && rng.chance(4, 5) {
        Some(rng.pick(&fitting))
    } else if !m.rentals.is_empty() {
        Some(rng.below(m.rentals.len() as u64) as usize)
    } else {
        None
    }
}

fn state_is(s: RentalState) -> impl Fn(&MRental) -> bool {
    move |r| r.r.state == s
}

/// What a deposit for `secs` seconds at `price` costs, as the SDK quotes it.
fn deposit_for(price: u64, secs: u64, fee_bps: u16) -> u64 {
    quote::quote_seconds(price, secs, fee_bps).map(|q| q.deposit).unwrap_or(1)
}

fn gen_deposit(rng: &mut Rng, m: &Model, li: usize) -> u64 {
    let l = &m.listings[li].l;
    let (min, max) = (l.min_rental_secs as u64, l.max_rental_secs as u64);
    match rng.below(20) {
        0..=15 => {
            let secs = match rng.below(12) {
                0 => min,
                1 => max,
                2 => min.saturating_sub(1),
                3 => max + 1,
                4..=7 => rng.range(min, max.min(2 * 3_600)),
                _ => rng.range(min, max.min(3 * DAY as u64)),
            };
            deposit_for(l.price_per_hour, secs, m.config.fee_bps)
        }
        16..=18 => rng.magnitude(100_000_000_000),
        _ => rng.below(2),
    }
}

/// Jumps to just before, at or just after a moment one rental's rules turn on.
fn boundary_jump(rng: &mut Rng, m: &Model) -> Option<i64> {
    let live: Vec<&MRental> = m.rentals.iter().filter(|r| r.exists && !r.r.is_ended()).collect();
    if live.is_empty() {
        return None;
    }
    let r = &rng.pick(&live).r;
    let t = match r.state {
        RentalState::Funded => r.activation_deadline(),
        RentalState::Active => match rng.below(3) {
            0 => r.end_at,
            1 => r.meter().sla_cut().unwrap_or(r.end_at),
            _ => r.meter().billing_stops_at(),
        },
        _ => r.dispute_deadline(),
    };
    let target = t + rng.range(0, 2) as i64 - 1;
    Some((target - m.now).max(0))
}

fn gen_advance(rng: &mut Rng, m: &Model) -> i64 {
    match rng.below(20) {
        0..=5 => rng.range(0, 10) as i64,
        6..=10 => rng.range(11, 1_000) as i64,
        11..=13 => rng.range(1_001, 100_000) as i64,
        14..=15 => rng.range(DAY as u64, 30 * DAY as u64) as i64,
        16..=18 => boundary_jump(rng, m).unwrap_or_else(|| rng.range(0, 100) as i64),
        _ => rng.range(1, 5) as i64 * YEAR + rng.range(0, DAY as u64) as i64,
    }
}

fn gen_listing_params(rng: &mut Rng, m: &Model, li: usize) -> gpu_escrow_sdk::accounts::ListingParams {
    let l = &m.listings[li].l;
    let price =
        if rng.chance(1, 30) { 0 } else { rng.pick(&[7, 3_600_000, 1_234_567, 1_000_000_007, l.price_per_hour]) };
    let heartbeat = rng.pick(&[0, 0, 30, 120, 3_600, l.heartbeat_interval_secs]);
    let min_secs = rng.pick(&[1, 60, 600, l.min_rental_secs]);
    let day = DAY as u32;
    let max_secs = if rng.chance(1, 30) {
        min_secs - 1
    } else {
        rng.pick(&[3_600, day, 7 * day, 30 * day, 90 * day, l.max_rental_secs])
    };
    let capacity = if rng.chance(1, 30) { 0 } else { rng.pick(&[1, 2, 3, l.capacity]) };
    params(price, heartbeat, min_secs, max_secs, capacity)
}

/// One operation, aimed at the model's current state most of the time.
pub fn gen_op(rng: &mut Rng, m: &Model) -> Op {
    // open, activate, heartbeat, claim, top_up, stop, finalize, cancel, decline, dispute, resolve,
    // resolve_expired, close, withdraw, gift, freeze, close/reopen ATA, memo, update_listing,
    // pause listing, close_listing, pause market, config or mints, clock, rate, deliver_owed
    const WEIGHTS: [u32; 26] = [14, 9, 4, 8, 4, 5, 3, 2, 2, 4, 4, 2, 3, 4, 2, 4, 3, 1, 2, 2, 1, 1, 2, 14, 1, 1];
    // A paused market or listing takes no rentals: lift pauses soon, most of the time.
    if m.config.paused && rng.chance(1, 4) {
        return Op::SetPaused { by_admin: true, paused: false };
    }
    if let Some(mint) = m.accepted.iter().position(|a| a.is_none()) {
        if rng.chance(1, 6) {
            let min_rated_gross = rng.pick(&MIN_RATED_GROSS);
            return Op::SetMintAccepted { mint, accepted: true, min_rated_gross };
        }
    }
    if let Some(listing) = m.listings.iter().position(|l| l.exists && l.l.paused) {
        if rng.chance(1, 6) {
            return Op::PauseListing { listing, by_owner: true, paused: false };
        }
    }
    // Aim at what the rentals can do next: activations while some wait, claims and the like
    // while some run, rulings while some are disputed, withdrawals while something is held.
    let has = |s: RentalState| m.rentals.iter().any(|r| r.exists && r.r.state == s);
    let mut weights = WEIGHTS;
    if has(RentalState::Funded) {
        weights[1] *= 3;
    }
    if has(RentalState::Active) {
        for k in [2, 3] {
            weights[k] *= 3;
        }
        for k in [4, 5, 9] {
            weights[k] *= 2;
        }
    }
    if has(RentalState::Disputed) {
        weights[10] *= 3;
        weights[11] *= 2;
    }
    if m.rentals.iter().any(|r| r.exists && r.r.provider_owed + r.r.fee_owed + r.r.renter_owed > 0) {
        weights[13] *= 3;
        weights[25] *= 6;
    }
    if m.rentals.iter().any(|r| r.exists && r.r.state == RentalState::Settled && !r.r.rated) {
        weights[24] *= 4;
    }
    let kind = rng.weighted(&weights);
    let active = state_is(RentalState::Active);
    let funded = state_is(RentalState::Funded);
    let disputed = state_is(RentalState::Disputed);
    let rental = match kind {
        1 | 7 | 8 => pick_rental(rng, m, &funded),
        2 => pick_rental(rng, m, |r| r.r.state == RentalState::Active && r.r.heartbeat_interval_secs > 0),
        3 | 5 | 6 | 9 => pick_rental(rng, m, &active),
        4 => pick_rental(rng, m, |r| matches!(r.r.state, RentalState::Funded | RentalState::Active)),
        10 | 11 => pick_rental(rng, m, &disputed),
        12 => pick_rental(rng, m, |r| r.r.is_ended()),
        13 => pick_rental(rng, m, |r| r.r.provider_owed + r.r.fee_owed + r.r.renter_owed > 0),
        14 => pick_rental(rng, m, |r| r.vault_open),
        24 => pick_rental(rng, m, |r| r.r.state == RentalState::Settled && !r.r.rated),
        25 => pick_rental(rng, m, |r| {
            r.vault_open && (r.r.is_ended() || r.r.provider_owed + r.r.fee_owed + r.r.renter_owed > 0)
        }),
        _ => None,
    };
    let needs_rental = (1..=14).contains(&kind) || kind >= 24;
    if needs_rental && rental.is_none() {
        return gen_open(rng, m);
    }
    let i = rental.unwrap_or(0);
    match kind {
        0 => gen_open(rng, m),
        1 => Op::Activate { rental: i, by: who(rng, Who::Provider) },
        2 => Op::Heartbeat { rental: i, by: who(rng, Who::Provider) },
        3 => Op::Claim { rental: i, by: who(rng, Who::Provider), redirect: redirect(rng) },
        4 => {
            let r = &m.rentals[i].r;
            let amount = match rng.below(10) {
                0..=4 => deposit_for(r.price_per_hour, rng.range(1, 7_200), r.fee_bps),
                5..=8 => rng.magnitude(10_000_000_000),
                _ => 0,
            };
            Op::TopUp { rental: i, by: who(rng, Who::Renter), amount }
        }
        5 => Op::Stop { rental: i, by: party(rng), redirect: redirect(rng) },
        6 => Op::Finalize { rental: i, by: rng.pick(&WHO_ANY), redirect: redirect(rng) },
        7 => {
            let usual = if rng.chance(1, 2) { Who::Renter } else { Who::Stranger };
            Op::Cancel { rental: i, by: who(rng, usual), redirect: redirect(rng) }
        }
        8 => Op::Decline { rental: i, by: who(rng, Who::Provider), redirect: redirect(rng) },
        9 => Op::Dispute { rental: i, by: party(rng), redirect: redirect(rng) },
        10 => {
            let permille = match rng.below(6) {
                0 => 0,
                1 => 1_000,
                2 => 1_001,
                _ => rng.range(0, 1_000) as u16,
            };
            Op::Resolve { rental: i, by: who(rng, Who::Arbiter), permille, redirect: redirect(rng) }
        }
        11 => Op::ResolveExpired { rental: i, by: rng.pick(&WHO_ANY), redirect: redirect(rng) },
        12 => {
            let rating = if rng.chance(7, 10) { None } else { Some(rng.range(0, 6) as u8) };
            Op::Close { rental: i, by: who(rng, Who::Renter), rating }
        }
        13 => {
            let r = &m.rentals[i].r;
            let mut roles = Vec::new();
            if r.renter_owed > 0 {
                roles.push(Who::Renter);
            }
            if r.provider_owed > 0 {
                roles.push(Who::Provider);
            }
            if r.fee_owed > 0 {
                roles.push(Who::Treasury);
            }
            let by = if !roles.is_empty() && rng.chance(9, 10) { rng.pick(&roles) } else { rng.pick(&WHO_ANY) };
            let dest = match rng.below(25) {
                0..=19 => Dest::OwnAta,
                20..=22 => Dest::OwnParking,
                _ => Dest::StrangersAta,
            };
            Op::Withdraw { rental: i, by, dest }
        }
        14 => Op::Gift { rental: i, amount: rng.magnitude(1_000_000) },
        15 if rng.chance(1, 4) => match pick_rental(rng, m, |r| r.vault_open) {
            Some(rental) => Op::FreezeVault { rental, frozen: !m.rentals[rental].vault_frozen },
            None => gen_open(rng, m),
        },
        15 => {
            let (wallet, mint) = (rng.pick(&HOLDERS), rng.below(2) as usize);
            Op::Freeze { wallet, mint, frozen: !m.tokens[wallet][mint].frozen }
        }
        16 => {
            let (wallet, mint) = (rng.pick(&HOLDERS), rng.below(2) as usize);
            if m.tokens[wallet][mint].open {
                Op::CloseAta { wallet, mint }
            } else {
                Op::ReopenAta { wallet, mint }
            }
        }
        17 => {
            let wallet = rng.pick(&HOLDERS);
            Op::Memo { wallet, on: !m.tokens[wallet][1].memo_on }
        }
        18 => {
            let listing = rng.below(LISTINGS.len() as u64) as usize;
            Op::UpdateListing { listing, by_owner: rng.chance(12, 13), params: gen_listing_params(rng, m, listing) }
        }
        19 => {
            let listing = rng.below(LISTINGS.len() as u64) as usize;
            let paused = if rng.chance(9, 10) { !m.listings[listing].l.paused } else { m.listings[listing].l.paused };
            Op::PauseListing { listing, by_owner: rng.chance(12, 13), paused }
        }
        20 => Op::CloseListing { listing: rng.below(LISTINGS.len() as u64) as usize, by_owner: rng.chance(9, 10) },
        21 => Op::SetPaused { by_admin: rng.chance(12, 13), paused: !m.config.paused },
        22 if rng.chance(1, 3) => {
            let mint = rng.below(2) as usize;
            let accepted = if rng.chance(9, 10) { m.accepted[mint].is_none() } else { m.accepted[mint].is_some() };
            Op::SetMintAccepted { mint, accepted, min_rated_gross: rng.pick(&[0, 1_000_000, 50_000_000, u64::MAX]) }
        }
        22 => {
            let day = DAY as u32;
            let timeouts = [1, 60, 600, 3_600, day, 90 * day, 90 * day + 1, 0];
            let mut op = Op::SetConfig {
                fee_bps: rng.chance(1, 3).then(|| rng.pick(&[0, 1, 137, 250, 3_000, 3_001])),
                activation_timeout: rng.chance(1, 3).then(|| rng.pick(&timeouts)),
                dispute_timeout: rng.chance(1, 3).then(|| rng.pick(&timeouts)),
                treasury: rng.chance(1, 3).then(|| rng.pick(&TREASURY_CHOICES)),
                arbiter: rng.chance(1, 3).then(|| rng.pick(&ARBITER_CHOICES)),
            };
            if let Op::SetConfig {
                fee_bps,
                activation_timeout: None,
                dispute_timeout: None,
                treasury: None,
                arbiter: None,
            } = &mut op
            {
                fee_bps.get_or_insert(137);
            }
            op
        }
        24 => {
            let rating = if rng.chance(9, 10) { rng.range(1, 5) as u8 } else { rng.pick(&[0, 6]) };
            Op::Rate { rental: i, by: who(rng, Who::Renter), rating }
        }
        // Mostly where something held can be delivered now; else, half the time, first let a
        // payee with held funds receive again, so a later deliver_owed has something to deliver.
        25 => {
            let ready: Vec<usize> = (0..m.rentals.len()).filter(|d| deliverable(m, &m.rentals[*d])).collect();
            if !ready.is_empty() && rng.chance(3, 4) {
                Op::Deliver { rental: rng.pick(&ready), by: rng.pick(&WHO_ANY), redirect: redirect(rng) }
            } else if let Some(op) = rng.chance(1, 2).then(|| repair_payee(rng, m)).flatten() {
                op
            } else {
                Op::Deliver { rental: i, by: rng.pick(&WHO_ANY), redirect: redirect(rng) }
            }
        }
        _ => Op::Advance { secs: gen_advance(rng, m) },
    }
}

/// Whether a wallet's associated account of a mint can receive a payout now.
fn receivable(m: &Model, wallet: usize, mint: usize) -> bool {
    let t = &m.tokens[wallet][mint];
    t.open && !t.frozen && !t.memo_on
}

/// Whether something held in a rental's vault for its renter or provider (after the end, what
/// strangers sent included) could be delivered now.
fn deliverable(m: &Model, r: &MRental) -> bool {
    let renter_due = r.r.renter_owed > 0 || (r.r.is_ended() && r.gifts > 0);
    r.exists
        && r.vault_open
        && ((renter_due && receivable(m, r.renter, r.mint))
            || (r.r.provider_owed > 0 && receivable(m, r.provider, r.mint)))
}

/// An action that lets a renter or provider with funds held for it receive again: the issuer
/// thaws its account, it reopens it or it stops requiring memos. None if there is none to take.
fn repair_payee(rng: &mut Rng, m: &Model) -> Option<Op> {
    let mut fixes = Vec::new();
    for r in m.rentals.iter().filter(|r| r.exists) {
        for (wallet, held) in [(r.renter, r.r.renter_owed), (r.provider, r.r.provider_owed)] {
            let t = &m.tokens[wallet][r.mint];
            if held == 0 {
                continue;
            }
            if !t.open {
                fixes.push(Op::ReopenAta { wallet, mint: r.mint });
            } else if t.frozen {
                fixes.push(Op::Freeze { wallet, mint: r.mint, frozen: false });
            } else if t.memo_on {
                fixes.push(Op::Memo { wallet, on: false });
            }
        }
    }
    (!fixes.is_empty()).then(|| fixes.swap_remove(rng.below(fixes.len() as u64) as usize))
}

fn gen_open(rng: &mut Rng, m: &Model) -> Op {
    let renter = rng.pick(&RENTERS);
    let mut listing = rng.below(LISTINGS.len() as u64) as usize;
    // Mostly not its own listing (SelfRental is rarely what a sequence should spend its steps on).
    if LISTINGS[listing].provider == renter && rng.chance(4, 5) {
        listing = rng.pick(
            &[0, 1, 2, 3].map(|l| l).iter().copied().filter(|l| LISTINGS[*l].provider != renter).collect::<Vec<_>>(),
        );
    }
    let deposit = gen_deposit(rng, m, listing);
    let terms = if rng.chance(22, 25) {
        Terms::Current
    } else {
        rng.pick(&[
            Terms::StalePrice,
            Terms::StaleHeartbeat,
            Terms::StaleFee,
            Terms::StaleActivationTimeout,
            Terms::StaleDisputeTimeout,
            Terms::StaleMaxRental,
        ])
    };
    let id_offset = match rng.below(40) {
        0 => -1,
        1 => 1,
        _ => 0,
    };
    Op::Open { renter, listing, deposit, terms, id_offset }
}
