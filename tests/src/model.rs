//! Stateful model of the escrow for the property tests (`tests/tests/properties.rs`).
//!
//! A [`World`] is the real `.so` in LiteSVM with the real SPL Token and Token-2022 programs, a
//! config, two accepted mints (one per token program), two providers with four listings,
//! four renters (one of them also a provider), a stranger, and every wallet's token accounts.
//! It is built once and cloned for every sequence, so each sequence starts from the same
//! state and replays exactly.
//!
//! A [`Runner`] applies [`Op`]s to a clone of the world and, for each, predicts the outcome
//! with a [`Model`]: either the exact state after it (every ledger field, token balance,
//! listing and reputation counter), or the set of errors it may fail with. Settlement figures
//! come from the SDK's `quote` module (the program's own `Meter`), never from arithmetic
//! written here. After every step it checks the invariants listed on [`Runner::step`].
use std::fmt;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountSerialize, InstructionData, ToAccountMetas};
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow::state::fixed_bytes;
use gpu_escrow::{accounts as acc, instruction as args};
use gpu_escrow_sdk::accounts::{self, AcceptedMint, Config, Listing, ListingParams, Provider, Rental, RentalState};
use gpu_escrow_sdk::ix::{self, RentalKeys, RentalTerms};
use gpu_escrow_sdk::quote::{self, Settlement};
use gpu_escrow_sdk::receipts::{parse_logs, EscrowEvent};
use gpu_escrow_sdk::{pda, Keypair, Signer, PROGRAM_ID};
use litesvm::LiteSVM;
use solana_account::{AccountSharedData, ReadableAccount};
use solana_message::Message;
use solana_transaction::Transaction;

use crate::svm::{self, Env, DECIMALS, SPL_TOKEN, START_TIME, TOKEN_2022};

// ------------------------------------------------------------------ wallets and the world

pub const NW: usize = 9;
pub const ADMIN: usize = 0;
pub const ARBITER: usize = 1;
pub const TREASURY: usize = 2;
pub const P0: usize = 3;
pub const P1: usize = 4;
pub const R0: usize = 5;
pub const R1: usize = 6;
pub const R2: usize = 7;
pub const STRANGER: usize = 8;
pub const NAMES: [&str; NW] = ["admin", "arbiter", "treasury", "P0", "P1", "R0", "R1", "R2", "S"];
/// Who rents: three renters and P1, a provider renting P0's listings.
pub const RENTERS: [usize; 4] = [R0, R1, R2, P1];
pub const PROVIDERS: [usize; 2] = [P0, P1];
/// Wallets holding an associated token account and a second ("parking") account of each mint.
pub const HOLDERS: [usize; 8] = [ARBITER, TREASURY, P0, P1, R0, R1, R2, STRANGER];
pub const MINT_NAMES: [&str; 2] = ["spl-token", "token-2022"];
/// Wallets the admin may make the treasury or the arbiter (a party's wallet included).
pub const TREASURY_CHOICES: [usize; 3] = [TREASURY, P0, R2];
pub const ARBITER_CHOICES: [usize; 3] = [ARBITER, R0, P1];

const SOL: u64 = 1_000_000_000;
const ANI: &str = "AccountNotInitialized";
/// Names the model gives the token programs' own refusals.
pub const TOKEN_FROZEN: &str = "token: account frozen";
pub const TOKEN_INSUFFICIENT: &str = "InsufficientTokens";
const SEALED: &[u8] = b"sealed connection details (the program stores them opaquely)";
const SSH_KEY: &[u8] = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIProperty";

fn funds(w: usize) -> u64 {
    match w {
        R0 | R1 | P1 => 100_000_000_000_000,
        R2 => 50_000_000, // runs out: InsufficientTokens happens for real
        STRANGER => 1_000_000_000,
        _ => 0,
    }
}

pub struct ListingSpec {
    pub provider: usize,
    pub mint: usize,
    pub price: u64,
    pub heartbeat: u32,
    pub min_secs: u32,
    pub max_secs: u32,
    pub capacity: u16,
}

const DAY: u32 = 86_400;
/// Awkward prices and every kind of window: per second, sub-unit prices, huge prices, SLAs.
pub const LISTINGS: [ListingSpec; 4] = [
    ListingSpec {
        provider: P0,
        mint: 0,
        price: 3_600_000,
        heartbeat: 0,
        min_secs: 60,
        max_secs: 30 * DAY,
        capacity: 2,
    },
    ListingSpec {
        provider: P0,
        mint: 1,
        price: 1_234_567,
        heartbeat: 120,
        min_secs: 1,
        max_secs: 7 * DAY,
        capacity: 3,
    },
    ListingSpec { provider: P1, mint: 0, price: 7, heartbeat: 0, min_secs: 1, max_secs: 90 * DAY, capacity: 1 },
    ListingSpec {
        provider: P1,
        mint: 1,
        price: 1_000_000_007,
        heartbeat: 30,
        min_secs: 600,
        max_secs: DAY,
        capacity: 2,
    },
];

pub fn params(price: u64, heartbeat: u32, min_secs: u32, max_secs: u32, capacity: u16) -> ListingParams {
    let mut p = svm::listing_params(price);
    p.heartbeat_interval_secs = heartbeat;
    p.min_rental_secs = min_secs;
    p.max_rental_secs = max_secs;
    p.capacity = capacity;
    p.gpu_model = fixed_bytes("H100").unwrap();
    p
}

/// Every key of the world comes from this seed (`svm::seed_keys`), so every run builds the
/// same addresses and a printed seed replays exactly.
const KEY_SEED: u64 = 0x6E5C_0DE5_0000_0000;
/// What a rental must have billed (gross) in each mint before it may be rated.
pub const MIN_RATED_GROSS: [u64; 2] = [50_000_000, 0];

fn provider_slot(w: usize) -> usize {
    if w == P0 {
        0
    } else {
        1
    }
}

/// The prepared chain: built once, cloned for every sequence.
pub struct World {
    pub svm: LiteSVM,
    pub pk: [Pubkey; NW],
    pub mints: [Pubkey; 2],
    pub tps: [Pubkey; 2],
    pub atas: [[Pubkey; 2]; NW],
    pub parkings: [[Pubkey; 2]; NW],
    /// Derived once: deriving addresses is slow in debug builds.
    pub config: Pubkey,
    pub profiles: [Pubkey; NW],
    pub accepted_mints: [Pubkey; 2],
    pub initial: Model,
    static_keys: Vec<Pubkey>,
}

impl World {
    pub fn build() -> World {
        svm::seed_keys(Some(KEY_SEED));
        let mut env = Env::new();
        let mut wallets: Vec<Keypair> =
            vec![env.admin.insecure_clone(), env.arbiter.insecure_clone(), env.treasury.insecure_clone()];
        wallets.extend((wallets.len()..NW).map(|_| svm::fresh_keypair()));
        let pk: [Pubkey; NW] = std::array::from_fn(|i| wallets[i].pubkey());
        env.init_config(250).expect("initialize_config");
        let tps = [SPL_TOKEN, TOKEN_2022];
        let mints = [env.create_mint(SPL_TOKEN), env.create_mint(TOKEN_2022)];
        for m in 0..2 {
            env.admin_send(ix::add_mint(&pk[ADMIN], &mints[m], &tps[m], MIN_RATED_GROSS[m])).expect("add_mint");
        }
        for w in [P0, P1, R0, R1, R2, STRANGER] {
            env.svm.airdrop(&pk[w], 100 * SOL).unwrap();
        }
        for p in PROVIDERS {
            env.send1(ix::register_provider(&pk[p]), &wallets[p]).expect("register_provider");
        }
        let mut next_id = [0u64; NW];
        for s in &LISTINGS {
            let p = params(s.price, s.heartbeat, s.min_secs, s.max_secs, s.capacity);
            let id = next_id[s.provider];
            next_id[s.provider] += 1;
            env.send1(ix::create_listing(&pk[s.provider], id, &mints[s.mint], p), &wallets[s.provider])
                .expect("create_listing");
        }
        let mut atas = [[Pubkey::default(); 2]; NW];
        let mut parkings = [[Pubkey::default(); 2]; NW];
        let admin = wallets[ADMIN].insecure_clone();
        let rent = env.svm.minimum_balance_for_rent_exemption(165);
        for w in HOLDERS {
            for m in 0..2 {
                atas[w][m] = env.fund(&pk[w], &mints[m], funds(w));
                let parking = svm::fresh_keypair();
                let create = solana_system_interface::instruction::create_account(
                    &pk[ADMIN],
                    &parking.pubkey(),
                    rent,
                    165,
                    &tps[m],
                );
                let create =
                    Instruction { program_id: create.program_id, accounts: create.accounts, data: create.data };
                let init =
                    t22::instruction::initialize_account3(&tps[m], &parking.pubkey(), &mints[m], &pk[w]).unwrap();
                env.send(&[create, init], &admin, &[&parking]).expect("parking account");
                parkings[w][m] = parking.pubkey();
            }
        }
        svm::seed_keys(None);
        env.set_time(START_TIME);
        // No signatures are checked (the program sees signer flags, not signatures), no
        // history kept: each transaction then costs a fraction of a signed one in debug builds.
        let svm = env.svm.with_sigverify(false).with_transaction_history(0).with_blockhash_check(false);
        let profiles = pk.map(|k| pda::provider(&k));
        let mut world = World {
            svm,
            pk,
            mints,
            tps,
            atas,
            parkings,
            config: pda::config(),
            profiles,
            accepted_mints: mints.map(|m| pda::accepted_mint(&m)),
            initial: Model::empty(),
            static_keys: Vec::new(),
        };
        world.initial = world.read_initial_model();
        world.static_keys = world.static_keys();
        world.check_builders();
        world
    }

    /// `ix::open_rental` with addresses derived once per process (deriving is slow in debug).
    pub fn open_ix(&self, req: &ix::OpenRequest) -> Instruction {
        let mint = if req.mint == self.mints[0] { 0 } else { 1 };
        let p = rental_pdas(&req.listing, req.rental_id);
        let renter = self.wallet_of(&req.renter).expect("a known renter");
        let accounts = acc::OpenRental {
            renter: req.renter,
            config: self.config,
            listing: req.listing,
            mint: req.mint,
            accepted_mint: self.accepted_mints[mint],
            rental: p.rental,
            access: p.access,
            vault: p.vault,
            renter_token: self.atas[renter][mint],
            token_program: req.token_program,
            system_program: anchor_lang::system_program::ID,
        };
        let args = ix::OpenRentalArgs {
            rental_id: req.rental_id,
            deposit: req.deposit,
            terms: req.terms,
            recipient: req.access.recipient,
            ssh_key: req.access.ssh_key.clone(),
            bumps: ix::OpenBumps { rental: p.bump, access: p.access_bump, vault: p.vault_bump },
        };
        program_ix(accounts, args::OpenRental { args })
    }

    /// The runner builds instructions from cached addresses; they must be exactly the SDK's.
    fn check_builders(&self) {
        let req = ix::OpenRequest {
            renter: self.pk[R0],
            listing: self.initial.listings[1].key,
            mint: self.mints[1],
            token_program: self.tps[1],
            rental_id: 3,
            deposit: 5,
            terms: RentalTerms {
                price_per_hour: 1,
                heartbeat_interval_secs: 2,
                fee_bps: 3,
                activation_timeout_secs: 4,
                dispute_timeout_secs: 5,
            },
            access: ix::AccessRequest { recipient: [7; 32], ssh_key: SSH_KEY.to_vec() },
        };
        assert_eq!(self.open_ix(&req), ix::open_rental(&req), "open_rental as the SDK builds it");
        let p = rental_pdas(&req.listing, req.rental_id);
        let k = RentalKeys::new(req.listing, req.renter, req.rental_id, self.pk[P0], req.mint, req.token_program);
        assert_eq!((k.rental, k.vault, k.access), (p.rental, p.vault, p.access));
    }

    fn read_initial_model(&self) -> Model {
        let get = |k: &Pubkey| self.svm.get_account(k).expect("account exists");
        let config: Config = accounts::decode(&get(&pda::config()).data).unwrap();
        let accepted = self.accepted_mints.map(|k| Some(accounts::decode::<AcceptedMint>(&get(&k).data).unwrap()));
        let profiles = PROVIDERS.map(|p| accounts::decode::<Provider>(&get(&pda::provider(&self.pk[p])).data).unwrap());
        let mut next_id = [0u64; NW];
        let listings = LISTINGS
            .iter()
            .map(|s| {
                let key = pda::listing(&self.pk[s.provider], next_id[s.provider]);
                next_id[s.provider] += 1;
                MListing {
                    key,
                    provider: s.provider,
                    mint: s.mint,
                    l: accounts::decode(&get(&key).data).unwrap(),
                    exists: true,
                }
            })
            .collect();
        let mut tokens = [[MToken::default(); 2]; NW];
        let mut minted = [0u64; 2];
        for w in HOLDERS {
            for m in 0..2 {
                let t = &mut tokens[w][m];
                t.open = true;
                t.amount = token_amount(&get(&self.atas[w][m]).data);
                t.parking = token_amount(&get(&self.parkings[w][m]).data);
                minted[m] += t.amount + t.parking;
            }
        }
        Model {
            now: START_TIME,
            config,
            accepted,
            profiles,
            listings,
            rentals: Vec::new(),
            tokens,
            minted,
            fee_received: [[0; 2]; NW],
            initial_holdings: std::array::from_fn(|w| [0, 1].map(|m| tokens[w][m].amount + tokens[w][m].parking)),
            touched_frozen_vault: false,
        }
    }

    pub fn wallet_of(&self, key: &Pubkey) -> Option<usize> {
        self.pk.iter().position(|k| k == key)
    }
}

fn token_amount(data: &[u8]) -> u64 {
    if data.len() >= 72 {
        u64::from_le_bytes(data[64..72].try_into().unwrap())
    } else {
        0
    }
}

// ------------------------------------------------------------------ the model

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
    touched_frozen_vault: bool,
}

impl Model {
    fn empty() -> Model {
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

    fn profile(&mut self, provider: usize) -> &mut Provider {
        &mut self.profiles[provider_slot(provider)]
    }

    /// Whether a token account of `holder` (its ATA, or its parking account) can receive a
    /// payout owed to `payee` right now: `token::can_receive` as the model sees it.
    fn can_receive(&self, holder: usize, parking: bool, payee: usize, mint: usize) -> bool {
        if holder != payee {
            return false;
        }
        let t = &self.tokens[holder][mint];
        parking || (t.open && !t.frozen && !t.memo_on)
    }

    /// `Vault::pay_share`: delivers `new` plus what is already held for the payee, or holds it.
    /// Returns the amount delivered.
    fn pay_share(&mut self, ri: usize, holder: usize, payee: usize, new: u64, owed: &mut u64) -> u64 {
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

    fn treasury(&self, w: &World) -> usize {
        w.wallet_of(&self.config.treasury).expect("treasury is a known wallet")
    }

    fn arbiter(&self, w: &World) -> usize {
        w.wallet_of(&self.config.arbiter).expect("arbiter is a known wallet")
    }

    /// `Settle::payout_and_close` with settlement `s` computed by the SDK; `to` holds whose
    /// token accounts were passed for the renter, the provider and the treasury.
    fn payout_and_close(&mut self, w: &World, ri: usize, s: Settlement, ended_at: i64, to: [usize; 3]) -> Expected {
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
    fn refund_all(&mut self, ri: usize, to_renter: usize, no_show: bool, declined: bool) -> Expected {
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

// ------------------------------------------------------------------ operations

/// Who acts, relative to the rental the operation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Renter,
    Provider,
    /// The registered provider that is not this rental's provider.
    OtherProvider,
    Arbiter,
    Treasury,
    Stranger,
}

/// Which payee token account the caller replaces with its own (a caller trying to redirect
/// someone else's payout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirect {
    None,
    Renter,
    Provider,
    Treasury,
}

/// How the terms the renter signs compare with the listing's current ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terms {
    Current,
    StalePrice,
    StaleHeartbeat,
    StaleFee,
    StaleActivationTimeout,
    StaleDisputeTimeout,
}

/// Where a payee asks `withdraw_owed` to pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    OwnAta,
    OwnParking,
    StrangersAta,
}

/// One step of a sequence. Rentals are named by their index in the order they were opened in
/// this sequence (`#0` is the first successful open); an index that does not exist (after
/// shrinking removed its open) makes the step a no-op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Open {
        renter: usize,
        listing: usize,
        deposit: u64,
        terms: Terms,
        id_offset: i8,
    },
    Activate {
        rental: usize,
        by: Who,
    },
    Heartbeat {
        rental: usize,
        by: Who,
    },
    Claim {
        rental: usize,
        by: Who,
        redirect: Redirect,
    },
    TopUp {
        rental: usize,
        by: Who,
        amount: u64,
    },
    Stop {
        rental: usize,
        by: Who,
        redirect: Redirect,
    },
    Finalize {
        rental: usize,
        by: Who,
        redirect: Redirect,
    },
    Cancel {
        rental: usize,
        by: Who,
        redirect: Redirect,
    },
    Decline {
        rental: usize,
        by: Who,
        redirect: Redirect,
    },
    Dispute {
        rental: usize,
        by: Who,
        redirect: Redirect,
    },
    /// The award is `permille`/1000 of the locked amount; 1001 asks for one unit too many.
    Resolve {
        rental: usize,
        by: Who,
        permille: u16,
        redirect: Redirect,
    },
    ResolveExpired {
        rental: usize,
        by: Who,
        redirect: Redirect,
    },
    Close {
        rental: usize,
        by: Who,
        rating: Option<u8>,
    },
    Withdraw {
        rental: usize,
        by: Who,
        dest: Dest,
    },
    /// The stranger sends tokens straight to the rental's vault.
    Gift {
        rental: usize,
        amount: u64,
    },
    Freeze {
        wallet: usize,
        mint: usize,
        frozen: bool,
    },
    /// The issuer freezes or thaws a rental's vault (SECURITY.md §4: it stops that escrow).
    FreezeVault {
        rental: usize,
        frozen: bool,
    },
    /// The owner moves its balance to its parking account and closes its ATA.
    CloseAta {
        wallet: usize,
        mint: usize,
    },
    /// The owner recreates its ATA and moves its parked balance back.
    ReopenAta {
        wallet: usize,
        mint: usize,
    },
    /// Token-2022: the owner switches "memo required for incoming transfers" on or off.
    Memo {
        wallet: usize,
        on: bool,
    },
    UpdateListing {
        listing: usize,
        by_owner: bool,
        params: ListingParams,
    },
    PauseListing {
        listing: usize,
        by_owner: bool,
        paused: bool,
    },
    CloseListing {
        listing: usize,
        by_owner: bool,
    },
    SetPaused {
        by_admin: bool,
        paused: bool,
    },
    /// The admin stops accepting a mint (`remove_mint`) or accepts it again (`add_mint`).
    SetMintAccepted {
        mint: usize,
        accepted: bool,
        min_rated_gross: u64,
    },
    SetConfig {
        fee_bps: Option<u16>,
        activation_timeout: Option<u32>,
        dispute_timeout: Option<u32>,
        treasury: Option<usize>,
        arbiter: Option<usize>,
    },
    Advance {
        secs: i64,
    },
}

impl Op {
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Open { .. } => "open",
            Op::Activate { .. } => "activate",
            Op::Heartbeat { .. } => "heartbeat",
            Op::Claim { .. } => "claim",
            Op::TopUp { .. } => "top_up",
            Op::Stop { .. } => "stop",
            Op::Finalize { .. } => "finalize",
            Op::Cancel { .. } => "cancel",
            Op::Decline { .. } => "decline",
            Op::Dispute { .. } => "open_dispute",
            Op::Resolve { .. } => "resolve_dispute",
            Op::ResolveExpired { .. } => "resolve_expired",
            Op::Close { rating: None, .. } => "close",
            Op::Close { rating: Some(_), .. } => "close (rated)",
            Op::Withdraw { .. } => "withdraw_owed",
            Op::Gift { .. } => "gift to vault",
            Op::Freeze { .. } => "freeze/thaw",
            Op::FreezeVault { .. } => "freeze/thaw vault",
            Op::CloseAta { .. } => "close ATA",
            Op::ReopenAta { .. } => "reopen ATA",
            Op::Memo { .. } => "memo on/off",
            Op::UpdateListing { .. } => "update_listing",
            Op::PauseListing { .. } => "set_listing_paused",
            Op::CloseListing { .. } => "close_listing",
            Op::SetPaused { .. } => "set_paused",
            Op::SetMintAccepted { accepted: true, .. } => "add_mint",
            Op::SetMintAccepted { accepted: false, .. } => "remove_mint",
            Op::SetConfig { .. } => "update_config",
            Op::Advance { .. } => "clock",
        }
    }

    /// Operations that move tokens out of the signer's own account.
    fn debits_signer(&self) -> bool {
        matches!(self, Op::Open { .. } | Op::TopUp { .. } | Op::Gift { .. })
    }
}

fn redirect_str(r: Redirect) -> &'static str {
    match r {
        Redirect::None => "",
        Redirect::Renter => " (passing its own account as the renter's)",
        Redirect::Provider => " (passing its own account as the provider's)",
        Redirect::Treasury => " (passing its own account as the treasury's)",
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Open { renter, listing, deposit, terms, id_offset } => {
                write!(f, "open: {} rents listing L{listing}, deposit {deposit}", NAMES[*renter])?;
                if *terms != Terms::Current {
                    write!(f, ", terms {terms:?}")?;
                }
                if *id_offset != 0 {
                    write!(f, ", rental id next{id_offset:+}")?;
                }
                Ok(())
            }
            Op::Activate { rental, by } => write!(f, "activate #{rental} by {by:?}"),
            Op::Heartbeat { rental, by } => write!(f, "heartbeat #{rental} by {by:?}"),
            Op::Claim { rental, by, redirect } => write!(f, "claim #{rental} by {by:?}{}", redirect_str(*redirect)),
            Op::TopUp { rental, by, amount } => write!(f, "top_up #{rental} by {by:?}, amount {amount}"),
            Op::Stop { rental, by, redirect } => write!(f, "stop #{rental} by {by:?}{}", redirect_str(*redirect)),
            Op::Finalize { rental, by, redirect } => {
                write!(f, "finalize #{rental} by {by:?}{}", redirect_str(*redirect))
            }
            Op::Cancel { rental, by, redirect } => write!(f, "cancel #{rental} by {by:?}{}", redirect_str(*redirect)),
            Op::Decline { rental, by, redirect } => {
                write!(f, "decline #{rental} by {by:?}{}", redirect_str(*redirect))
            }
            Op::Dispute { rental, by, redirect } => {
                write!(f, "open_dispute #{rental} by {by:?}{}", redirect_str(*redirect))
            }
            Op::Resolve { rental, by, permille, redirect } => {
                let award =
                    if *permille > 1000 { "locked + 1".to_string() } else { format!("{permille}/1000 of locked") };
                write!(f, "resolve_dispute #{rental} by {by:?}, award {award}{}", redirect_str(*redirect))
            }
            Op::ResolveExpired { rental, by, redirect } => {
                write!(f, "resolve_expired_dispute #{rental} by {by:?}{}", redirect_str(*redirect))
            }
            Op::Close { rental, by, rating } => write!(f, "close #{rental} by {by:?}, rating {rating:?}"),
            Op::Withdraw { rental, by, dest } => write!(f, "withdraw_owed #{rental} by {by:?} into {dest:?}"),
            Op::Gift { rental, amount } => write!(f, "stranger sends {amount} to the vault of #{rental}"),
            Op::Freeze { wallet, mint, frozen } => write!(
                f,
                "issuer {} {}'s {} account",
                if *frozen { "freezes" } else { "thaws" },
                NAMES[*wallet],
                MINT_NAMES[*mint]
            ),
            Op::FreezeVault { rental, frozen } => {
                write!(f, "issuer {} the vault of #{rental}", if *frozen { "freezes" } else { "thaws" })
            }
            Op::CloseAta { wallet, mint } => write!(f, "{} closes its {} account", NAMES[*wallet], MINT_NAMES[*mint]),
            Op::ReopenAta { wallet, mint } => {
                write!(f, "{} reopens its {} account", NAMES[*wallet], MINT_NAMES[*mint])
            }
            Op::Memo { wallet, on } => write!(
                f,
                "{} {} required memos on its token-2022 account",
                NAMES[*wallet],
                if *on { "switches on" } else { "switches off" }
            ),
            Op::UpdateListing { listing, by_owner, params: p } => write!(
                f,
                "update_listing L{listing}{}: price {}, heartbeat {}, window {}..={} s, capacity {}",
                if *by_owner { "" } else { " by the other provider" },
                p.price_per_hour,
                p.heartbeat_interval_secs,
                p.min_rental_secs,
                p.max_rental_secs,
                p.capacity
            ),
            Op::PauseListing { listing, by_owner, paused } => write!(
                f,
                "set_listing_paused L{listing} {paused}{}",
                if *by_owner { "" } else { " by the other provider" }
            ),
            Op::CloseListing { listing, by_owner } => {
                write!(f, "close_listing L{listing}{}", if *by_owner { "" } else { " by the other provider" })
            }
            Op::SetPaused { by_admin, paused } => {
                write!(f, "set_paused {paused}{}", if *by_admin { "" } else { " by a stranger" })
            }
            Op::SetMintAccepted { mint, accepted: true, min_rated_gross } => {
                write!(f, "add_mint {}, min_rated_gross {min_rated_gross}", MINT_NAMES[*mint])
            }
            Op::SetMintAccepted { mint, accepted: false, .. } => write!(f, "remove_mint {}", MINT_NAMES[*mint]),
            Op::SetConfig { fee_bps, activation_timeout, dispute_timeout, treasury, arbiter } => {
                write!(f, "update_config")?;
                if let Some(v) = fee_bps {
                    write!(f, " fee_bps={v}")?;
                }
                if let Some(v) = activation_timeout {
                    write!(f, " activation_timeout={v}")?;
                }
                if let Some(v) = dispute_timeout {
                    write!(f, " dispute_timeout={v}")?;
                }
                if let Some(v) = treasury {
                    write!(f, " treasury={}", NAMES[*v])?;
                }
                if let Some(v) = arbiter {
                    write!(f, " arbiter={}", NAMES[*v])?;
                }
                Ok(())
            }
            Op::Advance { secs } => write!(f, "clock +{secs} s"),
        }
    }
}

// ------------------------------------------------------------------ failures

/// A broken property: `key` names the invariant (shrinking keeps a sequence only if it still
/// breaks the same one), `msg` says how.
#[derive(Debug, Clone)]
pub struct Fail {
    pub key: &'static str,
    pub msg: String,
    /// The step that broke it.
    pub at: String,
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] at step `{}`: {}", self.key, self.at, self.msg)
    }
}

fn fail(key: &'static str, msg: impl Into<String>) -> Fail {
    Fail { key, msg: msg.into(), at: String::new() }
}

fn crank_fail(key: &'static str, msg: impl Into<String>) -> Fail {
    Fail { key, msg: msg.into(), at: "(crank and drain)".into() }
}

/// Outcome the model predicts: the state after success, or the errors it may fail with.
type Prediction = Result<(Model, Expected), Vec<&'static str>>;

/// A transaction to send and its predicted outcome. Environment actions (the issuer freezing,
/// a wallet closing its account...) are planned only when they must succeed.
struct Plan {
    ixs: Vec<Instruction>,
    payer: Pubkey,
    prediction: Prediction,
}

// ------------------------------------------------------------------ the runner

/// Statistics of one sequence.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub ops: u64,
    pub txs: u64,
    pub ok: u64,
    pub rejected: u64,
    pub rentals: u64,
    /// When enabled: how many times each kind of operation ended how ("ok" or the error).
    pub coverage: Option<std::collections::BTreeMap<(&'static str, String), u64>>,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.ops += o.ops;
        self.txs += o.txs;
        self.ok += o.ok;
        self.rejected += o.rejected;
        self.rentals += o.rentals;
        if let (Some(mine), Some(theirs)) = (&mut self.coverage, &o.coverage) {
            for (k, v) in theirs {
                *mine.entry(k.clone()).or_default() += v;
            }
        }
    }

    fn count(&mut self, op: &Op, outcome: &str) {
        if let Some(c) = &mut self.coverage {
            *c.entry((op.kind(), outcome.to_string())).or_default() += 1;
        }
    }
}

/// Every tracked account as the chain holds it (`None` once closed), in a fixed order: the
/// config, the mints, the provider profiles, the listings, each holder's four token accounts,
/// then each rental's account, access account and vault (see the `S_*` slots).
#[derive(Clone, PartialEq)]
struct Snapshot(Vec<Option<AccountSharedData>>);

const S_CONFIG: usize = 0;
const S_MINTS: usize = 1;
const S_PROFILES: usize = 3;
const S_ACCEPTED: usize = 5;
const S_LISTINGS: usize = 7;
const S_TOKENS: usize = S_LISTINGS + LISTINGS.len();
const S_RENTALS: usize = S_TOKENS + 4 * HOLDERS.len();

fn holder_pos(h: usize) -> usize {
    HOLDERS.iter().position(|x| *x == h).expect("a token holder")
}

fn s_ata(h: usize, mint: usize) -> usize {
    S_TOKENS + 4 * holder_pos(h) + mint
}

fn s_parking(h: usize, mint: usize) -> usize {
    S_TOKENS + 4 * holder_pos(h) + 2 + mint
}

/// The rental's own slot; its access account and vault follow.
fn s_rental(i: usize) -> usize {
    S_RENTALS + 3 * i
}

impl World {
    /// The addresses of the snapshot's fixed slots.
    fn static_keys(&self) -> Vec<Pubkey> {
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
    fn at(&self, slot: usize) -> Option<&AccountSharedData> {
        self.0.get(slot).and_then(|a| a.as_ref())
    }

    fn amount(&self, slot: usize) -> u64 {
        self.at(slot).map(|a| token_amount(a.data())).unwrap_or(0)
    }

    /// Tokens a wallet holds of a mint (its ATA and its parking account), as the chain says.
    fn holdings(&self, h: usize, mint: usize) -> u64 {
        self.amount(s_ata(h, mint)) + self.amount(s_parking(h, mint))
    }
}

pub struct Runner<'w> {
    pub w: &'w World,
    pub svm: LiteSVM,
    pub m: Model,
    snap: Snapshot,
    pub stats: Stats,
    /// Prefix for the failing step's description ("crank and drain: " after the sequence).
    phase: &'static str,
}

impl<'w> Runner<'w> {
    pub fn new(w: &'w World, coverage: bool) -> Self {
        let svm = w.svm.clone();
        let m = w.initial.clone();
        let stats = Stats { coverage: coverage.then(Default::default), ..Stats::default() };
        let mut r = Runner { w, svm, m, snap: Snapshot(Vec::new()), stats, phase: "" };
        r.snap = r.snapshot();
        r
    }

    fn snapshot(&self) -> Snapshot {
        let db = &self.svm.accounts_db().inner;
        let get = |k: &Pubkey| db.get(k).filter(|a| a.lamports() > 0).cloned();
        let mut accounts: Vec<Option<AccountSharedData>> = self.w.static_keys.iter().map(get).collect();
        for r in &self.m.rentals {
            accounts.extend([get(&r.keys.rental), get(&r.access), get(&r.keys.vault)]);
        }
        Snapshot(accounts)
    }

    fn set_time(&mut self, t: i64) {
        let mut clock = self.svm.get_sysvar::<anchor_lang::prelude::Clock>();
        clock.unix_timestamp = t;
        clock.slot += 1;
        self.svm.set_sysvar(&clock);
        self.m.now = t;
    }

    /// Applies one operation and checks every property:
    /// - the outcome is the one the model predicts: success with the exact state after it (every
    ///   rental's ledger as the SDK's quote module computes it from the state before and the
    ///   clock, every token balance, listing, config and reputation counter, and the figures in
    ///   the event), or failure with one of the errors the model expects;
    /// - a failed operation changes nothing at all (every tracked account byte for byte);
    /// - no wallet's tokens decrease except by its own signed deposit (open, top-up) or transfer;
    /// - conservation for every rental: provider_paid + fee_paid + refunded <= deposited, with
    ///   equality once ended; the vault holds exactly what is unallotted, plus what is held for
    ///   payees, plus what strangers sent; an ended rental's vault is closed once nothing is held;
    /// - per mint, the tokens in all accounts equal the supply the model minted.
    pub fn step(&mut self, op: &Op) -> Result<(), Fail> {
        self.stats.ops += 1;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.step_inner(op)));
        let r = r.unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Err(fail("panic", msg))
        });
        r.map_err(|mut f| {
            f.at = format!("{}{op}", self.phase);
            f
        })
    }

    fn step_inner(&mut self, op: &Op) -> Result<(), Fail> {
        if let Op::Advance { secs } = op {
            let t = self.m.now + secs;
            self.set_time(t);
            let after = self.snapshot();
            if after == self.snap {
                return Ok(()); // nothing but the clock moved; the state was checked after the last step
            }
            self.snap = after;
            return Err(fail("state changed without a transaction", "accounts changed when only the clock moved"));
        }
        let Some(plan) = self.plan(op) else { return Ok(()) };
        self.stats.txs += 1;
        let msg = Message::new(&plan.ixs, Some(&plan.payer));
        let tx = Transaction::new_unsigned(msg);
        let result = self.svm.send_transaction(tx).map_err(failure);
        let before = std::mem::replace(&mut self.snap, Snapshot(Vec::new()));
        match (result, plan.prediction) {
            (Ok(meta), Ok((model, expected))) => {
                self.stats.ok += 1;
                self.stats.count(op, "ok");
                let opened = model.rentals.len() > self.m.rentals.len();
                self.m = model;
                if opened {
                    self.stats.rentals += 1;
                }
                self.snap = self.snapshot();
                self.check_event(op, &expected, &meta.logs)?;
            }
            (Err(f), Err(allowed)) => {
                self.stats.rejected += 1;
                let name = normalise(&f.name);
                self.stats.count(op, &name);
                if !allowed.contains(&name.as_str()) {
                    return Err(fail(
                        "unexpected error",
                        format!("failed with {name}; the model expected one of {allowed:?}\nlogs: {:#?}", f.logs),
                    ));
                }
                self.snap = self.snapshot();
                if self.snap != before {
                    return Err(fail("failed op changed state", self.diff(&before)));
                }
                // Byte for byte what was checked after the last step.
                return Ok(());
            }
            (Ok(_), Err(allowed)) => {
                self.snap = self.snapshot();
                return Err(fail("unexpected success", format!("succeeded; the model expected one of {allowed:?}")));
            }
            (Err(f), Ok(_)) => {
                return Err(fail(
                    "unexpected error",
                    format!("failed with {}; the model expected success\nlogs: {:#?}", normalise(&f.name), f.logs),
                ));
            }
        }
        self.check_debits(op, &before, plan.payer)?;
        self.check_state()
    }

    fn diff(&self, before: &Snapshot) -> String {
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

    /// Nobody's tokens go down unless it signed: only the signer of an open, a top-up or its
    /// own transfer may hold less afterwards. (Checked on the chain's balances, not the model's.)
    fn check_debits(&self, op: &Op, before: &Snapshot, signer: Pubkey) -> Result<(), Fail> {
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

    fn check_event(&self, op: &Op, expected: &Expected, logs: &[String]) -> Result<(), Fail> {
        if *expected == Expected::None {
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
            (EscrowEvent::Withdrawn(e), Expected::Withdrawn { .. }) => {
                Some(Expected::Withdrawn { amount: e.amount, vault_closed: e.vault_closed })
            }
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
    fn check_state(&self) -> Result<(), Fail> {
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

    // -------------------------------------------------------------- planning

    fn pk(&self, w: usize) -> Pubkey {
        self.w.pk[w]
    }

    fn who(&self, who: Who, ri: usize) -> usize {
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

    /// Whose token accounts go in the renter, provider and treasury slots.
    fn payees(&self, ri: usize, caller: usize, redirect: Redirect) -> [usize; 3] {
        let r = &self.m.rentals[ri];
        let mut to = [r.renter, r.provider, self.m.treasury(self.w)];
        match redirect {
            Redirect::None => {}
            Redirect::Renter => to[0] = caller,
            Redirect::Provider => to[1] = caller,
            Redirect::Treasury => to[2] = caller,
        }
        to
    }

    fn ata(&self, w: usize, mint: usize) -> Pubkey {
        if w == ADMIN {
            pda::ata(&self.w.pk[w], &self.w.mints[mint], &self.w.tps[mint])
        } else {
            self.w.atas[w][mint]
        }
    }

    fn plan(&self, op: &Op) -> Option<Plan> {
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
            Op::Withdraw { rental: i, by, dest } => rental(i).and_then(|ri| self.plan_withdraw(ri, by, dest)),
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
            Ok((n, _)) if n.touched_frozen_vault => Err(vec![TOKEN_FROZEN]),
            p => p,
        };
        Plan { ixs, payer: self.pk(payer), prediction }
    }

    fn plan_open(&self, renter: usize, li: usize, deposit: u64, terms: Terms, id_offset: i8) -> Plan {
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

    fn plan_activate(&self, ri: usize, by: Who) -> Plan {
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

    fn plan_heartbeat(&self, ri: usize, by: Who) -> Plan {
        let caller = self.who(by, ri);
        let mr = &self.m.rentals[ri];
        let accounts = acc::Heartbeat {
            provider: self.pk(caller),
            provider_profile: self.w.profiles[caller],
            rental: mr.keys.rental,
        };
        let ixs = vec![program_ix(accounts, args::Heartbeat {})];
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !mr.exists || !PROVIDERS.contains(&caller) {
                e.push(ANI); // the rental, or the signer's provider profile
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
            if now > r.last_heartbeat {
                n.rentals[ri].r.last_heartbeat = now;
                n.profile(mr.provider).heartbeats += 1;
            }
            Ok((n, Expected::None))
        })();
        self.program_plan(ixs, caller, prediction)
    }

    fn plan_claim(&self, ri: usize, by: Who, redirect: Redirect) -> Plan {
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
            provider_token: self.ata(to[1], mr.mint),
            treasury_token: self.ata(to[2], mr.mint),
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
            n.pay_share(ri, to[1], mr.provider, due.provider_delta, &mut po);
            let fee = n.pay_share(ri, to[2], treasury, due.fee_delta, &mut fo);
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

    fn plan_top_up(&self, ri: usize, by: Who, amount: u64) -> Plan {
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
                RentalState::Funded => {}
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

    fn plan_settle(&self, ri: usize, by: Who, redirect: Redirect, kind: SettleKind) -> Plan {
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

    fn plan_unactivated(&self, ri: usize, by: Who, redirect: Redirect, decline: bool) -> Plan {
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

    fn plan_dispute(&self, ri: usize, by: Who, redirect: Redirect) -> Plan {
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

    fn plan_close(&self, ri: usize, by: Who, rating: Option<u8>) -> Plan {
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

    fn plan_withdraw(&self, ri: usize, by: Who, dest: Dest) -> Option<Plan> {
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

    // -------------------------------------------------------------- environment actions

    fn env_plan(&self, ixs: Vec<Instruction>, payer: usize, n: Model) -> Option<Plan> {
        Some(Plan { ixs, payer: self.pk(payer), prediction: Ok((n, Expected::None)) })
    }

    fn plan_gift(&self, ri: usize, amount: u64) -> Option<Plan> {
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

    fn plan_freeze_vault(&self, ri: usize, frozen: bool) -> Option<Plan> {
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

    fn plan_freeze(&self, wallet: usize, mint: usize, frozen: bool) -> Option<Plan> {
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

    fn plan_close_ata(&self, wallet: usize, mint: usize) -> Option<Plan> {
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

    fn plan_reopen_ata(&self, wallet: usize, mint: usize) -> Option<Plan> {
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

    fn plan_memo(&self, wallet: usize, on: bool) -> Option<Plan> {
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

    // -------------------------------------------------------------- listings and admin

    fn plan_listing(&self, li: usize, by_owner: bool, action: ListingAction) -> Plan {
        let ml = &self.m.listings[li];
        let caller = if by_owner {
            ml.provider
        } else if ml.provider == P0 {
            P1
        } else {
            P0
        };
        let c = &self.pk(caller);
        let ix = match &action {
            ListingAction::Update(p) => ix::update_listing(c, &ml.key, p.clone()),
            ListingAction::Pause(paused) => ix::set_listing_paused(c, &ml.key, *paused),
            ListingAction::Close => ix::close_listing(c, &ml.key),
        };
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !ml.exists {
                e.push(ANI);
            }
            if caller != ml.provider {
                e.push("NotProvider");
            }
            match &action {
                ListingAction::Update(p) => {
                    if p.price_per_hour == 0 {
                        e.push("ZeroPrice");
                    }
                    if p.gpu_count == 0 {
                        e.push("ZeroGpuCount");
                    }
                    if p.capacity == 0 {
                        e.push("ZeroCapacity");
                    }
                    if p.min_rental_secs == 0 || p.min_rental_secs > p.max_rental_secs {
                        e.push("InvalidRentalWindow");
                    }
                    if p.capacity < ml.l.active_rentals {
                        e.push("ListingHasRentals");
                    }
                }
                ListingAction::Pause(_) => {}
                ListingAction::Close => {
                    if ml.l.active_rentals != 0 {
                        e.push("ListingHasRentals");
                    }
                }
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            let nl = &mut n.listings[li];
            match action {
                ListingAction::Update(p) => {
                    let l = &mut nl.l;
                    l.price_per_hour = p.price_per_hour;
                    l.gpu_model = p.gpu_model;
                    l.region = p.region;
                    l.gpu_count = p.gpu_count;
                    l.vram_gb = p.vram_gb;
                    l.cpu_cores = p.cpu_cores;
                    l.ram_gb = p.ram_gb;
                    l.disk_gb = p.disk_gb;
                    l.min_rental_secs = p.min_rental_secs;
                    l.max_rental_secs = p.max_rental_secs;
                    l.heartbeat_interval_secs = p.heartbeat_interval_secs;
                    l.capacity = p.capacity;
                }
                ListingAction::Pause(paused) => nl.l.paused = paused,
                ListingAction::Close => nl.exists = false,
            }
            Ok((n, Expected::None))
        })();
        self.program_plan(vec![ix], caller, prediction)
    }

    fn plan_set_paused(&self, by_admin: bool, paused: bool) -> Plan {
        let caller = if by_admin { ADMIN } else { STRANGER };
        let ix =
            program_ix(acc::SetPaused { admin: self.pk(caller), config: self.w.config }, args::SetPaused { paused });
        let prediction = if by_admin {
            let mut n = self.m.clone();
            n.config.paused = paused;
            Ok((n, Expected::None))
        } else {
            Err(vec!["NotAdmin"])
        };
        self.program_plan(vec![ix], caller, prediction)
    }

    fn plan_mint_accepted(&self, mint: usize, accepted: bool, min_rated_gross: u64) -> Plan {
        let (admin, key) = (self.pk(ADMIN), self.w.accepted_mints[mint]);
        let ix = if accepted {
            let accounts = acc::AddMint {
                admin,
                config: self.w.config,
                mint: self.w.mints[mint],
                accepted_mint: key,
                token_program: self.w.tps[mint],
                system_program: anchor_lang::system_program::ID,
            };
            program_ix(accounts, args::AddMint { args: ix::AddMintArgs { min_rated_gross } })
        } else {
            program_ix(acc::RemoveMint { admin, config: self.w.config, accepted_mint: key }, args::RemoveMint {})
        };
        let prediction = match (accepted, self.m.accepted[mint].is_some()) {
            (true, true) => Err(vec!["AccountAlreadyExists"]),
            (false, false) => Err(vec![ANI]),
            _ => {
                let mut n = self.m.clone();
                n.accepted[mint] = accepted.then(|| {
                    let mut a = self.w.initial.accepted[mint].clone().expect("accepted at first");
                    a.min_rated_gross = min_rated_gross;
                    a
                });
                Ok((n, Expected::None))
            }
        };
        self.program_plan(vec![ix], ADMIN, prediction)
    }

    fn plan_config(
        &self,
        fee_bps: Option<u16>,
        activation_timeout: Option<u32>,
        dispute_timeout: Option<u32>,
        treasury: Option<usize>,
        arbiter: Option<usize>,
    ) -> Plan {
        let update = ix::UpdateConfigArgs {
            arbiter: arbiter.map(|a| self.pk(a)),
            treasury: treasury.map(|t| self.pk(t)),
            fee_bps,
            activation_timeout_secs: activation_timeout,
            dispute_timeout_secs: dispute_timeout,
        };
        let ix = program_ix(
            acc::UpdateConfig { admin: self.pk(ADMIN), config: self.w.config },
            args::UpdateConfig { args: update.clone() },
        );
        let prediction = (|| {
            let mut e = Vec::new();
            if fee_bps.is_some_and(|f| f > Config::MAX_FEE_BPS) {
                e.push("FeeTooHigh");
            }
            if [activation_timeout, dispute_timeout].into_iter().flatten().any(|t| !Config::valid_timeout(t)) {
                e.push("InvalidTimeout");
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            let c = &mut n.config;
            if let Some(v) = update.arbiter {
                c.arbiter = v;
            }
            if let Some(v) = update.treasury {
                c.treasury = v;
            }
            if let Some(v) = fee_bps {
                c.fee_bps = v;
            }
            if let Some(v) = activation_timeout {
                c.activation_timeout_secs = v;
            }
            if let Some(v) = dispute_timeout {
                c.dispute_timeout_secs = v;
            }
            Ok((n, Expected::None))
        })();
        self.program_plan(vec![ix], ADMIN, prediction)
    }

    // -------------------------------------------------------------- the crank and the end

    /// Moves the clock to `t` (never backwards).
    fn advance_to(&mut self, t: i64) -> Result<(), Fail> {
        let secs = (t - self.m.now).max(0);
        self.step(&Op::Advance { secs })
    }

    /// Brings every rental to an end state within its bound, then lets every payee withdraw,
    /// closes everything and checks the final accounts:
    /// - each unfinished rental's bound (activation deadline, end of paid time or SLA, dispute
    ///   deadline) is at most 90 days of timeout or the listing's maximum rental time away;
    /// - cranked by a stranger one second before its bound, it is refused; at its bound the
    ///   crank ends it (Cancelled or Settled), whatever state the payees' accounts are in (a
    ///   vault the issuer froze must be thawed first: SECURITY.md §4);
    /// - once every account is thawed and reopened, the payees withdraw everything held, every
    ///   vault closes, and the renters close every rental (rating those that billed 10 minutes);
    /// - every wallet's tokens then differ from what it started with by exactly what the final
    ///   ledgers allot it, and all tokens of each mint are back in wallets.
    pub fn crank_and_drain(&mut self) -> Result<(), Fail> {
        self.phase = "(crank and drain) ";
        let mut pending: Vec<(i64, usize)> = Vec::new();
        for (i, mr) in self.m.rentals.iter().enumerate() {
            let r = &mr.r;
            if !mr.exists || r.is_ended() {
                continue;
            }
            // Each bound from the terms the rental snapshotted (not from the program's helpers),
            // and each no later than the longest wait the rules allow: a 90-day timeout, or the
            // listing's maximum rental time of paid use.
            let max_timeout = Config::MAX_TIMEOUT_SECS as i64;
            let (bound, limit) = match r.state {
                RentalState::Funded => (r.opened_at + r.activation_timeout_secs as i64, r.opened_at + max_timeout),
                RentalState::Active => {
                    let sla_cut = r.last_heartbeat + r.heartbeat_interval_secs as i64;
                    let stops = if r.heartbeat_interval_secs > 0 { r.end_at.min(sla_cut) } else { r.end_at };
                    (stops, r.activated_at + r.max_rental_secs as i64)
                }
                RentalState::Disputed => {
                    (r.dispute_opened_at + r.dispute_timeout_secs as i64, r.dispute_opened_at + max_timeout)
                }
                _ => unreachable!(),
            };
            if bound > limit {
                return Err(crank_fail(
                    "end state not within its bound",
                    format!("rental #{i} ({:?}) could wait until {bound}, beyond the rules' limit {limit}", r.state),
                ));
            }
            pending.push((bound, i));
        }
        pending.sort();
        for (bound, i) in pending {
            let crank = match self.m.rentals[i].r.state {
                RentalState::Funded => Op::Cancel { rental: i, by: Who::Stranger, redirect: Redirect::None },
                RentalState::Active => Op::Finalize { rental: i, by: Who::Stranger, redirect: Redirect::None },
                _ => Op::ResolveExpired { rental: i, by: Who::Stranger, redirect: Redirect::None },
            };
            if bound > self.m.now {
                self.advance_to(bound - 1)?;
                self.step(&crank)?;
                if self.m.rentals[i].r.is_ended() {
                    return Err(crank_fail(
                        "end state not within its bound",
                        format!("rental #{i} ended before its bound {bound}"),
                    ));
                }
            }
            self.advance_to(bound)?;
            self.step(&crank)?;
            if !self.m.rentals[i].r.is_ended() && self.m.rentals[i].vault_frozen {
                // A frozen vault stops its escrow (SECURITY.md §4) until the issuer thaws it.
                self.step(&Op::FreezeVault { rental: i, frozen: false })?;
                self.step(&crank)?;
            }
            if !self.m.rentals[i].r.is_ended() {
                return Err(crank_fail(
                    "end state not within its bound",
                    format!("rental #{i} is still {:?} at its bound {bound}", self.m.rentals[i].r.state),
                ));
            }
        }
        // Every payee can receive again, and every vault can pay.
        for i in 0..self.m.rentals.len() {
            self.step(&Op::FreezeVault { rental: i, frozen: false })?;
        }
        for h in HOLDERS {
            for mint in 0..2 {
                self.step(&Op::Freeze { wallet: h, mint, frozen: false })?;
                self.step(&Op::ReopenAta { wallet: h, mint })?;
            }
            self.step(&Op::Memo { wallet: h, on: false })?;
        }
        for i in 0..self.m.rentals.len() {
            for by in [Who::Provider, Who::Treasury, Who::Renter] {
                let mr = &self.m.rentals[i];
                let payee = self.who(by, i);
                let r = &mr.r;
                let owed = (payee == mr.renter) as u64 * r.renter_owed
                    + (payee == mr.provider) as u64 * r.provider_owed
                    + (payee == self.m.treasury(self.w)) as u64 * r.fee_owed;
                if mr.exists && owed > 0 {
                    self.step(&Op::Withdraw { rental: i, by, dest: Dest::OwnAta })?;
                }
            }
            let mr = &self.m.rentals[i];
            if mr.vault_open {
                return Err(crank_fail(
                    "vault left open",
                    format!("rental #{i}: vault still open after every withdrawal"),
                ));
            }
            if mr.exists {
                // Rate what billed at least 10 minutes (the mint's minimum amount decides).
                if mr.r.state == RentalState::Settled && mr.r.billed_seconds >= Rental::MIN_RATED_BILLED_SECS {
                    self.step(&Op::Close { rental: i, by: Who::Renter, rating: Some(1 + (i % 5) as u8) })?;
                }
                if self.m.rentals[i].exists {
                    self.step(&Op::Close { rental: i, by: Who::Renter, rating: None })?;
                }
                if self.m.rentals[i].exists {
                    return Err(crank_fail("rental left open", format!("rental #{i} could not be closed")));
                }
            }
        }
        self.final_accounts().map_err(|mut f| {
            f.at = "(final accounts)".into();
            f
        })
    }

    fn final_accounts(&self) -> Result<(), Fail> {
        let m = &self.m;
        let mut fees = [0u64; 2];
        let mut expected: [[i128; 2]; NW] = [[0; 2]; NW];
        for mr in &m.rentals {
            let r = &mr.r;
            let mint = mr.mint;
            expected[mr.renter][mint] += r.refunded as i128 - r.deposited as i128 + mr.gifts_total as i128;
            expected[mr.provider][mint] += r.provider_paid as i128;
            expected[STRANGER][mint] -= mr.gifts_total as i128;
            fees[mint] += r.fee_paid;
        }
        for mint in 0..2 {
            let received: u64 = HOLDERS.iter().map(|h| m.fee_received[*h][mint]).sum();
            if received != fees[mint] {
                return Err(fail(
                    "final accounts",
                    format!(
                        "{}: fees in the ledgers {}, fees the treasuries received {received}",
                        MINT_NAMES[mint], fees[mint]
                    ),
                ));
            }
            for h in HOLDERS {
                expected[h][mint] += m.fee_received[h][mint] as i128;
                let have = self.snap.holdings(h, mint) as i128;
                let want = m.initial_holdings[h][mint] as i128 + expected[h][mint];
                if have != want {
                    return Err(fail(
                        "final accounts",
                        format!(
                            "{} holds {have} {} tokens; it started with {} and the final ledgers allot it {}",
                            NAMES[h], MINT_NAMES[mint], m.initial_holdings[h][mint], expected[h][mint]
                        ),
                    ));
                }
            }
        }
        for (i, l) in m.listings.iter().enumerate() {
            if l.exists && l.l.active_rentals != 0 {
                return Err(fail(
                    "final accounts",
                    format!("listing L{i} still counts {} active rentals", l.l.active_rentals),
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SettleKind {
    Stop,
    Finalize,
    Resolve(u16),
    ResolveExpired,
}

enum ListingAction {
    Update(ListingParams),
    Pause(bool),
    Close,
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

/// Addresses and bumps of rental `id` of a listing: the same in every sequence, so each is
/// derived once per thread.
#[derive(Debug, Clone, Copy)]
struct RentalPdas {
    rental: Pubkey,
    bump: u8,
    access: Pubkey,
    access_bump: u8,
    vault: Pubkey,
    vault_bump: u8,
}

thread_local! {
    static RENTAL_PDAS: std::cell::RefCell<std::collections::HashMap<(Pubkey, u64), RentalPdas>> =
        Default::default();
}

fn rental_pdas(listing: &Pubkey, id: u64) -> RentalPdas {
    RENTAL_PDAS.with(|cache| {
        *cache.borrow_mut().entry((*listing, id)).or_insert_with(|| {
            let (rental, bump) = pda::rental_with_bump(listing, id);
            let (access, access_bump) = pda::access_with_bump(&rental);
            let (vault, vault_bump) = pda::vault_with_bump(&rental);
            RentalPdas { rental, bump, access, access_bump, vault, vault_bump }
        })
    })
}

/// An instruction of the program from its account list (addresses derived once, in the world).
fn program_ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: PROGRAM_ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

fn serialize<T: AccountSerialize>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    v.try_serialize(&mut out).expect("serialize");
    out
}

fn describe(data: Option<&[u8]>) -> String {
    match data {
        None => "absent".into(),
        Some(d) => {
            if let Ok(r) = accounts::decode::<Rental>(d) {
                format!("{r:#?}")
            } else if let Ok(l) = accounts::decode::<Listing>(d) {
                format!("{l:#?}")
            } else if let Ok(p) = accounts::decode::<Provider>(d) {
                format!("{p:#?}")
            } else if let Ok(c) = accounts::decode::<Config>(d) {
                format!("{c:#?}")
            } else {
                format!("{} bytes", d.len())
            }
        }
    }
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

fn memo_required(data: &[u8]) -> bool {
    use t22::extension::{memo_transfer::MemoTransfer, BaseStateWithExtensions, StateWithExtensions};
    StateWithExtensions::<t22::state::Account>::unpack(data)
        .ok()
        .and_then(|s| s.get_extension::<MemoTransfer>().ok().map(|m| bool::from(m.require_incoming_transfer_memos)))
        .unwrap_or(false)
}

/// A failed transaction reduced to its program error name (from the IDL) and its logs.
fn failure(f: litesvm::types::FailedTransactionMetadata) -> svm::Failure {
    let logs = f.meta.logs.clone();
    let name = match gpu_escrow_sdk::SdkError::from_transaction_error(&f.err, logs.clone()) {
        gpu_escrow_sdk::SdkError::Program { name, .. } => name,
        other => other.to_string(),
    };
    svm::Failure { name, logs }
}

/// Maps the token programs' refusals to the model's names for them.
fn normalise(name: &str) -> String {
    if name.contains("custom program error: 0x11") {
        TOKEN_FROZEN.to_string()
    } else {
        name.to_string()
    }
}
