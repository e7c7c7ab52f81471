//! The model's state ([`Model`]): what it expects of every account, and the program's payout
//! rules (`Vault::pay_share`, `Settle::payout_and_close`, `EndUnactivated::refund_all`) applied
//! to it; and the figures an instruction's event must carry ([`Expected`]).
use anchor_lang::prelude::Pubkey;
use gpu_escrow_sdk::accounts::{AcceptedMint, Config, Listing, Provider, Rental, RentalState};
use gpu_escrow_sdk::ix::RentalKeys;
use gpu_escrow_sdk::quote::Settlement;

use super::fixtures::{provider_slot, NW};
use super::world::World;

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
    /// Set while predicting an instruction that would move tokens in or out of a frozen vault:
    /// the token program refuses (closing it empty is allowed), and the whole instruction fails.
    pub(super) touched_frozen_vault: bool,
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
                disputes_against: 0,
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
            touched_frozen_vault: false,
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
    /// Returns the amount delivered.
    pub(super) fn pay_share(&mut self, ri: usize, holder: usize, payee: usize, new: u64, owed: &mut u64) -> u64 {
        let mint = self.rentals[ri].mint;
        let total = new.checked_add(*owed).expect("owed fits");
        if total == 0 {
            *owed = 0;
            return 0;
        }
        if self.can_receive(holder, false, payee, mint) {
            self.touched_frozen_vault |= self.rentals[ri].vault_frozen;
            self.tokens[payee][mint].amount += total;
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
    /// token accounts were passed for the renter, the provider and the treasury.
    pub(super) fn payout_and_close(
        &mut self,
        w: &World,
        ri: usize,
        s: Settlement,
        ended_at: i64,
        to: [usize; 3],
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
        self.pay_share(ri, to[1], provider, s.provider_delta, &mut po);
        let fee = self.pay_share(ri, to[2], treasury, s.fee_delta, &mut fo);
        self.fee_received[treasury][mint] += fee;
        self.pay_share(ri, to[0], renter, to_renter, &mut ro);
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
        r.state = RentalState::Settled;
        r.ended_at = ended_at;
        r.billed_seconds = s.billable_seconds;
        let listing = mr.listing;
        let l = &mut self.listings[listing].l;
        l.active_rentals = l.active_rentals.saturating_sub(1);
        let p = self.profile(provider);
        p.rentals_completed += 1;
        p.seconds_billed += s.billable_seconds;
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
    pub(super) fn refund_all(&mut self, ri: usize, to_renter: usize, no_show: bool, declined: bool) -> Expected {
        let now = self.now;
        let (renter, provider) = (self.rentals[ri].renter, self.rentals[ri].provider);
        let amount = self.rentals[ri].r.deposited;
        let held = self.rentals[ri].vault;
        let swept = held - amount;
        let mut ro = 0;
        self.pay_share(ri, to_renter, renter, held, &mut ro);
        let mr = &mut self.rentals[ri];
        mr.gifts = 0;
        if ro == 0 {
            mr.vault_open = false; // closing an empty account is allowed even when frozen
        }
        mr.r.refunded += amount;
        mr.r.renter_owed = ro;
        mr.r.state = RentalState::Cancelled;
        mr.r.ended_at = now;
        let listing = mr.listing;
        let l = &mut self.listings[listing].l;
        l.active_rentals = l.active_rentals.saturating_sub(1);
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
        vault_closed: bool,
    },
}
