//! The properties checked after every step: the event's figures, signed debits only, and the
//! chain's state against the model with conservation on the chain's own figures.
use anchor_lang::prelude::Pubkey;
use gpu_escrow::events::ListingUpdated;
use gpu_escrow_sdk::accounts::{self, ListingParams, Rental};
use gpu_escrow_sdk::receipts::{parse_logs, EscrowEvent};
use solana_account::ReadableAccount;

use super::account_data::{describe, memo_required, serialize, token_amount};
use super::fail::{fail, Fail};
use super::fixtures::{HOLDERS, MINT_NAMES, NAMES, PROVIDERS};
use super::op::Op;
use super::runner::Runner;
use super::snapshot::{s_ata, s_parking, s_rental, Snapshot, S_ACCEPTED, S_CONFIG, S_LISTINGS, S_MINTS, S_PROFILES};
use super::state::Expected;

impl Runner<'_> {
    /// Nobody's tokens go down unless it signed: only the signer of an open, a top-up or its
    /// own transfer may hold less afterwards. (Checked on the chain's balances, not the model's.)
    pub(super) fn check_debits(&self, op: &Op, before: &Snapshot, signer: Pubkey) -> Result<(), Fail> {
        for h in HOLDERS {
            for (mint, mint_name) in MINT_NAMES.iter().enumerate() {
                let (a, b) = (before.holdings(h, mint), self.snap.holdings(h, mint));
                if b < a && !(op.debits_signer() && self.w.pk[h] == signer) {
                    return Err(fail(
                        "balance decreased without its owner's signature",
                        format!("{}'s {mint_name} tokens went from {a} to {b}", NAMES[h]),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_event(&self, op: &Op, expected: &Expected, logs: &[String]) -> Result<(), Fail> {
        if *expected == Expected::None {
            return Ok(());
        }
        if let Expected::ListingUpdated(want) = expected {
            let got = listing_updated(logs);
            if got.as_ref() != Some(want) {
                return Err(fail(
                    "event figures differ from the SDK's",
                    format!("{op}: the program's ListingUpdated carries {got:?}; the model expects {want:?}"),
                ));
            }
            return Ok(());
        }
        let events = parse_logs(logs);
        let got = events.iter().find_map(|e| match (e, expected) {
            (EscrowEvent::Claimed(e), Expected::Claimed { .. }) => Some(Expected::Claimed {
                provider_amount: e.provider_amount,
                fee_amount: e.fee_amount,
                provider_owed: e.provider_owed,
                fee_owed: e.fee_owed,
            }),
            (EscrowEvent::Settled(e), Expected::Settled { .. }) => Some(Expected::Settled {
                billed_seconds: e.billed_seconds,
                provider_amount: e.provider_amount,
                fee_amount: e.fee_amount,
                refund_amount: e.refund_amount,
                swept: e.swept,
                owed: [e.provider_owed, e.fee_owed, e.renter_owed],
                ended_at: e.ended_at,
            }),
            (EscrowEvent::Cancelled(e), Expected::Cancelled { .. }) => Some(Expected::Cancelled {
                refunded: e.refunded,
                swept: e.swept,
                renter_owed: e.renter_owed,
                no_show: e.no_show,
                declined: e.declined,
            }),
            (EscrowEvent::Dispute(e), Expected::Dispute { .. }) => {
                Some(Expected::Dispute { locked: e.locked, refund_amount: e.refund_amount, renter_owed: e.renter_owed })
            }
            (EscrowEvent::Withdrawn(e), Expected::Withdrawn { .. }) => Some(Expected::Withdrawn {
                amount: e.amount,
                surplus: e.surplus,
                owed: [e.provider_owed, e.fee_owed, e.renter_owed],
                vault_closed: e.vault_closed,
            }),
            (EscrowEvent::Delivered(e), Expected::Delivered { .. }) => Some(Expected::Delivered {
                provider_amount: e.provider_amount,
                fee_amount: e.fee_amount,
                renter_amount: e.renter_amount,
                surplus: e.surplus,
                owed: [e.provider_owed, e.fee_owed, e.renter_owed],
                vault_closed: e.vault_closed,
            }),
            (EscrowEvent::Rated(e), Expected::Rated { .. }) => Some(Expected::Rated { rating: e.rating }),
            (EscrowEvent::Closed(e), Expected::Closed { .. }) => Some(Expected::Closed {
                settled: e.settled,
                deposited: e.deposited,
                provider_paid: e.provider_paid,
                fee_paid: e.fee_paid,
                refunded: e.refunded,
                swept: e.swept,
                billed_seconds: e.billed_seconds,
                ended_at: e.ended_at,
                rating: e.rating,
                rated_before: e.rated_before,
            }),
            _ => None,
        });
        if got.as_ref() != Some(expected) {
            return Err(fail(
                "event figures differ from the SDK's",
                format!("{op}: the program's event says {got:?}; the SDK's quote predicts {expected:?}"),
            ));
        }
        Ok(())
    }

    /// Compares the chain with the model and checks conservation on the chain's own figures.
    pub(super) fn check_state(&self) -> Result<(), Fail> {
        let (m, snap) = (&self.m, &self.snap);
        let differs = |what: String, got: Option<&[u8]>, want: Option<&[u8]>| {
            let msg = match (got, want) {
                (Some(a), Some(b)) => {
                    format!("{what} (chain vs model):\n{}", diff_lines(&describe(Some(a)), &describe(Some(b))))
                }
                _ => format!("{what}: chain {}, model {}", describe(got), describe(want)),
            };
            Err(fail("state differs from the model", msg))
        };
        let expect_account = |slot: usize, what: &dyn Fn() -> String, want: Option<Vec<u8>>| -> Result<(), Fail> {
            let got = snap.at(slot).map(|a| a.data());
            if got == want.as_deref() {
                Ok(())
            } else {
                differs(what(), got, want.as_deref())
            }
        };
        expect_account(S_CONFIG, &|| "config".into(), Some(serialize(&m.config)))?;
        for (i, p) in PROVIDERS.iter().enumerate() {
            expect_account(
                S_PROFILES + i,
                &|| format!("provider profile {}", NAMES[*p]),
                Some(serialize(&m.profiles[i])),
            )?;
        }
        for (i, a) in m.accepted.iter().enumerate() {
            expect_account(S_ACCEPTED + i, &|| format!("accepted {}", MINT_NAMES[i]), a.as_ref().map(serialize))?;
        }
        for (i, l) in m.listings.iter().enumerate() {
            expect_account(S_LISTINGS + i, &|| format!("listing L{i}"), l.exists.then(|| serialize(&l.l)))?;
        }
        for h in HOLDERS {
            for (mint, mint_name) in MINT_NAMES.iter().enumerate() {
                let t = &m.tokens[h][mint];
                let what = || format!("{}'s {mint_name} account", NAMES[h]);
                match snap.at(s_ata(h, mint)) {
                    None if !t.open => {}
                    Some(a) if t.open => {
                        let data = a.data();
                        let frozen = data[108] == 2;
                        let memo_on = t.memo_ext && memo_required(data);
                        if (token_amount(data), frozen, memo_on) != (t.amount, t.frozen, t.memo_on) {
                            return Err(fail(
                                "state differs from the model",
                                format!(
                                    "{}: chain (amount {}, frozen {frozen}, memo {memo_on}), model (amount {}, frozen {}, memo {})",
                                    what(),
                                    token_amount(data),
                                    t.amount,
                                    t.frozen,
                                    t.memo_on
                                ),
                            ));
                        }
                    }
                    got => {
                        return Err(fail(
                            "state differs from the model",
                            format!("{}: exists on chain {}, in the model {}", what(), got.is_some(), t.open),
                        ))
                    }
                }
                let parked = snap.amount(s_parking(h, mint));
                if parked != t.parking {
                    return Err(fail(
                        "state differs from the model",
                        format!(
                            "{}'s parked {} tokens: chain {parked}, model {}",
                            NAMES[h], MINT_NAMES[mint], t.parking
                        ),
                    ));
                }
            }
        }
        let mut supply = [0u64; 2];
        for h in HOLDERS {
            for (mint, s) in supply.iter_mut().enumerate() {
                *s += snap.holdings(h, mint);
            }
        }
        for (i, mr) in m.rentals.iter().enumerate() {
            let slot = s_rental(i);
            expect_account(slot, &|| format!("rental #{i}"), mr.exists.then(|| serialize(&mr.r)))?;
            if snap.at(slot + 1).is_some() != mr.exists {
                return Err(fail("state differs from the model", format!("rental #{i}: access account existence")));
            }
            let vault = snap.at(slot + 2);
            let vault_amount = snap.amount(slot + 2);
            let vault_frozen = vault.is_some_and(|v| v.data()[108] == 2);
            if (vault.is_some(), vault_amount, vault_frozen)
                != (mr.vault_open, mr.vault, mr.vault_frozen && mr.vault_open)
            {
                return Err(fail(
                    "state differs from the model",
                    format!(
                        "rental #{i}: vault on chain (open {}, {vault_amount}, frozen {vault_frozen}), model (open {}, {}, frozen {})",
                        vault.is_some(),
                        mr.vault_open,
                        mr.vault,
                        mr.vault_frozen
                    ),
                ));
            }
            supply[mr.mint] += vault_amount;
            // Conservation, on the chain's own ledger.
            if let Some(a) = snap.at(slot) {
                let r: Rental = accounts::decode(a.data()).map_err(|e| fail("undecodable rental", e.to_string()))?;
                let allotted = r.provider_paid as u128 + r.fee_paid as u128 + r.refunded as u128;
                let ended = r.is_ended();
                if allotted > r.deposited as u128 || (ended && allotted != r.deposited as u128) {
                    return Err(fail(
                        "conservation",
                        format!(
                            "rental #{i} ({:?}): provider_paid {} + fee_paid {} + refunded {} vs deposited {}",
                            r.state, r.provider_paid, r.fee_paid, r.refunded, r.deposited
                        ),
                    ));
                }
                let held = r.provider_owed as u128 + r.fee_owed as u128 + r.renter_owed as u128;
                let should = r.deposited as u128 - allotted + held + mr.gifts as u128;
                if vault.is_some() && vault_amount as u128 != should {
                    return Err(fail(
                        "conservation",
                        format!(
                            "rental #{i}: vault holds {vault_amount}, ledger says unallotted {} + held {held} + sent by strangers {}",
                            r.deposited as u128 - allotted,
                            mr.gifts
                        ),
                    ));
                }
                if vault.is_none() && (should != 0 || !ended) {
                    return Err(fail(
                        "conservation",
                        format!("rental #{i}: vault closed while it should hold {should}"),
                    ));
                }
                if vault.is_some() && ended && held == 0 {
                    return Err(fail(
                        "conservation",
                        format!("rental #{i}: ended with nothing held but its vault is open"),
                    ));
                }
            }
        }
        for (mint, s) in supply.iter().enumerate() {
            let on_chain = snap.at(S_MINTS + mint).map(|a| u64::from_le_bytes(a.data()[36..44].try_into().unwrap()));
            if *s != m.minted[mint] || on_chain != Some(m.minted[mint]) {
                return Err(fail(
                    "conservation",
                    format!(
                        "{} tokens in all accounts {s}, mint supply {on_chain:?}, minted {}",
                        MINT_NAMES[mint], m.minted[mint]
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The parameters a `ListingUpdated` event in `logs` carries (the transaction holds only the
/// program's own instruction, so every data line is the program's).
fn listing_updated(logs: &[String]) -> Option<ListingParams> {
    use anchor_lang::{AnchorDeserialize, Discriminator};
    use base64::Engine;
    logs.iter().filter_map(|l| l.strip_prefix("Program data: ")).find_map(|b64| {
        let data = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
        let body = data.strip_prefix(ListingUpdated::DISCRIMINATOR)?;
        ListingUpdated::deserialize(&mut &body[..]).ok().map(|e| e.params)
    })
}

/// The lines of two Debug renderings that differ.
fn diff_lines(chain: &str, model: &str) -> String {
    let mut out = String::new();
    for (a, b) in chain.lines().zip(model.lines()) {
        if a != b {
            out += &format!("  chain: {}\n  model: {}\n", a.trim(), b.trim());
        }
    }
    if out.is_empty() {
        out = format!("  chain: {chain}\n  model: {model}\n");
    }
    out
}
