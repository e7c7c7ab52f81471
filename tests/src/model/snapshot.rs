//! The chain's tracked accounts at one moment ([`Snapshot`]): their fixed slots, how a runner
//! takes a snapshot, and which accounts two snapshots disagree on.
use anchor_lang::prelude::Pubkey;
use solana_account::{AccountSharedData, ReadableAccount};

use super::account_data::token_amount;
use super::fixtures::{HOLDERS, LISTINGS, P0, P1};
use super::runner::Runner;
use super::world::World;

/// Every tracked account as the chain holds it (`None` once closed), in a fixed order: the
/// config, the mints, the provider profiles, the listings, each holder's four token accounts,
/// then each rental's account, access account and vault (see the `S_*` slots).
#[derive(Clone, PartialEq)]
pub(super) struct Snapshot(pub(super) Vec<Option<AccountSharedData>>);

pub(super) const S_CONFIG: usize = 0;
pub(super) const S_MINTS: usize = 1;
pub(super) const S_PROFILES: usize = 3;
pub(super) const S_ACCEPTED: usize = 5;
pub(super) const S_LISTINGS: usize = 7;
const S_TOKENS: usize = S_LISTINGS + LISTINGS.len();
const S_RENTALS: usize = S_TOKENS + 4 * HOLDERS.len();

fn holder_pos(h: usize) -> usize {
    HOLDERS.iter().position(|x| *x == h).expect("a token holder")
}

pub(super) fn s_ata(h: usize, mint: usize) -> usize {
    S_TOKENS + 4 * holder_pos(h) + mint
}

pub(super) fn s_parking(h: usize, mint: usize) -> usize {
    S_TOKENS + 4 * holder_pos(h) + 2 + mint
}

/// The rental's own slot; its access account and vault follow.
pub(super) fn s_rental(i: usize) -> usize {
    S_RENTALS + 3 * i
}

impl World {
    /// The addresses of the snapshot's fixed slots.
    pub(super) fn static_keys(&self) -> Vec<Pubkey> {
        let mut keys = vec![self.config, self.mints[0], self.mints[1], self.profiles[P0], self.profiles[P1]];
        keys.extend(self.accepted_mints);
        keys.extend(self.initial.listings.iter().map(|l| l.key));
        for h in HOLDERS {
            keys.extend(self.atas[h]);
            keys.extend(self.parkings[h]);
        }
        keys
    }
}

impl Snapshot {
    pub(super) fn at(&self, slot: usize) -> Option<&AccountSharedData> {
        self.0.get(slot).and_then(|a| a.as_ref())
    }

    pub(super) fn amount(&self, slot: usize) -> u64 {
        self.at(slot).map(|a| token_amount(a.data())).unwrap_or(0)
    }

    /// Tokens a wallet holds of a mint (its ATA and its parking account), as the chain says.
    pub(super) fn holdings(&self, h: usize, mint: usize) -> u64 {
        self.amount(s_ata(h, mint)) + self.amount(s_parking(h, mint))
    }
}

impl Runner<'_> {
    pub(super) fn snapshot(&self) -> Snapshot {
        let db = &self.svm.accounts_db().inner;
        let get = |k: &Pubkey| db.get(k).filter(|a| a.lamports() > 0).cloned();
        let mut accounts: Vec<Option<AccountSharedData>> = self.w.static_keys.iter().map(get).collect();
        for r in &self.m.rentals {
            accounts.extend([get(&r.keys.rental), get(&r.access), get(&r.keys.vault)]);
        }
        Snapshot(accounts)
    }

    pub(super) fn diff(&self, before: &Snapshot) -> String {
        let mut out = String::new();
        let keys: Vec<Pubkey> = self
            .w
            .static_keys
            .iter()
            .copied()
            .chain(self.m.rentals.iter().flat_map(|r| [r.keys.rental, r.access, r.keys.vault]))
            .collect();
        for ((a, b), k) in before.0.iter().zip(self.snap.0.iter()).zip(keys) {
            if a != b {
                out += &format!(
                    "account {k} changed: lamports {:?} -> {:?}\n",
                    a.as_ref().map(|a| a.lamports()),
                    b.as_ref().map(|b| b.lamports())
                );
            }
        }
        out
    }
}
