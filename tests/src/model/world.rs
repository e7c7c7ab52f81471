//! The prepared chain ([`World`]): built once, cloned for every sequence; and the addresses and
//! instructions derived once for it (deriving is slow in debug builds).
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow::accounts as acc;
use gpu_escrow::instruction as args;
use gpu_escrow_sdk::accounts::{self, AcceptedMint, Config, Provider};
use gpu_escrow_sdk::ix::{self, RentalKeys, RentalTerms};
use gpu_escrow_sdk::{pda, Keypair, Signer, PROGRAM_ID};
use litesvm::LiteSVM;

use super::account_data::token_amount;
use super::fixtures::{
    funds, params, ADMIN, HOLDERS, LISTINGS, MIN_RATED_GROSS, NW, P0, P1, PROVIDERS, R0, R1, R2, SSH_KEY, STRANGER,
};
use super::state::{MListing, MToken, Model};
use crate::svm::{self, Env, SPL_TOKEN, START_TIME, TOKEN_2022};

const SOL: u64 = 1_000_000_000;
/// Every key of the world comes from this seed (`svm::seed_keys`), so every run builds the
/// same addresses and a printed seed replays exactly.
const KEY_SEED: u64 = 0x6E5C_0DE5_0000_0000;

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
    pub(super) static_keys: Vec<Pubkey>,
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
                max_rental_secs: 6,
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
            failure: None,
        }
    }

    pub fn wallet_of(&self, key: &Pubkey) -> Option<usize> {
        self.pk.iter().position(|k| k == key)
    }
}

/// Addresses and bumps of rental `id` of a listing: the same in every sequence, so each is
/// derived once per thread.
#[derive(Debug, Clone, Copy)]
pub(super) struct RentalPdas {
    pub(super) rental: Pubkey,
    pub(super) bump: u8,
    pub(super) access: Pubkey,
    pub(super) access_bump: u8,
    pub(super) vault: Pubkey,
    pub(super) vault_bump: u8,
}

thread_local! {
    static RENTAL_PDAS: std::cell::RefCell<std::collections::HashMap<(Pubkey, u64), RentalPdas>> =
        Default::default();
}

pub(super) fn rental_pdas(listing: &Pubkey, id: u64) -> RentalPdas {
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
pub(super) fn program_ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: PROGRAM_ID, accounts: accounts.to_account_metas(None), data: data.data() }
}
