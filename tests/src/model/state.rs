//! The model's state ([`Model`]): what it expects of every account, and the program's payout
//! rules (`Vault::pay_share`, `Settle::payout_and_close`, `EndUnactivated::refund_all`) applied
//! to it; and the figures an instruction's event must carry ([`Expected`]).
use anchor_lang::prelude::Pubkey;
use gpu_escrow_sdk::accounts::{AcceptedMint, Config, Listing, ListingParams, Provider, Rental, RentalState};
use gpu_escrow_sdk::ix::RentalKeys;
use gpu_escrow_sdk::quote::Settlement;

use super::fixtures::{provider_slot, NW};
use super::plan::TOKEN_FROZEN;
use super::world::World;

/// A token account passed to the program: `wallet`'s associated account of the rental's
/// mint, or its second ("parking") account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub wallet: usize,
    pub parking: bool,
}

impl Holder {
    pub fn ata(wallet: usize) -> Holder {
        Holder { wallet, parking: false }
    }
}

/// What the model expects of one wallet's accounts of one mint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MToken {
    /// The associated token account exists.
    pub open: bool,
    pub frozen: bool,
    /// Token-2022 only: the account has the memo-transfer extension, and it is switched on.
    pub memo_ext: bool,
    pub memo_on: bool,
    pub amount: u64,
    /// Balance of the wallet's second account of the mint (where it parks tokens while its
    /// associated account is closed).
    pub parking: u64,
}

#[derive(Debug, Clone)]
pub struct MListing {
    pub key: Pubkey,
    pub provider: usize,
    pub mint: usize,
    pub l: Listing,
    pub exists: bool,
}

#[derive(Debug, Clone)]
pub struct MRental {
    pub keys: RentalKeys,
    pub access: Pubkey,
    pub listing: usize,
    pub renter: usize,
    pub provider: usize,
    pub mint: usize,
    /// The expected on-chain account, field for field.
    pub r: Rental,
    /// The rental and its access account exist (until `close_rental`).
    pub exists: bool,
    pub vault_open: bool,
    pub vault: u64,
    /// Tokens strangers sent to the vault that no payout has swept yet.
    pub gifts: u64,
    /// All tokens strangers ever sent to the vault.
    pub gifts_total: u64,
    /// The mint's freeze authority froze the vault: no token can move in or out of it.
    pub vault_frozen: bool,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub now: i64,
    pub config: Config,
    /// Each mint's AcceptedMint entry while the admin accepts it.
    pub accepted: [Option<AcceptedMint>; 2],
    pub profiles: [Provider; 2],
    pub listings: Vec<MListing>,
    pub rentals: Vec<MRental>,
    pub tokens: [[MToken; 2]; NW],
    pub minted: [u64; 2],
    /// Fee tokens each wallet received as (or on behalf of) the treasury, per mint.
    pub fee_received: [[u64; 2]; NW],
    pub initial_holdings: [[u64; 2]; NW],
    /// The first refusal met while predicting an instruction's effects, in the order the
    /// program acts: a payee's share passed to an account other than its associated one by
    /// someone else (`NotCanonicalPayeeAccount`), or tokens moved in or out of a frozen vault
    /// (the token program refuses; closing it empty is allowed). The whole instruction fails.
    pub(super) failure: Option<&'static str>,
}

impl Model {
    pub(super) fn empty() -> Model {
        Model {
            now: 0,
            accepted: [None, None],
            config: Config {
                admin: Pubkey::default(),
                pending_admin: Pubkey::default(),
                arbiter: Pubkey::default(),
                treasury: Pubkey::default(),
                fee_bps: 0,
                activation_timeout_secs: 0,
                dispute_timeout_secs: 0,
                paused: false,
                bump: 0,
            },
            profiles: std::array::from_fn(|_| Provider {
                authority: Pubkey::default(),
                registered_at: 0,
                listings_created: 0,
                rentals_completed: 0,
                seconds_billed: 0,
                no_shows: 0,
                disputes_lost: 0,
                rating_sum: 0,
                rating_count: 0,
                heartbeats: 0,
                bump: 0,
            }),
            listings: Vec::new(),
            rentals: Vec::new(),
            tokens: [[MToken::default(); 2]; NW],
            minted: [0; 2],
            fee_received: [[0; 2]; NW],
            initial_holdings: [[0; 2]; NW],
            failure: None,
        }
    }

    /// Records the instruction's first refusal (later ones are never reached).
    pub(super) fn refuse(&mut self, error: &'static str) {
        self.failure.get_or_insert(error);
    }

    /// Records a token transfer out of (or into) rental `ri`'s vault: refused if it is frozen.
    pub(super) fn vault_transfer(&mut self, ri: usize) {
        if self.rentals[ri].vault_frozen {
            self.refuse(TOKEN_FROZEN);
        }
    }

    pub(super) fn profile(&mut self, provider: usize) -> &mut Provider {
        &mut self.profiles[provider_slot(provider)]
    }

    /// Whether a token account of `holder` (its ATA, or its parking account) can receive a
    /// payout owed to `payee` right now: `token::can_receive` as the model sees it.
    pub(super) fn can_receive(&self, holder: usize, parking: bool, payee: usize, mint: usize) -> bool {
        if holder != payee {
            return false;
        }
        let t = &self.tokens[holder][mint];
        parking || (t.open && !t.frozen && !t.memo_on)
    }

    /// `Vault::pay_share`: delivers `new` plus what is already held for the payee, or holds it.
    /// `holder` is the account passed for the payee, `caller` who signed: a non-zero total
    /// for someone other than the caller must go to the payee's own associated account, or the
    /// instruction fails; a payee that calls may name any account. Returns the amount delivered.
    pub(super) fn pay_share(
        &mut self,
        ri: usize,
        caller: usize,
        holder: Holder,
        payee: usize,
        new: u64,
        owed: &mut u64,
    ) -> u64 {
        let mint = self.rentals[ri].mint;
        let total = new.checked_add(*owed).expect("owed fits");
        if total == 0 {
            *owed = 0;
            return 0;
        }
        if payee != caller && holder != Holder::ata(payee) {
            self.refuse("NotCanonicalPayeeAccount");
        }
        if self.can_receive(holder.wallet, holder.parking, payee, mint) {
            self.vault_transfer(ri);
            let t = &mut self.tokens[payee][mint];
            if holder.parking {
                t.parking += total;
            } else {
                t.amount += total;
            }
            self.rentals[ri].vault -= total;
            *owed = 0;
            total
        } else {
            *owed = total;
            0
        }
    }

    pub(super) fn treasury(&self, w: &World) -> usize {
        w.wallet_of(&self.config.treasury).expect("treasury is a known wallet")
    }

    pub(super) fn arbiter(&self, w: &World) -> usize {
        w.wallet_of(&self.config.arbiter).expect("arbiter is a known wallet")
    }

    /// `Settle::payout_and_close` with settlement `s` computed by the SDK; `to` holds whose
    /// token accounts were passed for the renter, the provider and the treasury. A dispute
    /// decided against the provider (`lost`) credits nothing to its record.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn payout_and_close(
        &mut self,
        w: &World,
        ri: usize,
        s: Settlement,
        ended_at: i64,
        caller: usize,
        to: [Holder; 3],
        lost: bool,
    ) -> Expected {
        let treasury = self.treasury(w);
        let (renter, provider, mint) = (self.rentals[ri].renter, self.rentals[ri].provider, self.rentals[ri].mint);
        let r = self.rentals[ri].r.clone();
        let unallotted = r.deposited - r.provider_paid - r.fee_paid - r.refunded;
        let accounted = r.provider_owed + r.fee_owed + r.renter_owed + unallotted;
        let swept = self.rentals[ri].vault - accounted;
        assert_eq!(swept, self.rentals[ri].gifts, "model: the vault's surplus is what strangers sent");
        let to_renter = s.refund + swept;
        let (mut po, mut fo, mut ro) = (r.provider_owed, r.fee_owed, r.renter_owed);
        self.pay_share(ri, caller, to[1], provider, s.provider_delta, &mut po);
        let fee = self.pay_share(ri, caller, to[2], treasury, s.fee_delta, &mut fo);
        self.fee_received[treasury][mint] += fee;
        self.pay_share(ri, caller, to[0], renter, to_renter, &mut ro);
        let mr = &mut self.rentals[ri];
        mr.gifts = 0;
        if po == 0 && fo == 0 && ro == 0 {
            assert_eq!(mr.vault, 0, "model: a vault closes empty");
            mr.vault_open = false; // closing an empty account is allowed even when frozen
        }
        let r = &mut mr.r;
        r.provider_paid += s.provider_delta;
        r.fee_paid += s.fee_delta;
        r.refunded += s.refund;
        (r.provider_owed, r.fee_owed, r.renter_owed) = (po, fo, ro);
        r.swept += swept;
        let was_disputed = r.state == RentalState::Disputed;
        r.state = RentalState::Settled;
        r.ended_at = ended_at;
        r.billed_seconds = s.billable_seconds;
        let r = r.clone();
        let listing = mr.listing;
        let l = &mut self.listings[listing].l;
        // A disputed rental gave its listing slot back when the dispute opened.
        if was_disputed {
            l.disputed_rentals -= 1;
        } else {
            l.active_rentals -= 1;
        }
        if counts_for_reputation(&r) && !lost {
            let p = self.profile(provider);
            p.rentals_completed += 1;
            p.seconds_billed += r.billed_seconds;
            p.heartbeats += creditable_heartbeats(&r);
        }
        Expected::Settled {
            billed_seconds: s.billable_seconds,
            provider_amount: s.provider_delta,
            fee_amount: s.fee_delta,
            refund_amount: s.refund,
            swept,
            owed: [po, fo, ro],
            ended_at,
        }
    }

    /// `EndUnactivated::refund_all`.
    pub(super) fn refund_all(
        &mut self,
        ri: usize,
        caller: usize,
        to_renter: Holder,
        no_show: bool,
        declined: bool,
    ) -> Expected {
        let now = self.now;
        let (renter, provider) = (self.rentals[ri].renter, self.rentals[ri].provider);
        let amount = self.rentals[ri].r.deposited;
        let held = self.rentals[ri].vault;
        let swept = held - amount;
        let mut ro = 0;
        self.pay_share(ri, caller, to_renter, renter, held, &mut ro);
        let mr = &mut self.rentals[ri];
        mr.gifts = 0;
        if ro == 0 {
            mr.vault_open = false; // closing an empty account is allowed even when frozen
        }
        mr.r.refunded += amount;
        mr.r.renter_owed = ro;
        mr.r.swept += swept;
        mr.r.state = RentalState::Cancelled;
        mr.r.ended_at = now;
        let listing = mr.listing;
        let l = &mut self.listings[listing].l;
        l.active_rentals -= 1;
        if no_show {
            self.profile(provider).no_shows += 1;
        }
        Expected::Cancelled { refunded: amount, swept, renter_owed: ro, no_show, declined }
    }
}

/// The money figures an instruction's event must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    None,
    Claimed {
        provider_amount: u64,
        fee_amount: u64,
        provider_owed: u64,
        fee_owed: u64,
    },
    Settled {
        billed_seconds: u64,
        provider_amount: u64,
        fee_amount: u64,
        refund_amount: u64,
        swept: u64,
        owed: [u64; 3],
        ended_at: i64,
    },
    Cancelled {
        refunded: u64,
        swept: u64,
        renter_owed: u64,
        no_show: bool,
        declined: bool,
    },
    Dispute {
        locked: u64,
        refund_amount: u64,
        renter_owed: u64,
    },
    Withdrawn {
        amount: u64,
        surplus: u64,
        /// Still held for the provider, the treasury and the renter afterwards.
        owed: [u64; 3],
        vault_closed: bool,
    },
    Delivered {
        provider_amount: u64,
        fee_amount: u64,
        renter_amount: u64,
        surplus: u64,
        owed: [u64; 3],
        vault_closed: bool,
    },
    Rated {
        rating: u8,
    },
    /// The final ledger `close_rental` reports.
    Closed {
        settled: bool,
        deposited: u64,
        provider_paid: u64,
        fee_paid: u64,
        refunded: u64,
        swept: u64,
        billed_seconds: u64,
        ended_at: i64,
        rating: u8,
        rated_before: bool,
    },
    ListingUpdated(ListingParams),
}

/// Whether a settled rental counts towards its provider's reputation, from the rules as
/// SECURITY.md §5 states them: at least 10 minutes billed, and at least the gross the mint
/// required when the rental opened paid for them.
pub(super) fn counts_for_reputation(r: &Rental) -> bool {
    r.state == RentalState::Settled
        && r.billed_seconds >= Rental::MIN_RATED_BILLED_SECS
        && r.provider_paid + r.fee_paid >= r.min_counted_gross
}

/// The heartbeats a counted rental credits: those recorded, at most one per interval of
/// billed time plus the first; none without an SLA.
pub(super) fn creditable_heartbeats(r: &Rental) -> u64 {
    if r.heartbeat_interval_secs == 0 {
        return 0;
    }
    (r.heartbeats as u64).min(r.billed_seconds / r.heartbeat_interval_secs as u64 + 1)
}

/// `Rental::check_rating`'s refusals of a renter's rating, as the model sees them.
pub(super) fn rating_errors(e: &mut Vec<&'static str>, r: &Rental, stars: u8) {
    if !(1..=5).contains(&stars) {
        e.push("InvalidRating");
    }
    if r.state != RentalState::Settled {
        e.push("RatingNotAllowed");
    }
    if r.rated {
        e.push("AlreadyRated");
    }
    if !counts_for_reputation(r) {
        e.push("RatingNotEarned");
    }
}
