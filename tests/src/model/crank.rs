//! The end of every sequence: each rental cranked to its end within its bound, everything
//! withdrawn and closed, and the final accounts checked.
use gpu_escrow_sdk::accounts::{Config, Rental, RentalState};

use super::fail::{crank_fail, fail, Fail};
use super::fixtures::{HOLDERS, MINT_NAMES, NAMES, NW, RENTERS, STRANGER};
use super::op::{Dest, Op, Redirect, Who};
use super::runner::Runner;

impl Runner<'_> {
    /// Moves the clock to `t` (never backwards).
    fn advance_to(&mut self, t: i64) -> Result<(), Fail> {
        let secs = (t - self.m.now).max(0);
        self.step(&Op::Advance { secs })
    }

    /// Brings every rental to an end state within its bound, then lets every payee withdraw,
    /// closes everything and checks the final accounts:
    /// - each unfinished rental's bound (activation deadline, end of paid time or SLA, dispute
    ///   deadline) is at most 90 days of timeout or the listing's maximum rental time away;
    /// - cranked by a stranger one second before its bound, it is refused; at its bound the
    ///   crank ends it (Cancelled or Settled), whatever state the payees' accounts are in (a
    ///   vault the issuer froze must be thawed first: SECURITY.md §4);
    /// - once every account is thawed and reopened, a stranger's `deliver_owed` delivers
    ///   everything held (for two rentals in three; the payees withdraw the rest), every vault
    ///   closes, and the renters rate (before draining for every other rental, with
    ///   `rate_rental`) and close every rental (rating those that billed 10 minutes);
    /// - every wallet's tokens then differ from what it started with by exactly what the final
    ///   ledgers allot it, and all tokens of each mint are back in wallets.
    pub fn crank_and_drain(&mut self) -> Result<(), Fail> {
        self.phase = "(crank and drain) ";
        let mut pending: Vec<(i64, usize)> = Vec::new();
        for (i, mr) in self.m.rentals.iter().enumerate() {
            let r = &mr.r;
            if !mr.exists || r.is_ended() {
                continue;
            }
            // Each bound from the terms the rental snapshotted (not from the program's helpers),
            // and each no later than the longest wait the rules allow: a 90-day timeout, or the
            // listing's maximum rental time of paid use.
            let max_timeout = Config::MAX_TIMEOUT_SECS as i64;
            let (bound, limit) = match r.state {
                RentalState::Funded => (r.opened_at + r.activation_timeout_secs as i64, r.opened_at + max_timeout),
                RentalState::Active => {
                    let sla_cut = r.last_heartbeat + r.heartbeat_interval_secs as i64;
                    let stops = if r.heartbeat_interval_secs > 0 { r.end_at.min(sla_cut) } else { r.end_at };
                    (stops, r.activated_at + r.max_rental_secs as i64)
                }
                RentalState::Disputed => {
                    (r.dispute_opened_at + r.dispute_timeout_secs as i64, r.dispute_opened_at + max_timeout)
                }
                _ => unreachable!(),
            };
            if bound > limit {
                return Err(crank_fail(
                    "end state not within its bound",
                    format!("rental #{i} ({:?}) could wait until {bound}, beyond the rules' limit {limit}", r.state),
                ));
            }
            pending.push((bound, i));
        }
        pending.sort();
        for (bound, i) in pending {
            let crank = match self.m.rentals[i].r.state {
                RentalState::Funded => Op::Cancel { rental: i, by: Who::Stranger, redirect: Redirect::None },
                RentalState::Active => Op::Finalize { rental: i, by: Who::Stranger, redirect: Redirect::None },
                _ => Op::ResolveExpired { rental: i, by: Who::Stranger, redirect: Redirect::None },
            };
            if bound > self.m.now {
                self.advance_to(bound - 1)?;
                self.step(&crank)?;
                if self.m.rentals[i].r.is_ended() {
                    return Err(crank_fail(
                        "end state not within its bound",
                        format!("rental #{i} ended before its bound {bound}"),
                    ));
                }
            }
            self.advance_to(bound)?;
            self.step(&crank)?;
            if !self.m.rentals[i].r.is_ended() && self.m.rentals[i].vault_frozen {
                // A frozen vault stops its escrow (SECURITY.md §4) until the issuer thaws it.
                self.step(&Op::FreezeVault { rental: i, frozen: false })?;
                self.step(&crank)?;
            }
            if !self.m.rentals[i].r.is_ended() {
                return Err(crank_fail(
                    "end state not within its bound",
                    format!("rental #{i} is still {:?} at its bound {bound}", self.m.rentals[i].r.state),
                ));
            }
        }
        // Every vault can pay. A stranger delivers what is held (for every other rental) before
        // any payee's account is repaired, then again once the renters' are: what reaches a
        // payee that can receive leaves, the rest stays held (or nothing moves at all).
        for i in 0..self.m.rentals.len() {
            self.step(&Op::FreezeVault { rental: i, frozen: false })?;
        }
        self.deliver_round(|i| i % 2 == 0)?;
        for h in RENTERS {
            self.repair(h)?;
        }
        self.deliver_round(|i| i % 4 < 2)?;
        // Every payee can receive again.
        for h in HOLDERS {
            self.repair(h)?;
        }
        for i in 0..self.m.rentals.len() {
            let mr = &self.m.rentals[i];
            let rateable =
                |r: &Rental| r.state == RentalState::Settled && r.billed_seconds >= Rental::MIN_RATED_BILLED_SECS;
            // A rating does not wait on held funds (the mint's minimum amount decides).
            if mr.exists && i % 2 == 0 && rateable(&mr.r) {
                self.step(&Op::Rate { rental: i, by: Who::Renter, rating: 1 + (i % 5) as u8 })?;
            }
            let mr = &self.m.rentals[i];
            if mr.exists && mr.vault_open && i % 3 != 0 {
                // Every payee's associated account can receive now: everything is delivered.
                self.step(&Op::Deliver { rental: i, by: Who::Stranger, redirect: Redirect::None })?;
                let r = &self.m.rentals[i].r;
                if r.provider_owed + r.fee_owed + r.renter_owed > 0 || self.m.rentals[i].vault_open {
                    return Err(crank_fail(
                        "held funds not delivered",
                        format!("rental #{i}: deliver_owed left funds held although every account can receive"),
                    ));
                }
            }
            for by in [Who::Provider, Who::Treasury, Who::Renter] {
                let mr = &self.m.rentals[i];
                let payee = self.who(by, i);
                let r = &mr.r;
                let owed = (payee == mr.renter) as u64 * r.renter_owed
                    + (payee == mr.provider) as u64 * r.provider_owed
                    + (payee == self.m.treasury(self.w)) as u64 * r.fee_owed;
                if mr.exists && owed > 0 {
                    self.step(&Op::Withdraw { rental: i, by, dest: Dest::OwnAta })?;
                }
            }
            let mr = &self.m.rentals[i];
            if mr.vault_open {
                return Err(crank_fail(
                    "vault left open",
                    format!("rental #{i}: vault still open after every withdrawal"),
                ));
            }
            if mr.exists {
                // Rate what billed at least 10 minutes (the mint's minimum amount decides; a
                // rental rated above is refused as AlreadyRated).
                if rateable(&mr.r) {
                    self.step(&Op::Close { rental: i, by: Who::Renter, rating: Some(1 + (i % 5) as u8) })?;
                }
                if self.m.rentals[i].exists {
                    self.step(&Op::Close { rental: i, by: Who::Renter, rating: None })?;
                }
                if self.m.rentals[i].exists {
                    return Err(crank_fail("rental left open", format!("rental #{i} could not be closed")));
                }
            }
        }
        self.final_accounts().map_err(|mut f| {
            f.at = "(final accounts)".into();
            f
        })
    }

    /// The issuer thaws `wallet`'s accounts, it reopens them and stops requiring memos.
    fn repair(&mut self, wallet: usize) -> Result<(), Fail> {
        for mint in 0..2 {
            self.step(&Op::Freeze { wallet, mint, frozen: false })?;
            self.step(&Op::ReopenAta { wallet, mint })?;
        }
        self.step(&Op::Memo { wallet, on: false })
    }

    /// A stranger's `deliver_owed` on each chosen rental whose vault is still open.
    fn deliver_round(&mut self, chosen: impl Fn(usize) -> bool) -> Result<(), Fail> {
        for i in 0..self.m.rentals.len() {
            if chosen(i) && self.m.rentals[i].exists && self.m.rentals[i].vault_open {
                self.step(&Op::Deliver { rental: i, by: Who::Stranger, redirect: Redirect::None })?;
            }
        }
        Ok(())
    }

    fn final_accounts(&self) -> Result<(), Fail> {
        let m = &self.m;
        let mut fees = [0u64; 2];
        let mut expected: [[i128; 2]; NW] = [[0; 2]; NW];
        for mr in &m.rentals {
            let r = &mr.r;
            let mint = mr.mint;
            expected[mr.renter][mint] += r.refunded as i128 - r.deposited as i128 + mr.gifts_total as i128;
            expected[mr.provider][mint] += r.provider_paid as i128;
            expected[STRANGER][mint] -= mr.gifts_total as i128;
            fees[mint] += r.fee_paid;
        }
        for mint in 0..2 {
            let received: u64 = HOLDERS.iter().map(|h| m.fee_received[*h][mint]).sum();
            if received != fees[mint] {
                return Err(fail(
                    "final accounts",
                    format!(
                        "{}: fees in the ledgers {}, fees the treasuries received {received}",
                        MINT_NAMES[mint], fees[mint]
                    ),
                ));
            }
            for h in HOLDERS {
                expected[h][mint] += m.fee_received[h][mint] as i128;
                let have = self.snap.holdings(h, mint) as i128;
                let want = m.initial_holdings[h][mint] as i128 + expected[h][mint];
                if have != want {
                    return Err(fail(
                        "final accounts",
                        format!(
                            "{} holds {have} {} tokens; it started with {} and the final ledgers allot it {}",
                            NAMES[h], MINT_NAMES[mint], m.initial_holdings[h][mint], expected[h][mint]
                        ),
                    ));
                }
            }
        }
        for (i, l) in m.listings.iter().enumerate() {
            if l.exists && (l.l.active_rentals != 0 || l.l.disputed_rentals != 0) {
                return Err(fail(
                    "final accounts",
                    format!(
                        "listing L{i} still counts {} active and {} disputed rentals",
                        l.l.active_rentals, l.l.disputed_rentals
                    ),
                ));
            }
        }
        // Every token a stranger sent to a vault went back to the renter, as the ledger says.
        for (i, mr) in m.rentals.iter().enumerate() {
            if mr.r.swept != mr.gifts_total {
                return Err(fail(
                    "final accounts",
                    format!("rental #{i}: swept {} in the ledger, strangers sent {}", mr.r.swept, mr.gifts_total),
                ));
            }
        }
        Ok(())
    }
}
