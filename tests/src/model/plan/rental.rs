//! Planning the operations of a running rental: open, activate, heartbeat, claim and top-up.
use anchor_lang::prelude::Pubkey;
use gpu_escrow::{accounts as acc, instruction as args};
use gpu_escrow_sdk::accounts::{Rental, RentalState};
use gpu_escrow_sdk::ix::{self, RentalKeys, RentalTerms};
use gpu_escrow_sdk::quote;

use super::{Plan, ANI, TOKEN_FROZEN, TOKEN_INSUFFICIENT};
use crate::model::fixtures::{SEALED, SSH_KEY};
use crate::model::op::{Redirect, Terms, Who};
use crate::model::runner::Runner;
use crate::model::state::{Expected, MRental};
use crate::model::world::{program_ix, rental_pdas, RentalPdas};

impl Runner<'_> {
    pub(super) fn plan_open(&self, renter: usize, li: usize, deposit: u64, terms: Terms, id_offset: i8) -> Plan {
        let m = &self.m;
        let ml = &m.listings[li];
        let l = &ml.l;
        let mint = ml.mint;
        let rental_id = (l.rentals_opened as i64 + id_offset as i64).max(0) as u64;
        let mut t = quote::terms(l, &m.config);
        match terms {
            Terms::Current => {}
            Terms::StalePrice => t.price_per_hour += 1,
            Terms::StaleHeartbeat => t.heartbeat_interval_secs = if t.heartbeat_interval_secs == 0 { 60 } else { 0 },
            Terms::StaleFee => t.fee_bps = if t.fee_bps == 0 { 1 } else { t.fee_bps - 1 },
            Terms::StaleActivationTimeout => t.activation_timeout_secs = t.activation_timeout_secs.wrapping_add(1),
            Terms::StaleDisputeTimeout => t.dispute_timeout_secs = t.dispute_timeout_secs.wrapping_sub(1),
            Terms::StaleMaxRental => t.max_rental_secs = t.max_rental_secs.wrapping_sub(1),
        }
        let req = ix::OpenRequest {
            renter: self.pk(renter),
            listing: ml.key,
            mint: self.w.mints[mint],
            token_program: self.w.tps[mint],
            rental_id,
            deposit,
            terms: t,
            access: ix::AccessRequest { recipient: [7; 32], ssh_key: SSH_KEY.to_vec() },
        };
        let open = self.w.open_ix(&req);
        let prediction = (|| {
            let tok = m.tokens[renter][mint];
            let mut e: Vec<&'static str> = Vec::new();
            if !ml.exists || !tok.open {
                e.push(ANI);
            }
            if m.config.paused {
                e.push("MarketPaused");
            }
            if l.paused {
                e.push("ListingPaused");
            }
            if l.active_rentals >= l.capacity {
                e.push("ListingAtCapacity");
            }
            if ml.provider == renter {
                e.push("SelfRental");
            }
            if rental_id != l.rentals_opened {
                e.push("StaleRentalId");
            }
            let now_terms = RentalTerms {
                price_per_hour: l.price_per_hour,
                heartbeat_interval_secs: l.heartbeat_interval_secs,
                fee_bps: m.config.fee_bps,
                activation_timeout_secs: m.config.activation_timeout_secs,
                dispute_timeout_secs: m.config.dispute_timeout_secs,
                max_rental_secs: l.max_rental_secs,
            };
            if t != now_terms {
                e.push("TermsChanged");
            }
            if m.accepted[mint].is_none() {
                e.push("MintNotAccepted");
            }
            if deposit == 0 {
                e.push("ZeroAmount");
            }
            duration_errors(&mut e, deposit, l.price_per_hour, l.min_rental_secs, l.max_rental_secs);
            if tok.frozen {
                e.push(TOKEN_FROZEN);
            }
            if tok.amount < deposit {
                e.push(TOKEN_INSUFFICIENT);
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = m.clone();
            let RentalPdas { rental, bump, access, access_bump, vault, vault_bump } = rental_pdas(&ml.key, rental_id);
            let r = Rental {
                renter: self.pk(renter),
                provider: l.provider,
                listing: ml.key,
                mint: l.mint,
                vault,
                rental_id,
                state: RentalState::Funded,
                price_per_hour: l.price_per_hour,
                fee_bps: m.config.fee_bps,
                heartbeat_interval_secs: l.heartbeat_interval_secs,
                max_rental_secs: l.max_rental_secs,
                activation_timeout_secs: m.config.activation_timeout_secs,
                dispute_timeout_secs: m.config.dispute_timeout_secs,
                deposited: deposit,
                provider_paid: 0,
                fee_paid: 0,
                refunded: 0,
                opened_at: m.now,
                activated_at: 0,
                end_at: 0,
                last_heartbeat: 0,
                ended_at: 0,
                billed_seconds: 0,
                dispute_opened_by: Pubkey::default(),
                dispute_reason: 0,
                dispute_opened_at: 0,
                dispute_locked: 0,
                provider_owed: 0,
                fee_owed: 0,
                renter_owed: 0,
                bump,
                vault_bump,
                access_bump,
                // The mint's minimum as the rental opens: a term of this rental from now on.
                min_counted_gross: m.accepted[mint].as_ref().expect("accepted").min_rated_gross,
                heartbeats: 0,
                rated: false,
                swept: 0,
            };
            let keys = RentalKeys {
                rental,
                listing: ml.key,
                renter: self.pk(renter),
                provider: l.provider,
                mint: self.w.mints[mint],
                token_program: self.w.tps[mint],
                vault,
                access,
            };
            n.tokens[renter][mint].amount -= deposit;
            n.listings[li].l.active_rentals += 1;
            n.listings[li].l.rentals_opened += 1;
            n.rentals.push(MRental {
                keys,
                access,
                listing: li,
                renter,
                provider: ml.provider,
                mint,
                r,
                exists: true,
                vault_open: true,
                vault: deposit,
                gifts: 0,
                gifts_total: 0,
                vault_frozen: false,
            });
            Ok((n, Expected::None))
        })();
        self.program_plan(vec![open], renter, prediction)
    }

    pub(super) fn plan_activate(&self, ri: usize, by: Who) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let accounts = acc::ActivateRental { provider: self.pk(caller), rental: mr.keys.rental, access: mr.access };
        let ixs = vec![program_ix(accounts, args::ActivateRental { sealed: SEALED.to_vec() })];
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists {
                e.push(ANI);
            }
            let (r, now) = (&mr.r, self.m.now);
            if caller != mr.provider {
                e.push("NotProvider");
            }
            if r.state != RentalState::Funded {
                e.push("RentalNotFunded");
            }
            if now >= r.activation_deadline() {
                e.push("ActivationExpired");
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            let r = &mut n.rentals[ri].r;
            r.state = RentalState::Active;
            r.activated_at = now;
            r.last_heartbeat = now;
            let secs = quote::seconds_for_deposit(r.deposited, r.price_per_hour).expect("price > 0");
            r.end_at = now + secs as i64;
            Ok((n, Expected::None))
        })();
        self.program_plan(ixs, caller, prediction)
    }

    pub(super) fn plan_heartbeat(&self, ri: usize, by: Who) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let accounts = acc::Heartbeat { provider: self.pk(caller), rental: mr.keys.rental };
        let ixs = vec![program_ix(accounts, args::Heartbeat {})];
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists {
                e.push(ANI);
            }
            let (r, now) = (&mr.r, self.m.now);
            if caller != mr.provider {
                e.push("NotProvider");
            }
            if r.state != RentalState::Active {
                e.push("RentalNotActive");
            }
            if r.heartbeat_interval_secs == 0 {
                e.push("NoHeartbeatSla");
            }
            if now >= r.end_at {
                e.push("RentalExpired");
            }
            if r.meter().sla_cut().is_some_and(|cut| now > cut) {
                e.push("SlaMissed");
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            // Recorded on the rental; the profile credits them at settlement, if it counts.
            if now > r.last_heartbeat {
                let nr = &mut n.rentals[ri].r;
                nr.last_heartbeat = now;
                nr.heartbeats += 1;
            }
            Ok((n, Expected::None))
        })();
        self.program_plan(ixs, caller, prediction)
    }

    pub(super) fn plan_claim(&self, ri: usize, by: Who, redirect: Redirect) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let treasury = self.m.treasury(self.w);
        let to = self.payees(ri, caller, redirect);
        let k = &mr.keys;
        let accounts = acc::Claim {
            provider: self.pk(caller),
            config: self.w.config,
            rental: k.rental,
            vault: k.vault,
            mint: k.mint,
            provider_token: self.account(to[1], mr.mint),
            treasury_token: self.account(to[2], mr.mint),
            token_program: k.token_program,
        };
        let claim = program_ix(accounts, args::Claim {});
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists {
                e.push(ANI);
            }
            if caller != mr.provider {
                e.push("NotProvider");
            }
            if !mr.vault_open {
                e.push(ANI);
            }
            if mr.r.state != RentalState::Active {
                e.push("RentalNotActive");
            }
            if !e.is_empty() {
                return Err(e);
            }
            // The SDK's quote of a claim now, from the state before.
            let due = mr.r.meter().claim_at(self.m.now).expect("claim_at");
            if due.provider_delta == 0 && due.fee_delta == 0 {
                return Err(vec!["NothingToClaim"]);
            }
            let mut n = self.m.clone();
            let (mut po, mut fo) = (mr.r.provider_owed, mr.r.fee_owed);
            n.pay_share(ri, caller, to[1], mr.provider, due.provider_delta, &mut po);
            let fee = n.pay_share(ri, caller, to[2], treasury, due.fee_delta, &mut fo);
            n.fee_received[treasury][mr.mint] += fee;
            let r = &mut n.rentals[ri].r;
            r.provider_paid += due.provider_delta;
            r.fee_paid += due.fee_delta;
            (r.provider_owed, r.fee_owed) = (po, fo);
            let expected = Expected::Claimed {
                provider_amount: due.provider_delta,
                fee_amount: due.fee_delta,
                provider_owed: po,
                fee_owed: fo,
            };
            Ok((n, expected))
        })();
        self.program_plan(vec![claim], caller, prediction)
    }

    pub(super) fn plan_top_up(&self, ri: usize, by: Who, amount: u64) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let k = &mr.keys;
        let accounts = acc::TopUp {
            renter: self.pk(caller),
            config: self.w.config,
            rental: k.rental,
            vault: k.vault,
            mint: k.mint,
            renter_token: self.ata(mr.renter, mr.mint),
            token_program: k.token_program,
        };
        let top_up = program_ix(accounts, args::TopUp { amount });
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists {
                e.push(ANI);
            }
            if caller != mr.renter {
                e.extend(["NotRenter", "ConstraintTokenOwner"]);
            }
            let tok = self.m.tokens[mr.renter][mr.mint];
            if !mr.vault_open || !tok.open {
                e.push(ANI);
            }
            let (r, now) = (&mr.r, self.m.now);
            if self.m.config.paused {
                e.push("MarketPaused");
            }
            if amount == 0 {
                e.push("ZeroAmount");
            }
            match r.state {
                RentalState::Funded if now < r.activation_deadline() => {}
                RentalState::Funded => e.push("ActivationExpired"),
                RentalState::Active if now < r.meter().billing_stops_at() => {}
                RentalState::Active => e.push("RentalExpired"),
                _ => e.push("RentalNotOpen"),
            }
            match r.deposited.checked_add(amount) {
                None => e.push("AmountOverflow"),
                Some(total) => duration_errors(&mut e, total, r.price_per_hour, 1, r.max_rental_secs),
            }
            if tok.frozen || mr.vault_frozen {
                e.push(TOKEN_FROZEN);
            }
            if tok.amount < amount {
                e.push(TOKEN_INSUFFICIENT);
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            n.tokens[mr.renter][mr.mint].amount -= amount;
            let nr = &mut n.rentals[ri];
            nr.vault += amount;
            nr.r.deposited += amount;
            if nr.r.state == RentalState::Active {
                let secs = quote::seconds_for_deposit(nr.r.deposited, nr.r.price_per_hour).expect("price > 0");
                nr.r.end_at = nr.r.activated_at + secs as i64;
            }
            Ok((n, Expected::None))
        })();
        self.program_plan(vec![top_up], caller, prediction)
    }
}

/// `check_duration`'s refusals for a deposit, from the SDK's `seconds_for_deposit`.
fn duration_errors(e: &mut Vec<&'static str>, deposit: u64, price: u64, min_secs: u32, max_secs: u32) {
    match quote::seconds_for_deposit(deposit, price) {
        Err(_) => e.push("AmountOverflow"),
        Ok(secs) => {
            if secs < min_secs as u64 {
                e.push("DepositBelowMinimum");
            }
            if secs > max_secs as u64 {
                e.push("DepositAboveMaximum");
            }
        }
    }
}
