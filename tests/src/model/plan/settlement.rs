//! Planning what pays out of a rental's vault and ends it: stop, finalize, resolve, resolve
//! expired, cancel, decline, open_dispute, withdraw_owed and close.
use gpu_escrow::{accounts as acc, instruction as args};
use gpu_escrow_sdk::accounts::RentalState;

use super::{Plan, ANI};
use crate::model::fixtures::STRANGER;
use crate::model::op::{Dest, Redirect, Who};
use crate::model::runner::Runner;
use crate::model::state::{rating_errors, Expected};
use crate::model::world::program_ix;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SettleKind {
    Stop,
    Finalize,
    Resolve(u16),
    ResolveExpired,
}

impl Runner<'_> {
    pub(super) fn plan_settle(&self, ri: usize, by: Who, redirect: Redirect, kind: SettleKind) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let (r, now) = (&mr.r, self.m.now);
        let to = self.payees(ri, caller, redirect);
        let award = match kind {
            SettleKind::Resolve(p) if p > 1000 => r.dispute_locked + 1,
            SettleKind::Resolve(p) => (r.dispute_locked as u128 * p as u128 / 1000) as u64,
            _ => 0,
        };
        let k = &mr.keys;
        let accounts = acc::Settle {
            caller: self.pk(caller),
            config: self.w.config,
            rental: k.rental,
            listing: k.listing,
            provider_profile: self.w.profiles[mr.provider],
            renter: k.renter,
            vault: k.vault,
            mint: k.mint,
            renter_token: self.account(to[0], mr.mint),
            provider_token: self.account(to[1], mr.mint),
            treasury_token: self.account(to[2], mr.mint),
            token_program: k.token_program,
        };
        let settle = match kind {
            SettleKind::Stop => program_ix(accounts, args::StopRental {}),
            SettleKind::Finalize => program_ix(accounts, args::FinalizeRental {}),
            SettleKind::Resolve(_) => program_ix(accounts, args::ResolveDispute { provider_amount: award }),
            SettleKind::ResolveExpired => program_ix(accounts, args::ResolveExpiredDispute {}),
        };
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists || !mr.vault_open || !self.m.listings[mr.listing].exists {
                e.push(ANI);
            }
            let meter = r.meter();
            match kind {
                SettleKind::Stop => {
                    if r.state != RentalState::Active {
                        e.push("RentalNotActive");
                    }
                    if caller != mr.renter && caller != mr.provider {
                        e.push("NotParty");
                    }
                }
                SettleKind::Finalize => {
                    if r.state != RentalState::Active {
                        e.push("RentalNotActive");
                    } else if now < meter.billing_stops_at() {
                        e.push("RentalNotExpired");
                    }
                }
                SettleKind::Resolve(_) => {
                    let arbiter = self.m.arbiter(self.w);
                    if caller != arbiter {
                        e.push("NotArbiter");
                    }
                    if caller == mr.renter || caller == mr.provider {
                        e.push("ArbiterIsParty");
                    }
                    if r.state != RentalState::Disputed {
                        e.push("RentalNotDisputed");
                    }
                    if award > r.dispute_locked {
                        e.push("AwardExceedsLocked");
                    }
                    if now >= r.dispute_deadline() {
                        e.push("DisputeTimedOut");
                    }
                }
                SettleKind::ResolveExpired => {
                    if r.state != RentalState::Disputed {
                        e.push("RentalNotDisputed");
                    }
                    if now < r.dispute_deadline() {
                        e.push("DisputeNotExpired");
                    }
                }
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            // The SDK's figures for this settlement, from the state before and the clock.
            let (s, ended_at, lost) = match kind {
                SettleKind::Stop => {
                    (meter.settle_at(now).expect("settle_at"), now.min(meter.billing_stops_at()), false)
                }
                SettleKind::Finalize => (meter.settle_at(now).expect("settle_at"), meter.billing_stops_at(), false),
                SettleKind::Resolve(_) | SettleKind::ResolveExpired => {
                    let amount = if kind == SettleKind::ResolveExpired { r.dispute_locked } else { award };
                    let lost = amount < r.dispute_locked;
                    if lost {
                        n.profile(mr.provider).disputes_lost += 1;
                    }
                    let s = meter.award(r.dispute_locked, amount, r.billed_seconds).expect("award");
                    (s, r.dispute_opened_at, lost)
                }
            };
            let expected = n.payout_and_close(self.w, ri, s, ended_at, caller, to, lost);
            Ok((n, expected))
        })();
        self.program_plan(vec![settle], caller, prediction)
    }

    pub(super) fn plan_unactivated(&self, ri: usize, by: Who, redirect: Redirect, decline: bool) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let (r, now) = (&mr.r, self.m.now);
        let to = self.payees(ri, caller, redirect);
        let k = &mr.keys;
        let accounts = acc::EndUnactivated {
            caller: self.pk(caller),
            rental: k.rental,
            listing: k.listing,
            provider_profile: self.w.profiles[mr.provider],
            renter: k.renter,
            vault: k.vault,
            mint: k.mint,
            renter_token: self.account(to[0], mr.mint),
            token_program: k.token_program,
        };
        let end = if decline {
            program_ix(accounts, args::DeclineRental {})
        } else {
            program_ix(accounts, args::CancelRental {})
        };
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists || !mr.vault_open || !self.m.listings[mr.listing].exists {
                e.push(ANI);
            }
            let timed_out = now >= r.activation_deadline();
            if r.state != RentalState::Funded {
                e.push("RentalNotFunded");
            }
            if decline && caller != mr.provider {
                e.push("NotProvider");
            }
            if !decline && caller != mr.renter && !timed_out {
                e.push("CancelTooEarly");
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            // A decline after the deadline is still a no-show: the renter waited it out.
            let expected = n.refund_all(ri, caller, to[0], timed_out, decline);
            Ok((n, expected))
        })();
        self.program_plan(vec![end], caller, prediction)
    }

    pub(super) fn plan_dispute(&self, ri: usize, by: Who, redirect: Redirect) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let (r, now) = (&mr.r, self.m.now);
        let to = self.payees(ri, caller, redirect);
        let k = &mr.keys;
        let accounts = acc::OpenDispute {
            caller: self.pk(caller),
            rental: k.rental,
            listing: k.listing,
            vault: k.vault,
            mint: k.mint,
            renter_token: self.account(to[0], mr.mint),
            token_program: k.token_program,
        };
        let dispute = program_ix(accounts, args::OpenDispute { reason_code: 3 });
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists || !mr.vault_open || !self.m.listings[mr.listing].exists {
                e.push(ANI);
            }
            if r.state != RentalState::Active {
                e.push("RentalNotActive");
            }
            if caller != mr.renter && caller != mr.provider {
                e.push("NotParty");
            }
            if !e.is_empty() {
                return Err(e);
            }
            // The SDK's figures: what a stop now would refund, and what stays locked.
            let meter = r.meter();
            let s = meter.settle_at(now).expect("settle_at");
            let locked = meter.locked_at(now).expect("locked_at");
            let mut n = self.m.clone();
            let mut ro = r.renter_owed;
            n.pay_share(ri, caller, to[0], mr.renter, s.refund, &mut ro);
            let nr = &mut n.rentals[ri].r;
            nr.refunded += s.refund;
            nr.renter_owed = ro;
            nr.state = RentalState::Disputed;
            nr.billed_seconds = s.billable_seconds;
            nr.dispute_opened_by = self.pk(caller);
            nr.dispute_reason = 3;
            nr.dispute_opened_at = now;
            nr.dispute_locked = locked;
            // Billing stopped: the listing's slot is free again, the dispute still pending.
            let l = &mut n.listings[mr.listing].l;
            l.active_rentals -= 1;
            l.disputed_rentals += 1;
            Ok((n, Expected::Dispute { locked, refund_amount: s.refund, renter_owed: ro }))
        })();
        self.program_plan(vec![dispute], caller, prediction)
    }

    pub(super) fn plan_close(&self, ri: usize, by: Who, rating: Option<u8>) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let r = &mr.r;
        let accounts = acc::CloseRental {
            renter: self.pk(caller),
            rental: mr.keys.rental,
            access: mr.access,
            provider_profile: self.w.profiles[mr.provider],
        };
        let close = program_ix(accounts, args::CloseRental { rating });
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists {
                e.push(ANI);
            }
            if caller != mr.renter {
                e.push("NotRenter");
            }
            if !r.is_ended() {
                e.push("RentalNotFinished");
            }
            if r.provider_owed + r.fee_owed + r.renter_owed != 0 {
                e.push("FundsStillOwed");
            }
            if let Some(stars) = rating {
                rating_errors(&mut e, r, stars);
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            n.rentals[ri].exists = false;
            if let Some(stars) = rating {
                let p = n.profile(mr.provider);
                p.rating_sum += stars as u64;
                p.rating_count += 1;
            }
            let expected = Expected::Closed {
                settled: r.state == RentalState::Settled,
                deposited: r.deposited,
                provider_paid: r.provider_paid,
                fee_paid: r.fee_paid,
                refunded: r.refunded,
                swept: r.swept,
                billed_seconds: r.billed_seconds,
                ended_at: r.ended_at,
                rating: rating.unwrap_or(0),
                rated_before: r.rated,
            };
            Ok((n, expected))
        })();
        self.program_plan(vec![close], caller, prediction)
    }

    pub(super) fn plan_withdraw(&self, ri: usize, by: Who, dest: Dest) -> Option<Plan> {
        let payee = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let treasury = self.m.treasury(self.w);
        let (holder, parking) = match dest {
            Dest::OwnAta => (payee, false),
            Dest::OwnParking => (payee, true),
            Dest::StrangersAta => (STRANGER, false),
        };
        let account = if parking { self.w.parkings[holder][mr.mint] } else { self.ata(holder, mr.mint) };
        let k = &mr.keys;
        let accounts = acc::WithdrawOwed {
            payee: self.pk(payee),
            config: self.w.config,
            rental: k.rental,
            renter: k.renter,
            vault: k.vault,
            mint: k.mint,
            destination: account,
            token_program: k.token_program,
        };
        let ixs = vec![program_ix(accounts, args::WithdrawOwed {})];
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists || !mr.vault_open {
                e.push(ANI);
            }
            let r = &mr.r;
            let mut amount = 0;
            if payee == mr.renter {
                amount += r.renter_owed;
            }
            if payee == mr.provider {
                amount += r.provider_owed;
            }
            if payee == treasury {
                amount += r.fee_owed;
            }
            if amount == 0 {
                e.push("NothingOwed");
            }
            if !self.m.can_receive(holder, parking, payee, mr.mint) {
                e.push("PayeeCannotReceive");
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            let fee_part = if payee == treasury { r.fee_owed } else { 0 };
            n.fee_received[payee][mr.mint] += fee_part;
            let nr = &mut n.rentals[ri];
            if payee == mr.renter {
                nr.r.renter_owed = 0;
            }
            if payee == mr.provider {
                nr.r.provider_owed = 0;
            }
            if payee == treasury {
                nr.r.fee_owed = 0;
            }
            let ended = nr.r.is_ended();
            let still_owed = nr.r.provider_owed + nr.r.fee_owed + nr.r.renter_owed;
            let rest = nr.vault - amount;
            let surplus = if ended { rest - still_owed } else { 0 };
            let (pay, close) = match (ended, payee == mr.renter) {
                (true, true) => (amount + surplus, still_owed == 0),
                (true, false) => {
                    nr.r.renter_owed += surplus;
                    (amount, still_owed == 0 && surplus == 0)
                }
                (false, _) => (amount, false),
            };
            if ended {
                assert_eq!(surplus, nr.gifts, "model: the surplus of an ended rental is what strangers sent");
                nr.gifts = 0;
                nr.r.swept += surplus;
            }
            nr.vault -= pay;
            if close {
                assert_eq!(nr.vault, 0, "model: a vault closes empty");
                nr.vault_open = false;
            }
            let owed = [nr.r.provider_owed, nr.r.fee_owed, nr.r.renter_owed];
            n.vault_transfer(ri);
            let t = &mut n.tokens[payee][mr.mint];
            if parking {
                t.parking += pay;
            } else {
                t.amount += pay;
            }
            // The event reports the surplus this withdrawal recognised as the renter's, whoever
            // withdraws (paid with the renter's own withdrawal, else added to `renter_owed`).
            Ok((n, Expected::Withdrawn { amount: pay, surplus, owed, vault_closed: close }))
        })();
        Some(self.program_plan(ixs, payee, prediction))
    }
}

impl Runner<'_> {
    pub(super) fn plan_rate(&self, ri: usize, by: Who, rating: u8) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let accounts = acc::RateRental {
            renter: self.pk(caller),
            rental: mr.keys.rental,
            provider_profile: self.w.profiles[mr.provider],
        };
        let rate = program_ix(accounts, args::RateRental { rating });
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists {
                e.push(ANI);
            }
            if caller != mr.renter {
                e.push("NotRenter");
            }
            // Unlike close_rental, funds still held in the vault do not matter.
            rating_errors(&mut e, &mr.r, rating);
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            n.rentals[ri].r.rated = true;
            let p = n.profile(mr.provider);
            p.rating_sum += rating as u64;
            p.rating_count += 1;
            Ok((n, Expected::Rated { rating }))
        })();
        self.program_plan(vec![rate], caller, prediction)
    }

    /// `deliver_owed`: each held share, and after the end whatever strangers sent (the
    /// renter's), goes to its payee's associated account if that can receive, else stays held.
    pub(super) fn plan_deliver(&self, ri: usize, by: Who, redirect: Redirect) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let treasury = self.m.treasury(self.w);
        let to = self.payees(ri, caller, redirect);
        let k = &mr.keys;
        let accounts = acc::DeliverOwed {
            caller: self.pk(caller),
            config: self.w.config,
            rental: k.rental,
            renter: k.renter,
            vault: k.vault,
            mint: k.mint,
            renter_token: self.account(to[0], mr.mint),
            provider_token: self.account(to[1], mr.mint),
            treasury_token: self.account(to[2], mr.mint),
            token_program: k.token_program,
        };
        let deliver = program_ix(accounts, args::DeliverOwed {});
        let prediction = (|| {
            if !mr.exists || !mr.vault_open {
                return Err(vec![ANI]);
            }
            let r = &mr.r;
            let ended = r.is_ended();
            let owed = r.provider_owed + r.fee_owed + r.renter_owed;
            // After the end, whatever else the vault holds was sent by strangers: the renter's.
            let surplus = if ended { mr.vault - owed } else { 0 };
            if ended {
                assert_eq!(surplus, mr.gifts, "model: the surplus of an ended rental is what strangers sent");
            }
            if owed == 0 && surplus == 0 {
                return Err(vec!["NothingOwed"]);
            }
            let mut n = self.m.clone();
            let (mut po, mut fo, mut ro) = (r.provider_owed, r.fee_owed, r.renter_owed);
            let provider_amount = n.pay_share(ri, caller, to[1], mr.provider, 0, &mut po);
            let fee_amount = n.pay_share(ri, caller, to[2], treasury, 0, &mut fo);
            n.fee_received[treasury][mr.mint] += fee_amount;
            let renter_amount = n.pay_share(ri, caller, to[0], mr.renter, surplus, &mut ro);
            let close = ended && po == 0 && fo == 0 && ro == 0;
            if let Some(f) = n.failure {
                return Err(vec![f]);
            }
            if provider_amount + fee_amount + renter_amount == 0 {
                return Err(vec!["NothingDelivered"]);
            }
            let nr = &mut n.rentals[ri];
            (nr.r.provider_owed, nr.r.fee_owed, nr.r.renter_owed) = (po, fo, ro);
            nr.r.swept += surplus;
            if ended {
                nr.gifts = 0;
            }
            if close {
                assert_eq!(nr.vault, 0, "model: a vault closes empty");
                nr.vault_open = false;
            }
            let expected = Expected::Delivered {
                provider_amount,
                fee_amount,
                renter_amount,
                surplus,
                owed: [po, fo, ro],
                vault_closed: close,
            };
            Ok((n, expected))
        })();
        self.program_plan(vec![deliver], caller, prediction)
    }
}
