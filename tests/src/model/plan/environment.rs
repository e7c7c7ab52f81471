//! Planning what happens around the program: a stranger sending tokens to a vault, the issuer
//! freezing and thawing accounts, and wallets closing, reopening or requiring memos on theirs.
//! Each is planned only when it must succeed.
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow_sdk::ix;

use super::Plan;
use crate::model::fixtures::{ADMIN, STRANGER};
use crate::model::runner::Runner;
use crate::model::state::{Expected, MToken, Model};
use crate::svm::{DECIMALS, TOKEN_2022};

impl Runner<'_> {
    fn env_plan(&self, ixs: Vec<Instruction>, payer: usize, n: Model) -> Option<Plan> {
        Some(Plan { ixs, payer: self.pk(payer), prediction: Ok((n, Expected::None)) })
    }

    pub(super) fn plan_gift(&self, ri: usize, amount: u64) -> Option<Plan> {
        let mr = &self.m.rentals[ri];
        let s = self.m.tokens[STRANGER][mr.mint];
        if !mr.vault_open || mr.vault_frozen || !s.open || s.frozen || s.amount < amount || amount == 0 {
            return None;
        }
        let (mint, tp) = (self.w.mints[mr.mint], self.w.tps[mr.mint]);
        let ix = t22::instruction::transfer_checked(
            &tp,
            &self.w.atas[STRANGER][mr.mint],
            &mint,
            &mr.keys.vault,
            &self.pk(STRANGER),
            &[],
            amount,
            DECIMALS,
        )
        .unwrap();
        let mut n = self.m.clone();
        n.tokens[STRANGER][mr.mint].amount -= amount;
        let nr = &mut n.rentals[ri];
        nr.vault += amount;
        nr.gifts += amount;
        nr.gifts_total += amount;
        self.env_plan(vec![ix], STRANGER, n)
    }

    pub(super) fn plan_freeze_vault(&self, ri: usize, frozen: bool) -> Option<Plan> {
        let mr = &self.m.rentals[ri];
        if !mr.vault_open || mr.vault_frozen == frozen {
            return None;
        }
        let (tp, m, admin) = (&self.w.tps[mr.mint], &self.w.mints[mr.mint], &self.pk(ADMIN));
        let v = &mr.keys.vault;
        let ix = if frozen {
            t22::instruction::freeze_account(tp, v, m, admin, &[])
        } else {
            t22::instruction::thaw_account(tp, v, m, admin, &[])
        };
        let mut n = self.m.clone();
        n.rentals[ri].vault_frozen = frozen;
        self.env_plan(vec![ix.unwrap()], ADMIN, n)
    }

    pub(super) fn plan_freeze(&self, wallet: usize, mint: usize, frozen: bool) -> Option<Plan> {
        let t = self.m.tokens[wallet][mint];
        if !t.open || t.frozen == frozen {
            return None;
        }
        let (tp, m, admin) = (&self.w.tps[mint], &self.w.mints[mint], &self.pk(ADMIN));
        let ata = &self.w.atas[wallet][mint];
        let ix = if frozen {
            t22::instruction::freeze_account(tp, ata, m, admin, &[])
        } else {
            t22::instruction::thaw_account(tp, ata, m, admin, &[])
        };
        let mut n = self.m.clone();
        n.tokens[wallet][mint].frozen = frozen;
        self.env_plan(vec![ix.unwrap()], ADMIN, n)
    }

    pub(super) fn plan_close_ata(&self, wallet: usize, mint: usize) -> Option<Plan> {
        let t = self.m.tokens[wallet][mint];
        if !t.open || t.frozen {
            return None;
        }
        let (tp, m, owner) = (&self.w.tps[mint], &self.w.mints[mint], &self.pk(wallet));
        let (ata, parking) = (&self.w.atas[wallet][mint], &self.w.parkings[wallet][mint]);
        let mut ixs = Vec::new();
        if t.amount > 0 {
            ixs.push(t22::instruction::transfer_checked(tp, ata, m, parking, owner, &[], t.amount, DECIMALS).unwrap());
        }
        ixs.push(t22::instruction::close_account(tp, ata, owner, owner, &[]).unwrap());
        let mut n = self.m.clone();
        n.tokens[wallet][mint] = MToken { parking: t.parking + t.amount, ..MToken::default() };
        self.env_plan(ixs, wallet, n)
    }

    pub(super) fn plan_reopen_ata(&self, wallet: usize, mint: usize) -> Option<Plan> {
        let t = self.m.tokens[wallet][mint];
        if t.open {
            return None;
        }
        let (tp, m, owner) = (&self.w.tps[mint], &self.w.mints[mint], &self.pk(wallet));
        let (ata, parking) = (&self.w.atas[wallet][mint], &self.w.parkings[wallet][mint]);
        let mut ixs = vec![ix::create_ata_idempotent(owner, owner, m, tp)];
        if t.parking > 0 {
            ixs.push(t22::instruction::transfer_checked(tp, parking, m, ata, owner, &[], t.parking, DECIMALS).unwrap());
        }
        let mut n = self.m.clone();
        n.tokens[wallet][mint] = MToken { open: true, amount: t.parking, ..MToken::default() };
        self.env_plan(ixs, wallet, n)
    }

    pub(super) fn plan_memo(&self, wallet: usize, on: bool) -> Option<Plan> {
        let t = self.m.tokens[wallet][1];
        if !t.open || t.frozen || t.memo_on == on {
            return None;
        }
        let (owner, ata) = (&self.pk(wallet), &self.w.atas[wallet][1]);
        let mut ixs = Vec::new();
        if on && !t.memo_ext {
            let ext = [t22::extension::ExtensionType::MemoTransfer];
            ixs.push(t22::instruction::reallocate(&TOKEN_2022, ata, owner, owner, &[], &ext).unwrap());
        }
        ixs.push(
            if on {
                t22::extension::memo_transfer::instruction::enable_required_transfer_memos(&TOKEN_2022, ata, owner, &[])
            } else {
                t22::extension::memo_transfer::instruction::disable_required_transfer_memos(
                    &TOKEN_2022,
                    ata,
                    owner,
                    &[],
                )
            }
            .unwrap(),
        );
        let mut n = self.m.clone();
        n.tokens[wallet][1].memo_ext = true;
        n.tokens[wallet][1].memo_on = on;
        self.env_plan(ixs, wallet, n)
    }
}
