//! The floor: `gpu-escrow-floor` (tests/fixtures/floor) makes the same account creations and
//! token CPIs as each gpu-escrow instruction, bare, in the same LiteSVM with p-token. What
//! gpu-escrow costs above it is its own overhead (account checks, state, math, events).
use gpu_escrow_sdk::{Instruction, Keypair, Pubkey, Signer};
use gpu_escrow_tests::svm::{self, Env, SPL_TOKEN};

pub const FLOOR_ID: Pubkey = Pubkey::from_str_const("F1oorGpuEscrowBench1111111111111111111111111");

fn so() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/gpu_escrow_floor.so");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{} ({e}); run scripts/build-sbf gpu-escrow-floor", path.display()))
}

pub struct Floor {
    env: Env,
    payer: Keypair,
    mint: Pubkey,
    listing: Keypair,
}

fn meta(key: Pubkey, signer: bool, writable: bool) -> anchor_lang::prelude::AccountMeta {
    if writable {
        anchor_lang::prelude::AccountMeta::new(key, signer)
    } else {
        anchor_lang::prelude::AccountMeta::new_readonly(key, signer)
    }
}

impl Floor {
    pub fn new() -> Self {
        svm::seed_keys(Some(7_000));
        let mut env = Env::new();
        env.svm.add_program(FLOOR_ID, &so()).expect("load gpu_escrow_floor.so");
        let payer = env.wallet();
        let mint = env.create_mint(SPL_TOKEN);
        env.fund(&payer.pubkey(), &mint, 1_000_000_000);
        let listing = svm::fresh_keypair();
        svm::seed_keys(None);
        Floor { env, payer, mint, listing }
    }

    fn ix(&self, data: Vec<u8>, accounts: Vec<(Pubkey, bool, bool)>) -> Instruction {
        Instruction {
            program_id: FLOOR_ID,
            accounts: accounts.into_iter().map(|(k, s, w)| meta(k, s, w)).collect(),
            data,
        }
    }

    fn run(&mut self, ixs: &[Instruction]) -> u64 {
        let payer = self.payer.insecure_clone();
        let meta = self.env.send(ixs, &payer, &[]).unwrap_or_else(|f| panic!("floor: {f:?}"));
        meta.compute_units_consumed
    }

    fn pdas(&self, id: u64) -> [(Pubkey, u8); 3] {
        let rental =
            Pubkey::find_program_address(&[b"rental", self.listing.pubkey().as_ref(), &id.to_le_bytes()], &FLOOR_ID);
        let access = Pubkey::find_program_address(&[b"access", rental.0.as_ref()], &FLOOR_ID);
        let vault = Pubkey::find_program_address(&[b"vault", rental.0.as_ref()], &FLOOR_ID);
        [rental, access, vault]
    }

    fn open(&mut self, id: u64, deposit: u64) -> u64 {
        let [(rental, rb), (access, ab), (vault, vb)] = self.pdas(id);
        let mut data = vec![0, rb, ab, vb, svm::DECIMALS];
        data.extend_from_slice(&id.to_le_bytes());
        data.extend_from_slice(&deposit.to_le_bytes());
        let rental_space = 8 + <gpu_escrow::state::Rental as anchor_lang::Space>::INIT_SPACE;
        let access_space = gpu_escrow::state::RentalAccess::space(svm::TEST_SSH_KEY.len());
        data.extend_from_slice(&(rental_space as u16).to_le_bytes());
        data.extend_from_slice(&(access_space as u16).to_le_bytes());
        let payer_token = gpu_escrow_sdk::pda::ata(&self.payer.pubkey(), &self.mint, &SPL_TOKEN);
        let ix = self.ix(
            data,
            vec![
                (self.payer.pubkey(), true, true),
                (rental, false, true),
                (access, false, true),
                (vault, false, true),
                (self.mint, false, false),
                (payer_token, false, true),
                (SPL_TOKEN, false, false),
                (anchor_lang::system_program::ID, false, false),
                (self.listing.pubkey(), false, false),
            ],
        );
        self.run(&[ix])
    }

    /// `n` transfers out of rental `id`'s vault to fresh token accounts, then maybe a close.
    fn pay(&mut self, id: u64, n: u8, close: bool) -> Instruction {
        let [(rental, rb), _, (vault, _)] = self.pdas(id);
        let mut data = vec![1, rb, svm::DECIMALS];
        data.extend_from_slice(&id.to_le_bytes());
        data.push(close as u8);
        data.push(n);
        let mut accounts = vec![
            (rental, false, false),
            (vault, false, true),
            (self.mint, false, false),
            (SPL_TOKEN, false, false),
            (self.listing.pubkey(), false, false),
            (self.payer.pubkey(), false, true),
        ];
        for _ in 0..n {
            data.extend_from_slice(&1_000u64.to_le_bytes());
            let owner = Keypair::new().pubkey();
            let mint = self.mint;
            accounts.push((self.env.fund(&owner, &mint, 0), false, true));
        }
        self.ix(data, accounts)
    }

    fn write(&self, account: Pubkey, len: usize) -> Instruction {
        let mut data = vec![3];
        data.extend_from_slice(&8u16.to_le_bytes());
        data.extend_from_slice(&(len as u16).to_le_bytes());
        data.extend(std::iter::repeat_n(7u8, len));
        self.ix(data, vec![(account, false, true)])
    }

    /// What an event costs: a bare instruction, the same logging an event-sized payload with
    /// `sol_log_data` (`emit!`), and sending it in a self-CPI signed by a PDA (`emit_cpi!`).
    pub fn event_costs(&mut self, payload: usize) -> (u64, u64, u64) {
        let bare = {
            // A zero-byte write to an account of the floor's own: the instruction's overhead.
            self.open(0, 3_600_000);
            let ix = self.write(self.pdas(0)[0].0, 0);
            self.run(&[ix])
        };
        let mut log = vec![5];
        log.extend_from_slice(&(payload as u16).to_le_bytes());
        log.extend(std::iter::repeat_n(7u8, payload));
        let log = self.ix(log, vec![]);
        let (authority, bump) = Pubkey::find_program_address(&[b"__event_authority"], &FLOOR_ID);
        let mut cpi = vec![6, bump];
        cpi.extend_from_slice(&(payload as u16).to_le_bytes());
        cpi.extend(std::iter::repeat_n(7u8, payload));
        let cpi = self.ix(cpi, vec![(authority, false, false), (FLOOR_ID, false, false)]);
        (bare, self.run(&[log]), self.run(&[cpi]))
    }

    /// The floor of each instruction the benchmark measures, by the same names.
    pub fn costs(&self) -> Vec<(&'static str, u64)> {
        let mut f = Floor::new();
        let mut out = Vec::new();
        out.push(("open_rental", f.open(0, 3_600_000)));
        let [(rental, _), (access, _), _] = f.pdas(0);
        let ix = f.write(access, 260);
        out.push(("activate_rental", f.run(&[ix])));
        let ix = f.write(rental, 8);
        out.push(("heartbeat", f.run(&[ix])));
        let ix = f.pay(0, 2, false);
        out.push(("claim", f.run(&[ix])));
        let deposit = {
            let payer_token = gpu_escrow_sdk::pda::ata(&f.payer.pubkey(), &f.mint, &SPL_TOKEN);
            let mut data = vec![2, svm::DECIMALS];
            data.extend_from_slice(&1_000u64.to_le_bytes());
            let vault = f.pdas(0)[2].0;
            f.ix(
                data,
                vec![
                    (f.payer.pubkey(), true, true),
                    (payer_token, false, true),
                    (vault, false, true),
                    (f.mint, false, false),
                    (SPL_TOKEN, false, false),
                ],
            )
        };
        out.push(("top_up", f.run(&[deposit])));
        for (name, n, close) in [
            ("stop_rental", 3, true),
            ("resolve_dispute", 3, true),
            ("resolve_expired_dispute", 3, true),
            ("finalize_rental", 3, true),
            ("open_dispute", 1, false),
            ("cancel_rental", 1, true),
            ("decline_rental", 1, true),
            ("stop_rental (provider frozen)", 2, false),
            ("withdraw_owed", 1, true),
        ] {
            let id = out.len() as u64 + 10;
            // Each payout moves 1,000; a closing vault must end empty.
            f.open(id, 1_000 * n as u64);
            let ix = f.pay(id, n, close);
            out.push((name, f.run(&[ix])));
        }
        let close = f.ix(vec![4], vec![(f.payer.pubkey(), false, true), (rental, false, true), (access, false, true)]);
        out.push(("close_rental", f.run(&[close])));
        let ids: Vec<u64> = (0..10).map(|i| 100 + i).collect();
        for id in &ids {
            f.open(*id, 3_600_000);
        }
        let beats: Vec<_> = ids.iter().map(|id| f.write(f.pdas(*id)[0].0, 8)).collect();
        out.push(("heartbeat ×10 in one tx", f.run(&beats) / 10));
        let claims: Vec<_> = ids.iter().map(|id| f.pay(*id, 2, false)).collect();
        out.push(("claim ×10 in one tx", f.run(&claims) / 10));
        out
    }
}
