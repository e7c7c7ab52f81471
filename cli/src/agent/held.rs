//! What a rental's vault holds for this provider, and wrapped SOL left in its wallet.
//!
//! A payout whose payee account cannot receive when it is paid (the provider's associated
//! token account was closed or never made, is frozen by the mint's issuer, or requires
//! memos) stays in the rental's vault as `provider_owed`, also in rentals that ended and
//! that the renter cannot close while something is held. Each round, after its claims and
//! finalizes, the agent looks at every rental of the provider (whatever its listing or
//! state) that holds something for it, by mint:
//! - the account is missing: it is created (idempotently, paid by the provider) and the
//!   shares withdrawn into it (`withdraw_owed`) in the same transaction;
//! - it can receive: the shares are withdrawn into it;
//! - it exists but cannot receive: nothing is sent; the reason is recorded (`agent status`)
//!   and the account looked at again every [`BLOCKED_RECHECK_SECS`].
//!
//! A withdrawal that fails is tried again after a backoff ([`retry_after`]). Then, for a
//! provider with a SOL listing or SOL rentals and unless told to keep it (`keep_wrapped_sol`,
//! or `--keep-wsol`), the provider's wrapped-SOL account, if it holds anything, is closed to
//! the wallet so payouts arrive as SOL, and reopened empty
//! in the same transaction while others' transactions may still pay into it (an open SOL
//! rental, a SOL listing, or the provider is the treasury): so no payout ever finds it
//! missing because of the agent, and it is never closed between a payout and its use.
use std::collections::{BTreeMap, HashMap, HashSet};

use gpu_escrow_sdk::accounts::{decode, Rental, RentalState};
use gpu_escrow_sdk::client::{ListingFilter, RawAccount};
use gpu_escrow_sdk::ix::{self, RentalKeys, NATIVE_MINT};
use gpu_escrow_sdk::{batch, pda, Instruction, Pubkey};
use serde_json::{json, Value};

use super::Agent;

/// How often an account that cannot receive is looked at again.
pub const BLOCKED_RECHECK_SECS: i64 = 30;
/// The first wait after a failed withdrawal or unwrap; it doubles up to [`RETRY_MAX_SECS`].
pub const RETRY_MIN_SECS: i64 = 30;
pub const RETRY_MAX_SECS: i64 = 600;

/// The classic SPL Token program, which wrapped SOL belongs to.
const TOKEN_PROGRAM: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
/// Both token programs keep an account's state byte here (after mint, owner, amount and
/// delegate); 2 is Frozen.
const STATE_OFFSET: usize = 108;
const FROZEN: u8 = 2;

/// The provider's associated token account for a mint, as the program will judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receiver {
    Missing,
    Ready,
    /// It exists but a payout into it would fail: why.
    Blocked(String),
}

/// Judges `account` (the provider's associated token account of `mint`) with the program's
/// own test (`gpu_escrow::token::can_receive`), and says why when it cannot receive.
pub fn receiver(
    address: &Pubkey,
    account: Option<&RawAccount>,
    mint: &Pubkey,
    owner: &Pubkey,
    token_program: &Pubkey,
) -> Receiver {
    let Some(a) = account else { return Receiver::Missing };
    // The system program's id is all zeros.
    if a.owner == Pubkey::default() && a.data.is_empty() {
        return Receiver::Missing; // lamports sent to the address, no account made yet
    }
    let (mut lamports, mut data) = (a.lamports, a.data.clone());
    let info = anchor_lang::prelude::AccountInfo::new(address, false, true, &mut lamports, &mut data, &a.owner, false);
    if gpu_escrow::token::can_receive(&info, mint, owner, token_program) {
        return Receiver::Ready;
    }
    let why = if a.owner != *token_program {
        format!("{address} is not a token account of the mint's token program")
    } else if a.data.get(STATE_OFFSET) == Some(&FROZEN) {
        "frozen by the mint's freeze authority (the issuer); it receives again once thawed".to_string()
    } else {
        "it does not take plain transfers (it requires a memo on incoming transfers, or takes \
         confidential transfers only); turn that off to receive"
            .to_string()
    };
    Receiver::Blocked(why)
}

/// A rental's share held for the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub rental: Pubkey,
    pub amount: u64,
}

/// What is held for `me` across `rentals`, by mint.
pub fn held_by_mint(rentals: &[(Pubkey, Rental)], me: &Pubkey) -> BTreeMap<Pubkey, Vec<Share>> {
    let mut out: BTreeMap<Pubkey, Vec<Share>> = BTreeMap::new();
    for (k, r) in rentals {
        if r.provider == *me && r.provider_owed > 0 {
            out.entry(r.mint).or_default().push(Share { rental: *k, amount: r.provider_owed });
        }
    }
    out
}

/// The wait after the `failures`-th failure in a row: 30 s, doubling, at most 10 min.
pub fn retry_after(failures: u32) -> i64 {
    (RETRY_MIN_SECS << failures.saturating_sub(1).min(5)).min(RETRY_MAX_SECS)
}

/// Why a mint's held shares are not being taken now, and when they are looked at again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    /// The account cannot receive (the reason); nothing is sent while it cannot.
    Blocked(String),
    /// The last withdrawal failed (its error), `failures` times in a row.
    Failed { error: String, failures: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintWait {
    pub why: Waiting,
    /// Cluster time before which nothing is read or sent for this mint.
    pub until: i64,
}

/// Per mint, what the agent is waiting for; and the same for unwrapping.
#[derive(Debug, Default)]
pub struct HeldBook {
    pub waits: HashMap<Pubkey, MintWait>,
    /// What was held after the last round, by mint (for `agent status`).
    pub view: BTreeMap<Pubkey, Vec<Share>>,
    /// Unwrapping failed this many times in a row; not tried again before `until`.
    pub unwrap_failures: u32,
    pub unwrap_until: i64,
    /// Whether the provider has a SOL listing (asked once, when it has no SOL rental): its
    /// wrapped-SOL account is looked at each round while it has either, so a provider that
    /// deals only in other tokens never has its wrapped SOL touched.
    pub sol_listing: Option<bool>,
    /// Decimals and label per mint, for what `agent status` shows.
    pub tokens: HashMap<Pubkey, (u8, String)>,
}

impl HeldBook {
    pub fn due(&self, mint: &Pubkey, now: i64) -> bool {
        self.waits.get(mint).is_none_or(|w| now >= w.until)
    }

    /// Records that `mint`'s account cannot receive; true when this is news (first seen, or
    /// for another reason), so the log says it once, not every look.
    pub fn blocked(&mut self, mint: Pubkey, reason: String, now: i64) -> bool {
        let news = !matches!(self.waits.get(&mint), Some(MintWait { why: Waiting::Blocked(r), .. }) if *r == reason);
        self.waits.insert(mint, MintWait { why: Waiting::Blocked(reason), until: now + BLOCKED_RECHECK_SECS });
        news
    }

    pub fn failed(&mut self, mint: Pubkey, error: String, now: i64) {
        let failures = match self.waits.get(&mint) {
            Some(MintWait { why: Waiting::Failed { failures, .. }, .. }) => failures + 1,
            _ => 1,
        };
        self.waits
            .insert(mint, MintWait { why: Waiting::Failed { error, failures }, until: now + retry_after(failures) });
    }

    /// The mint's shares moved (or none is held any more): nothing to wait for.
    pub fn clear(&mut self, mint: &Pubkey) {
        self.waits.remove(mint);
    }

    /// Forgets waits for mints that hold nothing any more (someone delivered them).
    pub fn keep_only(&mut self, held: &BTreeMap<Pubkey, Vec<Share>>) {
        self.waits.retain(|m, _| held.contains_key(m));
    }

    pub fn unwrap_failed(&mut self, now: i64) {
        self.unwrap_failures += 1;
        self.unwrap_until = now + retry_after(self.unwrap_failures);
    }

    pub fn unwrapped(&mut self) {
        self.unwrap_failures = 0;
        self.unwrap_until = 0;
    }

    /// `agent status`'s view: per mint, the total held, in how many rentals, into which
    /// account it goes, and why it is not there yet.
    pub fn status(&self, me: &Pubkey, token_programs: &HashMap<Pubkey, Pubkey>) -> Vec<Value> {
        self.view
            .iter()
            .map(|(mint, shares)| {
                let total: u64 = shares.iter().map(|s| s.amount).sum();
                let account = token_programs.get(mint).map(|tp| pda::ata(me, mint, tp).to_string());
                let (decimals, label) = self.tokens.get(mint).cloned().unwrap_or((0, format!("base units of {mint}")));
                let wait = self.waits.get(mint);
                let (state, reason) = match wait.map(|w| &w.why) {
                    None => ("withdrawing", None),
                    Some(Waiting::Blocked(why)) => ("cannot_receive", Some(why.clone())),
                    Some(Waiting::Failed { error, .. }) => ("retrying", Some(error.clone())),
                };
                json!({
                    "mint": mint.to_string(),
                    "token": label,
                    "amount": { "amount": total, "ui_amount": crate::amount::format(total, decimals) },
                    "rentals": shares.iter().map(|s| s.rental.to_string()).collect::<Vec<_>>(),
                    "account": account,
                    "state": state,
                    "reason": reason,
                    "next_attempt": wait.map(|w| crate::output::iso(w.until)),
                })
            })
            .collect()
    }
}

/// Whether others' transactions may still pay the provider in wrapped SOL, so its account
/// must be open: an open SOL rental, a SOL listing, or the provider is the treasury.
pub fn sol_still_paid_into(rentals: &[(Pubkey, Rental)], has_sol_listing: bool, is_treasury: bool) -> bool {
    is_treasury
        || has_sol_listing
        || rentals.iter().any(|(_, r)| {
            r.mint == NATIVE_MINT
                && matches!(r.state, RentalState::Funded | RentalState::Active | RentalState::Disputed)
        })
}

/// The provider's SOL listings, paused ones included.
fn sol_listings_of(me: &Pubkey) -> ListingFilter {
    ListingFilter { mint: Some(NATIVE_MINT), provider: Some(*me), include_paused: true, ..Default::default() }
}

/// The token amount in a token account's data (bytes 64..72 in both token programs).
pub fn token_amount(account: Option<&RawAccount>) -> u64 {
    account.and_then(|a| a.data.get(64..72)).map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

/// The instructions that take `shares` of one mint into the provider's account: created
/// first (idempotently) when it is missing, then one withdrawal per rental.
pub fn withdrawal_groups(me: &Pubkey, keys: &[RentalKeys], create_account: bool) -> Vec<Vec<Instruction>> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let mut group = Vec::new();
            if create_account && i == 0 {
                group.push(ix::ensure_own_account(me, k));
            }
            group.push(ix::withdraw_owed(me, k, &k.provider_token()));
            group
        })
        .collect()
}

impl Agent {
    /// Takes what is held for the provider and unwraps wrapped SOL (see the module doc).
    /// `rentals` are all of the provider's rentals as read at the start of the round.
    pub(super) async fn settle_held(&mut self, rentals: &[(Pubkey, Rental)], now: i64) {
        let held = held_by_mint(rentals, &self.me);
        self.held.keep_only(&held);
        let sol_rentals = rentals.iter().any(|(_, r)| r.mint == NATIVE_MINT);
        let unwrap = !self.cfg.keep_wrapped_sol && (sol_rentals || self.has_sol_listing().await);
        let due: Vec<Pubkey> = held.keys().filter(|m| self.held.due(m, now)).copied().collect();
        let mut view = held.clone();
        let wsol = pda::ata(&self.me, &NATIVE_MINT, &TOKEN_PROGRAM);

        // One read for all of it, after this round's claims and finalizes: the rentals again
        // (what they hold now), the provider's account for each due mint, its wrapped SOL.
        let mut addresses: Vec<Pubkey> = due.iter().flat_map(|m| held[m].iter().map(|s| s.rental)).collect();
        let mut accounts_of = Vec::new();
        for mint in &due {
            match self.token_program(mint).await {
                Ok(tp) => accounts_of.push((*mint, tp, pda::ata(&self.me, mint, &tp))),
                Err(e) => self.held.failed(*mint, e.to_string(), now),
            }
        }
        addresses.extend(accounts_of.iter().map(|(_, _, a)| *a));
        if unwrap {
            addresses.push(wsol);
        }
        if addresses.is_empty() {
            self.held.view = view;
            return;
        }
        let found = match self.client.accounts(&addresses).await {
            Ok(f) => f,
            Err(e) => {
                self.held.view = view;
                return self.fail(None, "held-read", e.to_string());
            }
        };
        let found: HashMap<Pubkey, Option<RawAccount>> = addresses.iter().copied().zip(found).collect();
        let mut wsol_credited = false;
        for (mint, tp, account) in accounts_of {
            // What each rental holds now: this round's payouts (a claim or finalize pays what
            // was held too) and anyone's `deliver_owed` may have taken it already.
            let mut now_held = Vec::new();
            for s in &held[&mint] {
                let fresh = found[&s.rental].as_ref().and_then(|a| decode::<Rental>(&a.data).ok());
                if let Some(r) = fresh.filter(|r| r.provider_owed > 0) {
                    now_held.push((Share { rental: s.rental, amount: r.provider_owed }, r));
                }
            }
            if now_held.is_empty() {
                view.remove(&mint);
                self.held.clear(&mint);
                continue;
            }
            view.insert(mint, now_held.iter().map(|(s, _)| *s).collect());
            self.load_token_label(&mint).await;
            let create = match receiver(&account, found[&account].as_ref(), &mint, &self.me, &tp) {
                Receiver::Blocked(why) => {
                    let total: u64 = now_held.iter().map(|(s, _)| s.amount).sum();
                    if self.held.blocked(mint, why.clone(), now) {
                        self.log.action(
                            "held-blocked",
                            None,
                            json!({
                                "mint": mint.to_string(), "account": account.to_string(), "amount": total,
                                "rentals": now_held.len(), "reason": why,
                            }),
                        );
                    }
                    continue;
                }
                Receiver::Missing => true,
                Receiver::Ready => false,
            };
            let keys: Vec<RentalKeys> =
                now_held.iter().map(|(s, r)| RentalKeys::from_rental(s.rental, r, tp)).collect();
            let amounts: Vec<Share> = now_held.iter().map(|(s, _)| *s).collect();
            let moved = self.send_withdrawals(mint, account, create, &keys, &amounts, now).await;
            if moved.is_empty() {
                continue;
            }
            wsol_credited |= mint == NATIVE_MINT;
            let left: Vec<Share> = amounts.into_iter().filter(|s| !moved.contains(&s.rental)).collect();
            if left.is_empty() {
                view.remove(&mint);
            } else {
                view.insert(mint, left);
            }
        }
        self.held.view = view;
        if unwrap {
            let mut amount = token_amount(found[&wsol].as_ref());
            if wsol_credited {
                amount = match self.client.accounts(&[wsol]).await {
                    Ok(mut a) => token_amount(a.pop().flatten().as_ref()),
                    Err(e) => return self.fail(None, "unwrap", e.to_string()),
                };
            }
            if amount > 0 && now >= self.held.unwrap_until {
                self.unwrap_sol(rentals, amount, now).await;
            }
        }
    }

    /// Sends the withdrawals of one mint in as few transactions as fit; returns the rentals
    /// whose shares moved.
    async fn send_withdrawals(
        &mut self,
        mint: Pubkey,
        account: Pubkey,
        create: bool,
        keys: &[RentalKeys],
        shares: &[Share],
        now: i64,
    ) -> HashSet<Pubkey> {
        let mut moved = HashSet::new();
        let mut next = 0;
        for tx in batch::pack(withdrawal_groups(&self.me, keys, create), &self.me) {
            // `pack` keeps groups whole and in order: this transaction holds the next `n`.
            let n = tx.iter().filter(|i| i.program_id == gpu_escrow_sdk::PROGRAM_ID).count();
            let these = &shares[next..next + n];
            next += n;
            match self.client.send(&tx, &self.signer, &[]).await {
                Ok(sig) => {
                    self.held.clear(&mint);
                    self.journal.counters.withdrawals += n as u64;
                    moved.extend(these.iter().map(|s| s.rental));
                    self.log.action(
                        "withdraw",
                        None,
                        json!({
                            "mint": mint.to_string(),
                            "to": account.to_string(),
                            "created_account": create,
                            "amount": these.iter().map(|s| s.amount).sum::<u64>(),
                            "rentals": these.iter().map(|s| s.rental.to_string()).collect::<Vec<_>>(),
                            "signature": sig.to_string(),
                        }),
                    );
                }
                Err(e) => {
                    self.held.failed(mint, e.to_string(), now);
                    self.fail(None, "withdraw", e.to_string());
                    break; // the rest waits for the retry too
                }
            }
        }
        self.save();
        moved
    }

    /// Closes the provider's wrapped-SOL account (holding `amount`) to its wallet, and
    /// reopens it empty in the same transaction while others may still pay into it.
    async fn unwrap_sol(&mut self, rentals: &[(Pubkey, Rental)], amount: u64, now: i64) {
        let reopen = match self.sol_still_paid_into(rentals).await {
            Ok(r) => r,
            Err(e) => {
                self.held.unwrap_failed(now);
                return self.fail(None, "unwrap", e.to_string());
            }
        };
        let mut ixs = vec![ix::unwrap_sol(&self.me)];
        if reopen {
            ixs.push(ix::create_ata_idempotent(&self.me, &self.me, &NATIVE_MINT, &TOKEN_PROGRAM));
        }
        match self.client.send(&ixs, &self.signer, &[]).await {
            Ok(sig) => {
                self.held.unwrapped();
                self.journal.counters.unwraps += 1;
                self.save();
                self.log.action(
                    "unwrap",
                    None,
                    json!({ "lamports": amount, "reopened": reopen, "signature": sig.to_string() }),
                );
            }
            Err(e) => {
                self.held.unwrap_failed(now);
                self.fail(None, "unwrap", e.to_string());
            }
        }
    }

    /// Whether the provider has a SOL listing, asked until the answer comes once.
    async fn has_sol_listing(&mut self) -> bool {
        if let Some(known) = self.held.sol_listing {
            return known;
        }
        match self.client.listings(&sol_listings_of(&self.me)).await {
            Ok(l) => *self.held.sol_listing.insert(!l.is_empty()),
            Err(_) => false,
        }
    }

    async fn sol_still_paid_into(&self, rentals: &[(Pubkey, Rental)]) -> Result<bool, gpu_escrow_sdk::SdkError> {
        if sol_still_paid_into(rentals, false, false) {
            return Ok(true);
        }
        let is_treasury = self.client.config().await?.treasury == self.me;
        let has_sol_listing = !self.client.listings(&sol_listings_of(&self.me)).await?.is_empty();
        Ok(sol_still_paid_into(rentals, has_sol_listing, is_treasury))
    }

    /// Decimals and label of `mint` for `agent status` (best effort: base units without).
    async fn load_token_label(&mut self, mint: &Pubkey) {
        if self.held.tokens.contains_key(mint) {
            return;
        }
        if let Ok(info) = self.client.mint_info(mint).await {
            let label = crate::amount::token_label(&mint.to_string(), info.symbol.as_deref());
            self.held.tokens.insert(*mint, (info.decimals, label));
        }
    }
}

/// The human lines of `agent status` for what is held (from its JSON rows).
pub fn status_lines(rows: &[Value]) -> String {
    if rows.is_empty() {
        return "\nheld:     nothing is held for you in any rental".into();
    }
    let mut out = String::new();
    for row in rows {
        let n = row["rentals"].as_array().map_or(0, Vec::len);
        let what = format!(
            "{} {} in {n} rental(s), for your account {}",
            row["amount"]["ui_amount"].as_str().unwrap_or("?"),
            row["token"].as_str().unwrap_or("?"),
            row["account"].as_str().unwrap_or("?"),
        );
        let state = match row["state"].as_str() {
            Some("cannot_receive") => format!(
                ": it cannot receive ({}); looked at again at {}",
                row["reason"].as_str().unwrap_or("?"),
                row["next_attempt"].as_str().unwrap_or("?")
            ),
            Some("retrying") => format!(
                ": the withdrawal failed ({}); tried again at {}",
                row["reason"].as_str().unwrap_or("?"),
                row["next_attempt"].as_str().unwrap_or("?")
            ),
            _ => ": being withdrawn".into(),
        };
        out.push_str(&format!("\nheld:     {what}{state}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rental(provider: Pubkey, mint: Pubkey, state: RentalState, owed: u64) -> Rental {
        Rental {
            renter: Pubkey::new_unique(),
            provider,
            listing: Pubkey::new_unique(),
            mint,
            vault: Pubkey::new_unique(),
            rental_id: 0,
            state,
            price_per_hour: 3_600_000,
            fee_bps: 250,
            heartbeat_interval_secs: 0,
            max_rental_secs: 86_400,
            activation_timeout_secs: 600,
            dispute_timeout_secs: 3_600,
            deposited: 600_000,
            provider_paid: 0,
            fee_paid: 0,
            refunded: 0,
            opened_at: 0,
            activated_at: 0,
            end_at: 0,
            last_heartbeat: 0,
            ended_at: 0,
            billed_seconds: 0,
            dispute_opened_by: Pubkey::default(),
            dispute_reason: 0,
            dispute_opened_at: 0,
            dispute_locked: 0,
            provider_owed: owed,
            fee_owed: 7,
            renter_owed: 9,
            bump: 255,
            vault_bump: 255,
            access_bump: 255,
            min_counted_gross: 0,
            heartbeats: 0,
            rated: false,
            swept: 0,
        }
    }

    /// A token account of `mint` for `owner` in the classic SPL Token layout.
    fn token_account(mint: &Pubkey, owner: &Pubkey, amount: u64, state: u8) -> RawAccount {
        let mut data = vec![0u8; 165];
        data[..32].copy_from_slice(mint.as_ref());
        data[32..64].copy_from_slice(owner.as_ref());
        data[64..72].copy_from_slice(&amount.to_le_bytes());
        data[STATE_OFFSET] = state;
        RawAccount { owner: TOKEN_PROGRAM, lamports: 2_039_280, data, executable: false }
    }

    #[test]
    fn held_shares_are_found_in_every_state_and_grouped_by_mint() {
        let (me, a, b) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
        let rentals: Vec<(Pubkey, Rental)> = [
            rental(me, a, RentalState::Settled, 5),
            rental(me, a, RentalState::Cancelled, 6),
            rental(me, b, RentalState::Active, 7),
            rental(me, b, RentalState::Settled, 0), // nothing held for it
            rental(Pubkey::new_unique(), a, RentalState::Settled, 8), // someone else's
        ]
        .into_iter()
        .map(|r| (Pubkey::new_unique(), r))
        .collect();
        let held = held_by_mint(&rentals, &me);
        let amounts = |m: &Pubkey| held[m].iter().map(|s| s.amount).collect::<Vec<_>>();
        assert_eq!((amounts(&a), amounts(&b)), (vec![5, 6], vec![7]));
        assert_eq!(held[&a][0].rental, rentals[0].0);
    }

    #[test]
    fn the_providers_account_is_judged_as_the_program_judges_it() {
        let (me, mint) = (Pubkey::new_unique(), Pubkey::new_unique());
        let ata = pda::ata(&me, &mint, &TOKEN_PROGRAM);
        let judge = |a: Option<&RawAccount>| receiver(&ata, a, &mint, &me, &TOKEN_PROGRAM);
        assert_eq!(judge(None), Receiver::Missing);
        let funded_only = RawAccount { owner: Pubkey::default(), lamports: 5, data: vec![], executable: false };
        assert_eq!(judge(Some(&funded_only)), Receiver::Missing);
        assert_eq!(judge(Some(&token_account(&mint, &me, 0, 1))), Receiver::Ready);
        let Receiver::Blocked(why) = judge(Some(&token_account(&mint, &me, 0, FROZEN))) else { panic!("frozen") };
        assert!(why.contains("frozen"), "{why}");
        let Receiver::Blocked(why) = judge(Some(&token_account(&Pubkey::new_unique(), &me, 0, 1))) else {
            panic!("another mint's account cannot receive this one")
        };
        assert!(why.contains("plain transfers"), "{why}");
        let mut foreign = token_account(&mint, &me, 0, 1);
        foreign.owner = Pubkey::new_unique();
        assert!(matches!(judge(Some(&foreign)), Receiver::Blocked(w) if w.contains("not a token account")));
    }

    #[test]
    fn a_blocked_account_is_looked_at_slowly_and_logged_once_per_reason() {
        let mint = Pubkey::new_unique();
        let mut book = HeldBook::default();
        assert!(book.due(&mint, 0));
        assert!(book.blocked(mint, "frozen".into(), 100), "news the first time");
        assert!(!book.due(&mint, 100 + BLOCKED_RECHECK_SECS - 1), "nothing read or sent before the recheck");
        assert!(book.due(&mint, 100 + BLOCKED_RECHECK_SECS));
        assert!(!book.blocked(mint, "frozen".into(), 130), "the same reason is not news");
        assert!(book.blocked(mint, "memo".into(), 160), "another reason is");
        book.clear(&mint);
        assert!(book.due(&mint, 161));
    }

    #[test]
    fn failed_withdrawals_back_off_up_to_ten_minutes() {
        assert_eq!((1..=7).map(retry_after).collect::<Vec<_>>(), vec![30, 60, 120, 240, 480, 600, 600]);
        let mint = Pubkey::new_unique();
        let mut book = HeldBook::default();
        book.failed(mint, "boom".into(), 1_000);
        book.failed(mint, "boom".into(), 1_030);
        assert_eq!(book.waits[&mint].until, 1_090, "the second failure waits 60 s");
        assert!(!book.due(&mint, 1_089) && book.due(&mint, 1_090));
        // A mint whose shares someone else delivered is forgotten.
        book.keep_only(&BTreeMap::new());
        assert!(book.waits.is_empty());
        book.unwrap_failed(50);
        book.unwrap_failed(80);
        assert_eq!(book.unwrap_until, 140);
        book.unwrapped();
        assert_eq!((book.unwrap_failures, book.unwrap_until), (0, 0));
    }

    #[test]
    fn wrapped_sol_stays_open_while_others_may_pay_into_it() {
        let me = Pubkey::new_unique();
        let other = Pubkey::new_unique();
        let with = |state| vec![(Pubkey::new_unique(), rental(me, NATIVE_MINT, state, 0))];
        assert!(!sol_still_paid_into(&with(RentalState::Settled), false, false), "ended: closed for good");
        for open in [RentalState::Funded, RentalState::Active, RentalState::Disputed] {
            assert!(sol_still_paid_into(&with(open), false, false), "{open:?}");
        }
        let token_rental = vec![(Pubkey::new_unique(), rental(me, other, RentalState::Active, 0))];
        assert!(!sol_still_paid_into(&token_rental, false, false), "another token's rental pays elsewhere");
        assert!(sol_still_paid_into(&[], true, false), "a SOL listing");
        assert!(sol_still_paid_into(&[], false, true), "the treasury");
        assert_eq!(token_amount(Some(&token_account(&NATIVE_MINT, &me, 42, 1))), 42);
        assert_eq!(token_amount(None), 0);
    }

    #[test]
    fn a_missing_account_is_created_once_before_the_withdrawals_that_need_it() {
        let me = Pubkey::new_unique();
        let keys: Vec<RentalKeys> = (0..3)
            .map(|i| RentalKeys::new(Pubkey::new_unique(), Pubkey::new_unique(), i, me, NATIVE_MINT, TOKEN_PROGRAM))
            .collect();
        let groups = withdrawal_groups(&me, &keys, true);
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 1, 1]);
        let ata = pda::ata(&me, &NATIVE_MINT, &TOKEN_PROGRAM);
        assert!(groups[0][0].accounts.iter().any(|a| a.pubkey == ata), "the provider's own account is created");
        assert_eq!(groups[0][1], ix::withdraw_owed(&me, &keys[0], &ata));
        assert!(withdrawal_groups(&me, &keys, false).iter().all(|g| g.len() == 1));
        // One transaction for all three: create + withdrawals fit, and the budget covers them.
        let txs = batch::pack(groups, &me);
        assert_eq!(txs.len(), 1);
    }

    #[test]
    fn status_says_what_is_held_where_and_why_it_is_not_there_yet() {
        let (me, mint) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut book = HeldBook::default();
        assert_eq!(
            status_lines(&book.status(&me, &HashMap::new())),
            "\nheld:     nothing is held for you in any rental"
        );
        let r = Pubkey::new_unique();
        book.view.insert(mint, vec![Share { rental: r, amount: 1_500_000 }, Share { rental: r, amount: 250_000 }]);
        book.tokens.insert(mint, (6, "tok:Abcd".into()));
        let tps = HashMap::from([(mint, TOKEN_PROGRAM)]);
        book.blocked(mint, "frozen by the mint's freeze authority".into(), 1_000);
        let rows = book.status(&me, &tps);
        assert_eq!(rows[0]["amount"], json!({ "amount": 1_750_000u64, "ui_amount": "1.75" }));
        assert_eq!(
            (rows[0]["state"].as_str(), rows[0]["rentals"].as_array().unwrap().len()),
            (Some("cannot_receive"), 2)
        );
        assert_eq!(rows[0]["account"], pda::ata(&me, &mint, &TOKEN_PROGRAM).to_string());
        let text = status_lines(&rows);
        assert!(text.contains("1.75 tok:Abcd in 2 rental(s)") && text.contains("cannot receive (frozen"), "{text}");
        book.clear(&mint);
        assert!(status_lines(&book.status(&me, &tps)).ends_with("being withdrawn"));
    }
}
