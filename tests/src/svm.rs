//! In-process harness: the real `gpu_escrow.so` in LiteSVM, next to the real SPL Token,
//! Token-2022 and Associated Token programs that LiteSVM ships, with time moved through the
//! Clock sysvar.
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow::state::{fixed_bytes, ListingParams};
use gpu_escrow_sdk::access::{self, AccessKey, ConnectionDetails};
use gpu_escrow_sdk::{accounts, ix, pda, quote, PROGRAM_ID};
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use solana_account::Account;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_signer::Signer;
use solana_transaction::Transaction;

pub const SPL_TOKEN: Pubkey = anchor_spl::token::ID;
pub const TOKEN_2022: Pubkey = anchor_spl::token_2022::ID;
pub const DECIMALS: u8 = 6;
pub const START_TIME: i64 = 1_800_000_000;

/// Path of the built program; `scripts/build-sbf` writes it.
pub fn program_so() -> PathBuf {
    if let Ok(p) = std::env::var("GPU_ESCROW_SO") {
        return p.into();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/gpu_escrow.so")
}

pub fn program_bytes() -> Vec<u8> {
    let path = program_so();
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read {} ({e}); build it with scripts/build-sbf", path.display()))
}

thread_local! {
    /// When set, every key the harness makes comes from this counter, so a run (e.g. the
    /// benchmark) sees the same addresses, and so the same PDA bump searches, every time.
    static KEY_SEED: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Makes this thread's harness keys deterministic from `seed` (None: random again).
pub fn seed_keys(seed: Option<u64>) {
    KEY_SEED.with(|k| k.set(seed));
}

/// A new keypair: random, or the next one from the thread's seed.
pub fn fresh_keypair() -> Keypair {
    match KEY_SEED.with(|k| k.get()) {
        None => Keypair::new(),
        Some(n) => {
            KEY_SEED.with(|k| k.set(Some(n + 1)));
            let mut secret = [0u8; 32];
            secret[..8].copy_from_slice(&n.to_le_bytes());
            secret[8..16].copy_from_slice(b"gpu-escr");
            Keypair::new_from_array(secret)
        }
    }
}

/// A failed transaction, reduced to what tests assert on.
#[derive(Debug)]
pub struct Failure {
    /// Program error name from the IDL (e.g. "MarketPaused"), or the raw error text.
    pub name: String,
    pub logs: Vec<String>,
}

pub type TxResult = Result<TransactionMetadata, Failure>;

fn failure(f: FailedTransactionMetadata) -> Failure {
    let logs = f.meta.logs.clone();
    let name = match gpu_escrow_sdk::SdkError::from_transaction_error(&f.err, logs.clone()) {
        gpu_escrow_sdk::SdkError::Program { name, .. } => name,
        other => other.to_string(),
    };
    Failure { name, logs }
}

pub struct Env {
    pub svm: LiteSVM,
    pub admin: Keypair,
    pub arbiter: Keypair,
    pub treasury: Keypair,
}

impl Env {
    /// The program deployed with `admin` as upgrade authority; the clock at START_TIME.
    pub fn new() -> Self {
        Self::on(LiteSVM::new())
    }

    /// As `new`, but with classic SPL Token 3.5 where mainnet now runs p-token (the mainnet
    /// feature set without SIMD-0266), for benchmarks that report both.
    pub fn with_classic_spl_token() -> Self {
        const P_TOKEN: Pubkey = Pubkey::from_str_const("ptokFjwyJtrwCa9Kgo9xoDS59V4QccBGEaRFnRPnSdP");
        let mut features = LiteSVM::mainnet_feature_set();
        features.deactivate(&P_TOKEN);
        let svm = LiteSVM::default()
            .with_feature_set(features)
            .with_builtins()
            .with_lamports(1_000_000_000_000_000_000)
            .with_sysvars()
            .with_feature_accounts()
            .with_default_programs()
            .with_sigverify(true)
            .with_blockhash_check(true);
        Self::on(svm)
    }

    fn on(mut svm: LiteSVM) -> Self {
        svm.add_program(PROGRAM_ID, &program_bytes()).expect("load gpu_escrow.so");
        let admin = fresh_keypair();
        set_upgrade_authority(&mut svm, &admin.pubkey());
        let mut env = Env { svm, admin, arbiter: fresh_keypair(), treasury: fresh_keypair() };
        for k in [&env.admin.pubkey(), &env.arbiter.pubkey(), &env.treasury.pubkey()] {
            env.svm.airdrop(k, 100_000_000_000).unwrap();
        }
        env.set_time(START_TIME);
        env
    }

    /// Env with the config initialised (fee 250 bps) and one SPL Token mint accepted.
    pub fn with_config() -> (Self, Pubkey) {
        let mut env = Self::new();
        env.init_config(250).expect("initialize_config");
        let mint = env.create_mint(SPL_TOKEN);
        env.admin_send(ix::add_mint(&env.admin.pubkey(), &mint, &SPL_TOKEN, 0)).expect("add_mint");
        (env, mint)
    }

    pub fn init_config(&mut self, fee_bps: u16) -> TxResult {
        let args = ix::InitializeConfigArgs {
            arbiter: self.arbiter.pubkey(),
            treasury: self.treasury.pubkey(),
            fee_bps,
            activation_timeout_secs: 600,
            dispute_timeout_secs: 3_600,
        };
        self.admin_send(ix::initialize_config(&self.admin.pubkey(), args))
    }

    pub fn now(&self) -> i64 {
        self.svm.get_sysvar::<anchor_lang::prelude::Clock>().unix_timestamp
    }

    pub fn set_time(&mut self, t: i64) {
        let mut clock = self.svm.get_sysvar::<anchor_lang::prelude::Clock>();
        clock.unix_timestamp = t;
        clock.slot += 1;
        self.svm.set_sysvar(&clock);
        // A new blockhash lets a test resend an identical transaction after the clock moves.
        self.svm.expire_blockhash();
    }

    pub fn advance(&mut self, secs: i64) {
        let t = self.now() + secs;
        self.set_time(t);
    }

    pub fn wallet(&mut self) -> Keypair {
        let k = fresh_keypair();
        self.svm.airdrop(&k.pubkey(), 10_000_000_000).unwrap();
        k
    }

    pub fn send(&mut self, ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> TxResult {
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        let msg = Message::new(ixs, Some(&payer.pubkey()));
        let tx = Transaction::new(&all, msg, self.svm.latest_blockhash());
        let res = self.svm.send_transaction(tx).map_err(failure);
        self.svm.expire_blockhash();
        res
    }

    pub fn send1(&mut self, ix: Instruction, signer: &Keypair) -> TxResult {
        self.send(&[ix], signer, &[])
    }

    pub fn admin_send(&mut self, ix: Instruction) -> TxResult {
        let admin = self.admin.insecure_clone();
        self.send1(ix, &admin)
    }

    // ------------------------------------------------------------ tokens

    pub fn create_mint(&mut self, token_program: Pubkey) -> Pubkey {
        self.create_mint_with(token_program, &[], |_, _| vec![])
    }

    /// Creates a mint with Token-2022 extensions: `init` returns the extension initialisers
    /// that must run between account creation and InitializeMint2.
    pub fn create_mint_with(
        &mut self,
        token_program: Pubkey,
        extensions: &[t22::extension::ExtensionType],
        init: impl FnOnce(&Pubkey, &Pubkey) -> Vec<Instruction>,
    ) -> Pubkey {
        let mint = fresh_keypair();
        let payer = self.admin.insecure_clone();
        let space = if extensions.is_empty() {
            82
        } else {
            t22::extension::ExtensionType::try_calculate_account_len::<t22::state::Mint>(extensions).unwrap()
        };
        let lamports = self.svm.minimum_balance_for_rent_exemption(space);
        let mut ixs = vec![solana_system_interface_create(
            &payer.pubkey(),
            &mint.pubkey(),
            lamports,
            space as u64,
            &token_program,
        )];
        ixs.extend(init(&mint.pubkey(), &payer.pubkey()));
        ixs.push(
            t22::instruction::initialize_mint2(
                &token_program,
                &mint.pubkey(),
                &payer.pubkey(),
                Some(&payer.pubkey()),
                DECIMALS,
            )
            .unwrap(),
        );
        self.send(&ixs, &payer, &[&mint]).unwrap_or_else(|f| panic!("create mint: {f:?}"));
        mint.pubkey()
    }

    /// Creates `owner`'s ATA if needed and mints `amount` into it.
    pub fn fund(&mut self, owner: &Pubkey, mint: &Pubkey, amount: u64) -> Pubkey {
        let tp = self.token_program_of(mint);
        let payer = self.admin.insecure_clone();
        let ata = pda::ata(owner, mint, &tp);
        let mut ixs = vec![ix::create_ata_idempotent(&payer.pubkey(), owner, mint, &tp)];
        if amount > 0 {
            ixs.push(t22::instruction::mint_to(&tp, mint, &ata, &payer.pubkey(), &[], amount).unwrap());
        }
        self.send(&ixs, &payer, &[]).unwrap_or_else(|f| panic!("fund: {f:?}"));
        ata
    }

    /// Freezes or thaws `owner`'s ATA with the mint's freeze authority (the admin here),
    /// as a stablecoin issuer can.
    pub fn set_frozen(&mut self, owner: &Pubkey, mint: &Pubkey, frozen: bool) {
        let tp = self.token_program_of(mint);
        let ata = pda::ata(owner, mint, &tp);
        let admin = self.admin.insecure_clone();
        let ix = if frozen {
            t22::instruction::freeze_account(&tp, &ata, mint, &admin.pubkey(), &[])
        } else {
            t22::instruction::thaw_account(&tp, &ata, mint, &admin.pubkey(), &[])
        };
        self.send1(ix.unwrap(), &admin).unwrap_or_else(|f| panic!("freeze/thaw: {f:?}"));
    }

    /// Closes `owner`'s empty ATA (its owner signs), as a party who no longer wants it would.
    pub fn close_token_account(&mut self, owner: &Keypair, mint: &Pubkey) {
        let tp = self.token_program_of(mint);
        let ata = pda::ata(&owner.pubkey(), mint, &tp);
        let ix = t22::instruction::close_account(&tp, &ata, &owner.pubkey(), &owner.pubkey(), &[]).unwrap();
        self.send1(ix, owner).unwrap_or_else(|f| panic!("close token account: {f:?}"));
        assert!(!self.exists(&ata));
    }

    pub fn token_program_of(&self, mint: &Pubkey) -> Pubkey {
        self.svm.get_account(mint).expect("mint exists").owner
    }

    /// Token balance of `owner`'s ATA (0 if it does not exist).
    pub fn balance(&self, owner: &Pubkey, mint: &Pubkey) -> u64 {
        let ata = pda::ata(owner, mint, &self.token_program_of(mint));
        self.token_amount(&ata)
    }

    pub fn token_amount(&self, token_account: &Pubkey) -> u64 {
        match self.svm.get_account(token_account) {
            Some(a) if a.data.len() >= 72 => u64::from_le_bytes(a.data[64..72].try_into().unwrap()),
            _ => 0,
        }
    }

    pub fn exists(&self, address: &Pubkey) -> bool {
        self.svm.get_account(address).is_some_and(|a| a.lamports > 0)
    }

    pub fn decode<T: anchor_lang::AccountDeserialize>(&self, address: &Pubkey) -> T {
        let a = self.svm.get_account(address).unwrap_or_else(|| panic!("account {address} missing"));
        accounts::decode(&a.data).unwrap()
    }

    pub fn lamports(&self, address: &Pubkey) -> u64 {
        self.svm.get_balance(address).unwrap_or(0)
    }
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

fn solana_system_interface_create(
    from: &Pubkey,
    to: &Pubkey,
    lamports: u64,
    space: u64,
    owner: &Pubkey,
) -> Instruction {
    // SystemInstruction::CreateAccount = 0: lamports u64, space u64, owner pubkey.
    let mut data = vec![0u8; 4];
    data.extend_from_slice(&lamports.to_le_bytes());
    data.extend_from_slice(&space.to_le_bytes());
    data.extend_from_slice(owner.as_ref());
    Instruction {
        program_id: anchor_lang::system_program::ID,
        accounts: vec![
            anchor_lang::prelude::AccountMeta::new(*from, true),
            anchor_lang::prelude::AccountMeta::new(*to, true),
        ],
        data,
    }
}

/// LiteSVM deploys with no upgrade authority; give the program one so only `authority`
/// can initialise the config, exactly as after a real upgradeable deploy.
fn set_upgrade_authority(svm: &mut LiteSVM, authority: &Pubkey) {
    let programdata = pda::program_data();
    let mut acct: Account = svm.get_account(&programdata).expect("programdata account");
    // ProgramData metadata: u32 tag (3), u64 slot, Option<Pubkey> (1 + 32).
    acct.data[12] = 1;
    acct.data[13..45].copy_from_slice(authority.as_ref());
    svm.set_account(programdata, acct).unwrap();
}

// ------------------------------------------------------------ marketplace fixtures

pub fn listing_params(price_per_hour: u64) -> ListingParams {
    ListingParams {
        price_per_hour,
        gpu_model: fixed_bytes("RTX 4090").unwrap(),
        region: fixed_bytes("eu-west").unwrap(),
        gpu_count: 1,
        vram_gb: 24,
        cpu_cores: 16,
        ram_gb: 64,
        disk_gb: 500,
        min_rental_secs: 60,
        max_rental_secs: 30 * 24 * 3_600,
        heartbeat_interval_secs: 0,
        capacity: 2,
    }
}

/// A provider with one listing, and a funded renter.
pub struct Market {
    pub env: Env,
    pub mint: Pubkey,
    pub provider: Keypair,
    pub renter: Keypair,
    pub listing: Pubkey,
}

pub const PRICE: u64 = 3_600_000; // 3.6 tokens per hour = 1_000 base units per second
pub const TEST_SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

/// The connection details the test provider hands out.
pub fn test_connection() -> ConnectionDetails {
    ConnectionDetails {
        host: Some("203.0.113.7".into()),
        port: Some(2222),
        user: Some("renter".into()),
        host_key: Some("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheTestMachine0000000000000000".into()),
        ..Default::default()
    }
}
pub const RENTER_FUNDS: u64 = 1_000_000_000;

impl Market {
    pub fn new() -> Self {
        Self::with_params(listing_params(PRICE))
    }

    pub fn with_params(params: ListingParams) -> Self {
        let (env, mint) = Env::with_config();
        Self::on(env, mint, params)
    }

    pub fn on(mut env: Env, mint: Pubkey, params: ListingParams) -> Self {
        let provider = env.wallet();
        let renter = env.wallet();
        env.send1(ix::register_provider(&provider.pubkey()), &provider).expect("register_provider");
        env.send1(ix::create_listing(&provider.pubkey(), 0, &mint, params), &provider).expect("create_listing");
        env.fund(&renter.pubkey(), &mint, RENTER_FUNDS);
        env.fund(&provider.pubkey(), &mint, 0);
        let treasury = env.treasury.pubkey();
        env.fund(&treasury, &mint, 0);
        let listing = pda::listing(&provider.pubkey(), 0);
        Market { env, mint, provider, renter, listing }
    }

    pub fn keys(&self, rental_id: u64) -> ix::RentalKeys {
        let tp = self.env.token_program_of(&self.mint);
        ix::RentalKeys::new(self.listing, self.renter.pubkey(), rental_id, self.provider.pubkey(), self.mint, tp)
    }

    /// The id the listing will give its next rental.
    pub fn next_id(&self) -> u64 {
        self.env.decode::<accounts::Listing>(&self.listing).rentals_opened
    }

    /// The open the renter's client would send now: the next id, the listing's current terms,
    /// the renter's access key and a test SSH key.
    pub fn open_request(&self, deposit: u64) -> ix::OpenRequest {
        let l: accounts::Listing = self.env.decode(&self.listing);
        let config: accounts::Config = self.env.decode(&pda::config());
        ix::OpenRequest {
            renter: self.renter.pubkey(),
            listing: self.listing,
            mint: self.mint,
            token_program: self.env.token_program_of(&self.mint),
            rental_id: l.rentals_opened,
            deposit,
            terms: quote::terms(&l, &config),
            access: ix::AccessRequest {
                recipient: AccessKey::from_wallet(&self.renter).recipient(),
                ssh_key: TEST_SSH_KEY.as_bytes().to_vec(),
            },
        }
    }

    pub fn send_open(&mut self, req: &ix::OpenRequest) -> Result<ix::RentalKeys, Failure> {
        let renter = self.renter.insecure_clone();
        self.env.send1(ix::open_rental(req), &renter)?;
        Ok(self.keys(req.rental_id))
    }

    /// Opens the listing's next rental with `deposit`.
    pub fn open(&mut self, deposit: u64) -> Result<ix::RentalKeys, Failure> {
        let req = self.open_request(deposit);
        self.send_open(&req)
    }

    /// Activates with connection details sealed to the renter, as a provider's agent would.
    pub fn activate(&mut self, k: &ix::RentalKeys) -> TxResult {
        let p = self.provider.insecure_clone();
        let recipient = self.env.decode::<accounts::RentalAccess>(&k.access()).recipient;
        let sealed = access::seal(&test_connection(), &k.rental, &recipient, &p).expect("test details fit");
        self.env.send1(ix::activate_rental(&p.pubkey(), &k.rental, &k.access(), sealed), &p)
    }

    /// Opens and activates the listing's next rental with `deposit`.
    pub fn running(&mut self, deposit: u64) -> ix::RentalKeys {
        let k = self.open(deposit).unwrap_or_else(|f| panic!("open: {f:?}"));
        self.activate(&k).unwrap_or_else(|f| panic!("activate: {f:?}"));
        k
    }

    pub fn claim(&mut self, k: &ix::RentalKeys) -> TxResult {
        let p = self.provider.insecure_clone();
        let treasury = self.env.treasury.pubkey();
        self.env.send1(ix::claim(k, &treasury), &p)
    }

    pub fn rental(&self, k: &ix::RentalKeys) -> accounts::Rental {
        self.env.decode(&k.rental)
    }

    pub fn balances(&self) -> Balances {
        Balances {
            renter: self.env.balance(&self.renter.pubkey(), &self.mint),
            provider: self.env.balance(&self.provider.pubkey(), &self.mint),
            treasury: self.env.balance(&self.env.treasury.pubkey(), &self.mint),
        }
    }
}

impl Default for Market {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balances {
    pub renter: u64,
    pub provider: u64,
    pub treasury: u64,
}
