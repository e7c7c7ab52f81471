//! Pure instruction builders: no network, no signing. Each returns the `Instruction`s for
//! one program instruction, with every account derived from the arguments.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use gpu_escrow::{accounts as acc, instruction as args};

pub use gpu_escrow::instructions::{
    AddMintArgs, InitializeConfigArgs, OpenBumps, OpenRentalArgs, QuoteBy, RentalTerms, UpdateConfigArgs,
};
pub use gpu_escrow::state::ListingParams;

use crate::pda::{self, ata, PROGRAM_ID};

const SYSTEM_PROGRAM: Pubkey = anchor_lang::system_program::ID;

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: PROGRAM_ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// The addresses every instruction about one rental needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RentalKeys {
    pub rental: Pubkey,
    pub listing: Pubkey,
    pub renter: Pubkey,
    pub provider: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub vault: Pubkey,
    pub access: Pubkey,
}

impl RentalKeys {
    /// Keys of rental `rental_id` of `listing` (before or after it is opened).
    pub fn new(
        listing: Pubkey,
        renter: Pubkey,
        rental_id: u64,
        provider: Pubkey,
        mint: Pubkey,
        token_program: Pubkey,
    ) -> Self {
        let rental = pda::rental(&listing, rental_id);
        let (vault, access) = (pda::vault(&rental), pda::access(&rental));
        Self { rental, listing, renter, provider, mint, token_program, vault, access }
    }

    /// From a decoded rental account and its mint's owning token program. The vault and the
    /// access account come from what the rental stores, so they are right whatever bumps the
    /// opener chose.
    pub fn from_rental(rental: Pubkey, r: &gpu_escrow::state::Rental, token_program: Pubkey) -> Self {
        let access = pda::access_from_bump(&rental, r.access_bump).unwrap_or_else(|| pda::access(&rental));
        Self {
            rental,
            listing: r.listing,
            renter: r.renter,
            provider: r.provider,
            mint: r.mint,
            token_program,
            vault: r.vault,
            access,
        }
    }

    pub fn vault(&self) -> Pubkey {
        self.vault
    }

    pub fn access(&self) -> Pubkey {
        self.access
    }
    /// `owner`'s associated token account for the rental's mint.
    pub fn token_account_of(&self, owner: &Pubkey) -> Pubkey {
        ata(owner, &self.mint, &self.token_program)
    }
    pub fn renter_token(&self) -> Pubkey {
        ata(&self.renter, &self.mint, &self.token_program)
    }
    pub fn provider_token(&self) -> Pubkey {
        ata(&self.provider, &self.mint, &self.token_program)
    }
    pub fn treasury_token(&self, treasury: &Pubkey) -> Pubkey {
        ata(treasury, &self.mint, &self.token_program)
    }
}

// ---------------------------------------------------------------- admin

pub fn initialize_config(admin: &Pubkey, a: InitializeConfigArgs) -> Instruction {
    ix(
        acc::InitializeConfig {
            admin: *admin,
            config: pda::config(),
            program: PROGRAM_ID,
            program_data: pda::program_data(),
            system_program: SYSTEM_PROGRAM,
        },
        args::InitializeConfig { args: a },
    )
}

pub fn update_config(admin: &Pubkey, a: UpdateConfigArgs) -> Instruction {
    ix(acc::UpdateConfig { admin: *admin, config: pda::config() }, args::UpdateConfig { args: a })
}

pub fn propose_admin(admin: &Pubkey, new_admin: &Pubkey) -> Instruction {
    ix(acc::ProposeAdmin { admin: *admin, config: pda::config() }, args::ProposeAdmin { new_admin: *new_admin })
}

pub fn accept_admin(pending_admin: &Pubkey) -> Instruction {
    ix(acc::AcceptAdmin { pending_admin: *pending_admin, config: pda::config() }, args::AcceptAdmin {})
}

/// Accepts `mint` for payment; rentals in it can be rated once they billed at least
/// `min_rated_gross` base units (and 10 minutes).
pub fn add_mint(admin: &Pubkey, mint: &Pubkey, token_program: &Pubkey, min_rated_gross: u64) -> Instruction {
    ix(
        acc::AddMint {
            admin: *admin,
            config: pda::config(),
            mint: *mint,
            accepted_mint: pda::accepted_mint(mint),
            token_program: *token_program,
            system_program: SYSTEM_PROGRAM,
        },
        args::AddMint { args: AddMintArgs { min_rated_gross } },
    )
}

pub fn remove_mint(admin: &Pubkey, mint: &Pubkey) -> Instruction {
    ix(
        acc::RemoveMint { admin: *admin, config: pda::config(), accepted_mint: pda::accepted_mint(mint) },
        args::RemoveMint {},
    )
}

pub fn set_paused(admin: &Pubkey, paused: bool) -> Instruction {
    ix(acc::SetPaused { admin: *admin, config: pda::config() }, args::SetPaused { paused })
}

// ---------------------------------------------------------------- provider

pub fn register_provider(authority: &Pubkey) -> Instruction {
    ix(
        acc::RegisterProvider {
            authority: *authority,
            provider: pda::provider(authority),
            system_program: SYSTEM_PROGRAM,
        },
        args::RegisterProvider {},
    )
}

/// `listing_id` must be the provider profile's `listings_created` counter.
pub fn create_listing(authority: &Pubkey, listing_id: u64, mint: &Pubkey, params: ListingParams) -> Instruction {
    ix(
        acc::CreateListing {
            authority: *authority,
            config: pda::config(),
            provider: pda::provider(authority),
            mint: *mint,
            accepted_mint: pda::accepted_mint(mint),
            listing: pda::listing(authority, listing_id),
            system_program: SYSTEM_PROGRAM,
        },
        args::CreateListing { params },
    )
}

pub fn update_listing(authority: &Pubkey, listing: &Pubkey, params: ListingParams) -> Instruction {
    ix(acc::UpdateListing { authority: *authority, listing: *listing }, args::UpdateListing { params })
}

pub fn set_listing_paused(authority: &Pubkey, listing: &Pubkey, paused: bool) -> Instruction {
    ix(acc::SetListingPaused { authority: *authority, listing: *listing }, args::SetListingPaused { paused })
}

pub fn close_listing(authority: &Pubkey, listing: &Pubkey) -> Instruction {
    ix(acc::CloseListing { authority: *authority, listing: *listing }, args::CloseListing {})
}

/// Activates a funded rental, storing `sealed` (the connection details sealed to the renter
/// with [`crate::access::seal`]; at most `SEALED_MAX` bytes, empty if delivered otherwise).
/// `access` is the rental's access account ([`RentalKeys::access`]).
pub fn activate_rental(provider: &Pubkey, rental: &Pubkey, access: &Pubkey, sealed: Vec<u8>) -> Instruction {
    ix(acc::ActivateRental { provider: *provider, rental: *rental, access: *access }, args::ActivateRental { sealed })
}

pub fn heartbeat(provider: &Pubkey, rental: &Pubkey) -> Instruction {
    ix(acc::Heartbeat { provider: *provider, rental: *rental }, args::Heartbeat {})
}

pub fn claim(k: &RentalKeys, treasury: &Pubkey) -> Instruction {
    ix(
        acc::Claim {
            provider: k.provider,
            config: pda::config(),
            rental: k.rental,
            vault: k.vault(),
            mint: k.mint,
            provider_token: k.provider_token(),
            treasury_token: k.treasury_token(treasury),
            token_program: k.token_program,
        },
        args::Claim {},
    )
}

/// A payee (renter, provider or the treasury wallet) takes out what the vault holds for it,
/// into `destination`, its own token account for the mint.
pub fn withdraw_owed(payee: &Pubkey, k: &RentalKeys, destination: &Pubkey) -> Instruction {
    ix(
        acc::WithdrawOwed {
            payee: *payee,
            config: pda::config(),
            rental: k.rental,
            renter: k.renter,
            vault: k.vault(),
            mint: k.mint,
            destination: *destination,
            token_program: k.token_program,
        },
        args::WithdrawOwed {},
    )
}

/// Anyone delivers what the vault holds for the payees to their associated token accounts
/// (those that can receive now); `caller` only pays the fee.
pub fn deliver_owed(caller: &Pubkey, k: &RentalKeys, treasury: &Pubkey) -> Instruction {
    ix(
        acc::DeliverOwed {
            caller: *caller,
            config: pda::config(),
            rental: k.rental,
            renter: k.renter,
            vault: k.vault(),
            mint: k.mint,
            renter_token: k.renter_token(),
            provider_token: k.provider_token(),
            treasury_token: k.treasury_token(treasury),
            token_program: k.token_program,
        },
        args::DeliverOwed {},
    )
}

fn end_unactivated(caller: &Pubkey, k: &RentalKeys) -> acc::EndUnactivated {
    acc::EndUnactivated {
        caller: *caller,
        rental: k.rental,
        listing: k.listing,
        provider_profile: pda::provider(&k.provider),
        renter: k.renter,
        vault: k.vault(),
        mint: k.mint,
        renter_token: k.renter_token(),
        token_program: k.token_program,
    }
}

pub fn decline_rental(k: &RentalKeys) -> Instruction {
    ix(end_unactivated(&k.provider, k), args::DeclineRental {})
}

// ---------------------------------------------------------------- renter

/// What the renter asks of the provider for access.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRequest {
    /// X25519 key the connection details are sealed to ([`crate::access::AccessKey`]).
    pub recipient: [u8; 32],
    /// An `authorized_keys` line for the provider to install; may be empty.
    pub ssh_key: Vec<u8>,
}

/// Everything `open_rental` needs. `rental_id` must be the listing's `rentals_opened`, and
/// `terms` what the renter was quoted (see [`crate::quote::terms`]): if the listing or fee
/// changes before the transaction lands, it fails with `TermsChanged` and moves nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequest {
    pub renter: Pubkey,
    pub listing: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub rental_id: u64,
    pub deposit: u64,
    pub terms: RentalTerms,
    pub access: AccessRequest,
}

impl OpenRequest {
    /// The address the rental will have.
    pub fn rental(&self) -> Pubkey {
        pda::rental(&self.listing, self.rental_id)
    }
}

pub fn open_rental(req: &OpenRequest) -> Instruction {
    let (rental, rental_bump) = pda::rental_with_bump(&req.listing, req.rental_id);
    let (access, access_bump) = pda::access_with_bump(&rental);
    let (vault, vault_bump) = pda::vault_with_bump(&rental);
    ix(
        acc::OpenRental {
            renter: req.renter,
            config: pda::config(),
            accepted_mint: pda::accepted_mint(&req.mint),
            listing: req.listing,
            rental,
            access,
            vault,
            mint: req.mint,
            renter_token: ata(&req.renter, &req.mint, &req.token_program),
            token_program: req.token_program,
            system_program: SYSTEM_PROGRAM,
        },
        args::OpenRental {
            args: OpenRentalArgs {
                rental_id: req.rental_id,
                deposit: req.deposit,
                terms: req.terms,
                recipient: req.access.recipient,
                ssh_key: req.access.ssh_key.clone(),
                bumps: OpenBumps { rental: rental_bump, access: access_bump, vault: vault_bump },
            },
        },
    )
}

pub fn top_up(k: &RentalKeys, amount: u64) -> Instruction {
    ix(
        acc::TopUp {
            renter: k.renter,
            config: pda::config(),
            rental: k.rental,
            vault: k.vault(),
            mint: k.mint,
            renter_token: k.renter_token(),
            token_program: k.token_program,
        },
        args::TopUp { amount },
    )
}

/// The renter cancels any time before activation; anyone may after the activation timeout.
pub fn cancel_rental(caller: &Pubkey, k: &RentalKeys) -> Instruction {
    ix(end_unactivated(caller, k), args::CancelRental {})
}

pub fn close_rental(k: &RentalKeys, rating: Option<u8>) -> Instruction {
    ix(
        acc::CloseRental {
            renter: k.renter,
            rental: k.rental,
            access: k.access(),
            provider_profile: pda::provider(&k.provider),
        },
        args::CloseRental { rating },
    )
}

/// The renter rates a settled rental 1-5, once (also possible as `close_rental`'s option).
pub fn rate_rental(k: &RentalKeys, stars: u8) -> Instruction {
    ix(
        acc::RateRental { renter: k.renter, rental: k.rental, provider_profile: pda::provider(&k.provider) },
        args::RateRental { rating: stars },
    )
}

// ---------------------------------------------------------------- settlement and disputes

fn settle(caller: &Pubkey, k: &RentalKeys, treasury: &Pubkey) -> acc::Settle {
    acc::Settle {
        caller: *caller,
        config: pda::config(),
        rental: k.rental,
        listing: k.listing,
        provider_profile: pda::provider(&k.provider),
        renter: k.renter,
        vault: k.vault(),
        mint: k.mint,
        renter_token: k.renter_token(),
        provider_token: k.provider_token(),
        treasury_token: k.treasury_token(treasury),
        token_program: k.token_program,
    }
}

pub fn stop_rental(caller: &Pubkey, k: &RentalKeys, treasury: &Pubkey) -> Instruction {
    ix(settle(caller, k, treasury), args::StopRental {})
}

pub fn finalize_rental(caller: &Pubkey, k: &RentalKeys, treasury: &Pubkey) -> Instruction {
    ix(settle(caller, k, treasury), args::FinalizeRental {})
}

pub fn open_dispute(caller: &Pubkey, k: &RentalKeys, reason_code: u8) -> Instruction {
    ix(
        acc::OpenDispute {
            caller: *caller,
            rental: k.rental,
            listing: k.listing,
            vault: k.vault(),
            mint: k.mint,
            renter_token: k.renter_token(),
            token_program: k.token_program,
        },
        args::OpenDispute { reason_code },
    )
}

pub fn resolve_dispute(arbiter: &Pubkey, k: &RentalKeys, treasury: &Pubkey, provider_amount: u64) -> Instruction {
    ix(settle(arbiter, k, treasury), args::ResolveDispute { provider_amount })
}

pub fn resolve_expired_dispute(caller: &Pubkey, k: &RentalKeys, treasury: &Pubkey) -> Instruction {
    ix(settle(caller, k, treasury), args::ResolveExpiredDispute {})
}

pub fn quote(price_per_hour: u64, by: QuoteBy, fee_bps: u16) -> Instruction {
    ix(acc::GetQuote {}, args::Quote { price_per_hour, by, fee_bps })
}

// ---------------------------------------------------------------- token helpers

/// Creates `owner`'s associated token account if missing; a no-op when it exists.
pub fn create_ata_idempotent(payer: &Pubkey, owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Instruction {
    anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
        payer,
        owner,
        mint,
        token_program,
    )
}

/// The payer's own token account for the rental's mint, created if missing. Settlements
/// never need the other payees' accounts to exist: a share that cannot be delivered stays
/// held in the vault until its payee withdraws it, so nobody pays rent for someone else.
pub fn ensure_own_account(payer: &Pubkey, k: &RentalKeys) -> Instruction {
    create_ata_idempotent(payer, payer, &k.mint, &k.token_program)
}

pub const NATIVE_MINT: Pubkey = anchor_spl::token::spl_token::native_mint::ID;

/// Wraps `lamports` SOL into `owner`'s wrapped-SOL account (SPL Token), creating it if needed.
pub fn wrap_sol(owner: &Pubkey, lamports: u64) -> Vec<Instruction> {
    let token_program = anchor_spl::token::ID;
    let account = ata(owner, &NATIVE_MINT, &token_program);
    let transfer = solana_system_interface::instruction::transfer(owner, &account, lamports);
    vec![
        create_ata_idempotent(owner, owner, &NATIVE_MINT, &token_program),
        Instruction { program_id: transfer.program_id, accounts: transfer.accounts, data: transfer.data },
        anchor_spl::token::spl_token::instruction::sync_native(&token_program, &account)
            .expect("sync_native takes no fallible arguments"),
    ]
}

/// Closes `owner`'s wrapped-SOL account, returning every lamport to `owner` as SOL.
pub fn unwrap_sol(owner: &Pubkey) -> Instruction {
    let token_program = anchor_spl::token::ID;
    let account = ata(owner, &NATIVE_MINT, &token_program);
    anchor_spl::token::spl_token::instruction::close_account(&token_program, &account, owner, owner, &[])
        .expect("close_account with no multisig signers cannot fail")
}

// ---------------------------------------------------------------- test-token helpers

/// Creates and initialises a mint (SPL Token or Token-2022) with `authority` as mint and
/// freeze authority. For local clusters and tests; real markets use existing stablecoins.
pub fn create_mint(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
    token_program: &Pubkey,
    rent_lamports: u64,
) -> Vec<Instruction> {
    let create = solana_system_interface::instruction::create_account(
        payer,
        mint,
        rent_lamports,
        MINT_LEN as u64,
        token_program,
    );
    vec![
        Instruction { program_id: create.program_id, accounts: create.accounts, data: create.data },
        anchor_spl::token_2022::spl_token_2022::instruction::initialize_mint2(
            token_program,
            mint,
            authority,
            Some(authority),
            decimals,
        )
        .expect("valid token program id"),
    ]
}

pub const MINT_LEN: usize = 82;

/// Mints `amount` base units to `owner`'s associated token account, creating it if missing.
pub fn mint_to(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    owner: &Pubkey,
    token_program: &Pubkey,
    amount: u64,
) -> Vec<Instruction> {
    let ata = ata(owner, mint, token_program);
    vec![
        create_ata_idempotent(payer, owner, mint, token_program),
        anchor_spl::token_2022::spl_token_2022::instruction::mint_to(token_program, mint, &ata, authority, &[], amount)
            .expect("valid token program id"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::{AccountSerialize, Discriminator};
    use gpu_escrow::state::{fixed_bytes, Listing, Rental};

    #[test]
    fn open_rental_derives_every_account() {
        let (renter, listing, mint) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
        let tp = anchor_spl::token::ID;
        let terms = RentalTerms {
            price_per_hour: 3_600,
            heartbeat_interval_secs: 0,
            fee_bps: 250,
            activation_timeout_secs: 600,
            dispute_timeout_secs: 3_600,
            max_rental_secs: 86_400,
        };
        let req = OpenRequest {
            renter,
            listing,
            mint,
            token_program: tp,
            rental_id: 42,
            deposit: 1_000,
            terms,
            access: AccessRequest { recipient: [7; 32], ssh_key: b"ssh-ed25519 AAAA".to_vec() },
        };
        let ix = open_rental(&req);
        let rental = pda::rental(&listing, 42);
        assert_eq!(req.rental(), rental);
        let keys: Vec<Pubkey> = ix.accounts.iter().map(|a| a.pubkey).collect();
        assert_eq!(ix.program_id, PROGRAM_ID);
        assert!(keys.contains(&rental) && keys.contains(&pda::vault(&rental)) && keys.contains(&pda::config()));
        assert!(keys.contains(&pda::access(&rental)) && keys.contains(&ata(&renter, &mint, &tp)));
        assert!(ix.accounts.iter().any(|a| a.pubkey == renter && a.is_signer && a.is_writable));
        assert_eq!(&ix.data[..8], gpu_escrow::instruction::OpenRental::DISCRIMINATOR);
        let mut data = &ix.data[8..];
        let args = <OpenRentalArgs as anchor_lang::AnchorDeserialize>::deserialize(&mut data).unwrap();
        assert_eq!((args.rental_id, args.deposit, args.terms), (42, 1_000, terms));
        assert_eq!(args.bumps.vault, pda::vault_with_bump(&rental).1);
        assert!(data.is_empty());
    }

    #[test]
    fn an_open_with_the_longest_ssh_key_and_sol_wrapping_fits_in_one_transaction() {
        let renter = Pubkey::new_unique();
        let req = OpenRequest {
            renter,
            listing: Pubkey::new_unique(),
            mint: NATIVE_MINT,
            token_program: anchor_spl::token::ID,
            rental_id: u64::MAX,
            deposit: u64::MAX,
            terms: RentalTerms {
                price_per_hour: 1,
                heartbeat_interval_secs: 1,
                fee_bps: 1,
                activation_timeout_secs: u32::MAX,
                dispute_timeout_secs: u32::MAX,
                max_rental_secs: u32::MAX,
            },
            access: AccessRequest { recipient: [1; 32], ssh_key: vec![b'A'; crate::accounts::SSH_KEY_MAX] },
        };
        // As the client sends it: compute limit and price first, SOL wrapped in the same transaction.
        use solana_compute_budget_interface::ComputeBudgetInstruction as Budget;
        let mut ixs = vec![Budget::set_compute_unit_limit(1), Budget::set_compute_unit_price(1)];
        ixs.extend(wrap_sol(&renter, u64::MAX));
        ixs.push(open_rental(&req));
        let size = crate::batch::transaction_size(&ixs, &renter);
        println!("largest open: {size} bytes");
        assert!(size <= crate::batch::PACKET_DATA_SIZE, "{size} bytes");
    }

    #[test]
    fn settlement_builders_pay_the_right_token_accounts() {
        let k = RentalKeys::new(
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            1,
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            anchor_spl::token_2022::ID,
        );
        let treasury = Pubkey::new_unique();
        let ix = stop_rental(&k.renter, &k, &treasury);
        let keys: Vec<Pubkey> = ix.accounts.iter().map(|a| a.pubkey).collect();
        for expected in [k.renter_token(), k.provider_token(), k.treasury_token(&treasury), k.vault(), k.rental] {
            assert!(keys.contains(&expected));
        }
    }

    #[test]
    fn memcmp_offsets_match_the_serialised_layout() {
        let provider = Pubkey::new_unique();
        let mint = Pubkey::new_unique();
        let l = Listing {
            provider,
            listing_id: 7,
            mint,
            price_per_hour: 1,
            gpu_model: fixed_bytes("H100").unwrap(),
            region: fixed_bytes("us-east").unwrap(),
            gpu_count: 1,
            vram_gb: 80,
            cpu_cores: 1,
            ram_gb: 1,
            disk_gb: 1,
            min_rental_secs: 1,
            max_rental_secs: 2,
            heartbeat_interval_secs: 0,
            capacity: 1,
            active_rentals: 0,
            paused: false,
            bump: 255,
            rentals_opened: 0,
            disputed_rentals: 0,
        };
        let mut data = Vec::new();
        l.try_serialize(&mut data).unwrap();
        assert_eq!(&data[Listing::PROVIDER_OFFSET..][..32], provider.as_ref());
        assert_eq!(&data[Listing::MINT_OFFSET..][..32], mint.as_ref());
        assert_eq!(&data[Listing::GPU_MODEL_OFFSET..][..4], b"H100");
        assert_eq!(&data[Listing::REGION_OFFSET..][..7], b"us-east");
        assert_eq!(Rental::RENTER_OFFSET, 8);
        assert_eq!(Rental::PROVIDER_OFFSET, 40);
    }
}
