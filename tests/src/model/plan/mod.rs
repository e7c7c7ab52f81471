//! Planning a step: the transaction an operation sends and the outcome the model predicts for
//! it (the state after success, or the errors it may fail with). The operations themselves are
//! planned by kind: `rental` (open to top-up), `settlement` (what pays out of a vault and ends
//! a rental), `environment` (the issuer and the wallets acting on token accounts) and `market`
//! (listings, the admin's config and mints).
mod environment;
mod market;
mod rental;
mod settlement;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use gpu_escrow_sdk::pda;

use crate::model::fixtures::{ADMIN, P0, P1, STRANGER};
use crate::model::op::{Op, Redirect, Who};
use crate::model::runner::Runner;
use crate::model::state::{Expected, Holder, Model};
use market::ListingAction;
use settlement::SettleKind;

const ANI: &str = "AccountNotInitialized";
/// Names the model gives the token programs' own refusals.
pub const TOKEN_FROZEN: &str = "token: account frozen";
pub const TOKEN_INSUFFICIENT: &str = "InsufficientTokens";

/// Outcome the model predicts: the state after success, or the errors it may fail with.
type Prediction = Result<(Model, Expected), Vec<&'static str>>;

/// A transaction to send and its predicted outcome. Environment actions (the issuer freezing,
/// a wallet closing its account...) are planned only when they must succeed.
pub(super) struct Plan {
    pub(super) ixs: Vec<Instruction>,
    pub(super) payer: Pubkey,
    pub(super) prediction: Prediction,
}

impl Runner<'_> {
    fn pk(&self, w: usize) -> Pubkey {
        self.w.pk[w]
    }

    pub(super) fn who(&self, who: Who, ri: usize) -> usize {
        let r = &self.m.rentals[ri];
        match who {
            Who::Renter => r.renter,
            Who::Provider => r.provider,
            Who::OtherProvider => {
                if r.provider == P0 {
                    P1
                } else {
                    P0
                }
            }
            Who::Arbiter => self.m.arbiter(self.w),
            Who::Treasury => self.m.treasury(self.w),
            Who::Stranger => STRANGER,
        }
    }

    /// Which token accounts go in the renter, provider and treasury slots.
    fn payees(&self, ri: usize, caller: usize, redirect: Redirect) -> [Holder; 3] {
        let r = &self.m.rentals[ri];
        let payees = [r.renter, r.provider, self.m.treasury(self.w)];
        let mut to = payees.map(Holder::ata);
        for (slot, payee) in payees.into_iter().enumerate() {
            match redirect {
                Redirect::None => {}
                Redirect::Renter if slot == 0 => to[slot] = Holder::ata(caller),
                Redirect::Provider if slot == 1 => to[slot] = Holder::ata(caller),
                Redirect::Treasury if slot == 2 => to[slot] = Holder::ata(caller),
                Redirect::OwnToParking if payee == caller => to[slot] = Holder { wallet: caller, parking: true },
                Redirect::OwnToStranger if payee == caller => to[slot] = Holder::ata(STRANGER),
                _ => {}
            }
        }
        to
    }

    /// The address of a token account of the rental's mint.
    fn account(&self, h: Holder, mint: usize) -> Pubkey {
        if h.parking {
            self.w.parkings[h.wallet][mint]
        } else {
            self.ata(h.wallet, mint)
        }
    }

    fn ata(&self, w: usize, mint: usize) -> Pubkey {
        if w == ADMIN {
            pda::ata(&self.w.pk[w], &self.w.mints[mint], &self.w.tps[mint])
        } else {
            self.w.atas[w][mint]
        }
    }

    pub(super) fn plan(&self, op: &Op) -> Option<Plan> {
        let rental = |i: usize| (i < self.m.rentals.len()).then_some(i);
        match *op {
            Op::Open { renter, listing, deposit, terms, id_offset } => {
                Some(self.plan_open(renter, listing, deposit, terms, id_offset))
            }
            Op::Activate { rental: i, by } => rental(i).map(|ri| self.plan_activate(ri, by)),
            Op::Heartbeat { rental: i, by } => rental(i).map(|ri| self.plan_heartbeat(ri, by)),
            Op::Claim { rental: i, by, redirect } => rental(i).map(|ri| self.plan_claim(ri, by, redirect)),
            Op::TopUp { rental: i, by, amount } => rental(i).map(|ri| self.plan_top_up(ri, by, amount)),
            Op::Stop { rental: i, by, redirect } => {
                rental(i).map(|ri| self.plan_settle(ri, by, redirect, SettleKind::Stop))
            }
            Op::Finalize { rental: i, by, redirect } => {
                rental(i).map(|ri| self.plan_settle(ri, by, redirect, SettleKind::Finalize))
            }
            Op::Resolve { rental: i, by, permille, redirect } => {
                rental(i).map(|ri| self.plan_settle(ri, by, redirect, SettleKind::Resolve(permille)))
            }
            Op::ResolveExpired { rental: i, by, redirect } => {
                rental(i).map(|ri| self.plan_settle(ri, by, redirect, SettleKind::ResolveExpired))
            }
            Op::Cancel { rental: i, by, redirect } => {
                rental(i).map(|ri| self.plan_unactivated(ri, by, redirect, false))
            }
            Op::Decline { rental: i, by, redirect } => {
                rental(i).map(|ri| self.plan_unactivated(ri, by, redirect, true))
            }
            Op::Dispute { rental: i, by, redirect } => rental(i).map(|ri| self.plan_dispute(ri, by, redirect)),
            Op::Close { rental: i, by, rating } => rental(i).map(|ri| self.plan_close(ri, by, rating)),
            Op::Rate { rental: i, by, rating } => rental(i).map(|ri| self.plan_rate(ri, by, rating)),
            Op::Withdraw { rental: i, by, dest } => rental(i).and_then(|ri| self.plan_withdraw(ri, by, dest)),
            Op::Deliver { rental: i, by, redirect } => rental(i).map(|ri| self.plan_deliver(ri, by, redirect)),
            Op::Gift { rental: i, amount } => rental(i).and_then(|ri| self.plan_gift(ri, amount)),
            Op::Freeze { wallet, mint, frozen } => self.plan_freeze(wallet, mint, frozen),
            Op::FreezeVault { rental: i, frozen } => rental(i).and_then(|ri| self.plan_freeze_vault(ri, frozen)),
            Op::CloseAta { wallet, mint } => self.plan_close_ata(wallet, mint),
            Op::ReopenAta { wallet, mint } => self.plan_reopen_ata(wallet, mint),
            Op::Memo { wallet, on } => self.plan_memo(wallet, on),
            Op::UpdateListing { listing, by_owner, ref params } => {
                Some(self.plan_listing(listing, by_owner, ListingAction::Update(params.clone())))
            }
            Op::PauseListing { listing, by_owner, paused } => {
                Some(self.plan_listing(listing, by_owner, ListingAction::Pause(paused)))
            }
            Op::CloseListing { listing, by_owner } => Some(self.plan_listing(listing, by_owner, ListingAction::Close)),
            Op::SetPaused { by_admin, paused } => Some(self.plan_set_paused(by_admin, paused)),
            Op::SetMintAccepted { mint, accepted, min_rated_gross } => {
                Some(self.plan_mint_accepted(mint, accepted, min_rated_gross))
            }
            Op::SetConfig { fee_bps, activation_timeout, dispute_timeout, treasury, arbiter } => {
                Some(self.plan_config(fee_bps, activation_timeout, dispute_timeout, treasury, arbiter))
            }
            Op::Advance { .. } => None,
        }
    }

    fn program_plan(&self, ixs: Vec<Instruction>, payer: usize, prediction: Prediction) -> Plan {
        let prediction = match prediction {
            Ok((n, _)) if n.failure.is_some() => Err(vec![n.failure.unwrap()]),
            p => p,
        };
        Plan { ixs, payer: self.pk(payer), prediction }
    }
}
