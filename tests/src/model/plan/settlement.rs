//! Planning what pays out of a rental's vault and ends it: stop, finalize, resolve, resolve
//! expired, cancel, decline, open_dispute, withdraw_owed and close.
use gpu_escrow::{accounts as acc, instruction as args};
use gpu_escrow_sdk::accounts::{Rental, RentalState};

use super::{Plan, ANI};
use crate::model::fixtures::STRANGER;
use crate::model::op::{Dest, Redirect, Who};
use crate::model::runner::Runner;
use crate::model::state::Expected;
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
            renter_token: self.ata(to[0], mr.mint),
            provider_token: self.ata(to[1], mr.mint),
            treasury_token: self.ata(to[2], mr.mint),
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
            let (s, ended_at) = match kind {
                SettleKind::Stop => (meter.settle_at(now).expect("settle_at"), now.min(meter.billing_stops_at())),
                SettleKind::Finalize => (meter.settle_at(now).expect("settle_at"), meter.billing_stops_at()),
                SettleKind::Resolve(_) | SettleKind::ResolveExpired => {
                    let amount = if kind == SettleKind::ResolveExpired { r.dispute_locked } else { award };
                    if amount < r.dispute_locked {
                        n.profile(mr.provider).disputes_lost += 1;
                    }
                    (meter.award(r.dispute_locked, amount, r.billed_seconds).expect("award"), r.dispute_opened_at)
                }
            };
            let expected = n.payout_and_close(self.w, ri, s, ended_at, to);
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
            renter_token: self.ata(to[0], mr.mint),
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
            let expected = n.refund_all(ri, to[0], timed_out, decline);
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
            provider_profile: self.w.profiles[mr.provider],
            vault: k.vault,
            mint: k.mint,
            renter_token: self.ata(to[0], mr.mint),
            token_program: k.token_program,
        };
        let dispute = program_ix(accounts, args::OpenDispute { reason_code: 3 });
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists || !mr.vault_open {
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
            n.pay_share(ri, to[0], mr.renter, s.refund, &mut ro);
            let nr = &mut n.rentals[ri].r;
            nr.refunded += s.refund;
            nr.renter_owed = ro;
            nr.state = RentalState::Disputed;
            nr.billed_seconds = s.billable_seconds;
            nr.dispute_opened_by = self.pk(caller);
            nr.dispute_reason = 3;
            nr.dispute_opened_at = now;
            nr.dispute_locked = locked;
            if caller == mr.renter {
                n.profile(mr.provider).disputes_against += 1;
            }
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
            accepted_mint: self.w.accepted_mints[mr.mint],
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
                if !(1..=5).contains(&stars) {
                    e.push("InvalidRating");
                }
                if r.state != RentalState::Settled {
                    e.push("RatingNotAllowed");
                }
                if r.billed_seconds < Rental::MIN_RATED_BILLED_SECS {
                    e.push("RatingNotEarned");
                }
                match &self.m.accepted[mr.mint] {
                    None => e.push("MintNotAccepted"),
                    Some(a) if r.provider_paid + r.fee_paid < a.min_rated_gross => e.push("RatingNotEarned"),
                    Some(_) => {}
                }
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
            Ok((n, Expected::None))
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
            }
            nr.vault -= pay;
            if close {
                assert_eq!(nr.vault, 0, "model: a vault closes empty");
                nr.vault_open = false;
            }
            n.touched_frozen_vault |= n.rentals[ri].vault_frozen;
            let t = &mut n.tokens[payee][mr.mint];
            if parking {
                t.parking += pay;
            } else {
                t.amount += pay;
            }
            Ok((n, Expected::Withdrawn { amount: pay, vault_closed: close }))
        })();
        Some(self.program_plan(ixs, payee, prediction))
    }
}
