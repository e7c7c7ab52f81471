use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::create::{create_pda_account, require_canonical_bump, write_account};
use crate::errors::EscrowError;
use crate::events::RentalOpened;
use crate::instructions::now;
use crate::math;
use crate::seeds;
use crate::state::{AcceptedMint, Config, Listing, Rental, RentalAccess, RentalState, SSH_KEY_MAX};
use crate::token::{check_mint_extensions, create_vault, deposit_to_vault, token_amount};

/// The terms the renter was quoted. The listing and the config must still match them when
/// the transaction lands, so nobody can change a rental's price, SLA, fee, timeouts or
/// longest duration (which bounds every later top-up) under a pending open. (Hardware
/// fields are a description, not escrow terms: the program cannot check them; disputes
/// cover a machine that is not as described. The shortest duration only bounds this open's
/// deposit, which the open checks against the listing as it is.)
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RentalTerms {
    pub price_per_hour: u64,
    pub heartbeat_interval_secs: u32,
    pub fee_bps: u16,
    pub activation_timeout_secs: u32,
    pub dispute_timeout_secs: u32,
    pub max_rental_secs: u32,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct OpenRentalArgs {
    /// Must be the listing's `rentals_opened`: ids never repeat, so neither do addresses.
    pub rental_id: u64,
    pub deposit: u64,
    pub terms: RentalTerms,
    /// X25519 public key the provider seals the connection details to.
    pub recipient: [u8; 32],
    /// The renter's SSH public key (an `authorized_keys` line), public by nature; may be empty.
    pub ssh_key: Vec<u8>,
    pub bumps: OpenBumps,
}

/// Bumps of the three accounts the open creates; the signed creation proves each address,
/// and each must be the canonical bump (`create::require_canonical_bump`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenBumps {
    pub rental: u8,
    pub access: u8,
    pub vault: u8,
}

/// Funds a new escrow. A resent transaction cannot open (or charge) twice: the rental id is
/// part of the address, and the listing only accepts its next id.
///
/// The rental, its access account and its vault are created by the handler after every
/// check below and in `validate` (see `crate::create` for why not `init`).
#[derive(Accounts)]
pub struct OpenRental<'info> {
    #[account(mut)]
    pub renter: Signer<'info>,
    pub config: Box<Account<'info, Config>>,
    #[account(mut)]
    pub listing: Box<Account<'info, Listing>>,
    #[account(address = listing.mint @ EscrowError::WrongMint, mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// CHECK: must be the live AcceptedMint entry for the listing's mint (see `AcceptedMint::load`).
    #[account(constraint = AcceptedMint::load(&accepted_mint, &listing.mint).is_some() @ EscrowError::MintNotAccepted)]
    pub accepted_mint: UncheckedAccount<'info>,
    /// CHECK: created here at ["rental", listing, rental_id] (address proven by the signed creation).
    #[account(mut)]
    pub rental: UncheckedAccount<'info>,
    /// CHECK: created here at ["access", rental].
    #[account(mut)]
    pub access: UncheckedAccount<'info>,
    /// CHECK: created here at ["vault", rental] as a token account owned by the rental PDA.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    #[account(mut, token::mint = mint, token::authority = renter, token::token_program = token_program)]
    pub renter_token: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

/// The rental time a deposit buys must fall inside the listing's window.
pub(crate) fn check_duration(deposit: u64, price_per_hour: u64, min_secs: u32, max_secs: u32) -> Result<()> {
    let secs = math::seconds_for_deposit(deposit, price_per_hour)?;
    require!(secs >= min_secs as u64, EscrowError::DepositBelowMinimum);
    require!(secs <= max_secs as u64, EscrowError::DepositAboveMaximum);
    Ok(())
}

impl OpenRental<'_> {
    /// The mint's rating minimum as the rental opens: it becomes this rental's term.
    fn min_counted_gross(&self) -> Result<u64> {
        let entry = AcceptedMint::load(&self.accepted_mint, &self.listing.mint).ok_or(EscrowError::MintNotAccepted)?;
        Ok(entry.min_rated_gross)
    }

    pub fn validate(&self, args: &OpenRentalArgs) -> Result<()> {
        let l = &self.listing;
        require!(!self.config.paused, EscrowError::MarketPaused);
        require!(!l.paused, EscrowError::ListingPaused);
        require!(l.active_rentals < l.capacity, EscrowError::ListingAtCapacity);
        require_keys_neq!(self.renter.key(), l.provider, EscrowError::SelfRental);
        require!(args.rental_id == l.rentals_opened, EscrowError::StaleRentalId);
        let c = &self.config;
        let now_terms = RentalTerms {
            price_per_hour: l.price_per_hour,
            heartbeat_interval_secs: l.heartbeat_interval_secs,
            fee_bps: c.fee_bps,
            activation_timeout_secs: c.activation_timeout_secs,
            dispute_timeout_secs: c.dispute_timeout_secs,
            max_rental_secs: l.max_rental_secs,
        };
        require!(args.terms == now_terms, EscrowError::TermsChanged);
        require!(args.ssh_key.len() <= SSH_KEY_MAX, EscrowError::SshKeyTooLong);
        require!(args.deposit > 0, EscrowError::ZeroAmount);
        // Mints accepted before a rule was tightened are held to today's rules.
        check_mint_extensions(&self.mint.to_account_info())?;
        check_duration(args.deposit, l.price_per_hour, l.min_rental_secs, l.max_rental_secs)
    }

    pub fn handle(ctx: Context<Self>, args: OpenRentalArgs) -> Result<()> {
        let t = now()?;
        let a = ctx.accounts;
        let listing_key = a.listing.key();
        let rental_key = a.rental.key();
        let id = args.rental_id.to_le_bytes();
        let b = args.bumps;
        let payer = a.renter.to_account_info();
        let rental_info = a.rental.to_account_info();
        let access_info = a.access.to_account_info();
        let vault = a.vault.to_account_info();
        require_canonical_bump(&[seeds::RENTAL, listing_key.as_ref(), &id], b.rental)?;
        require_canonical_bump(&[seeds::ACCESS, rental_key.as_ref()], b.access)?;
        require_canonical_bump(&[seeds::VAULT, rental_key.as_ref()], b.vault)?;
        let rental_seeds: &[&[u8]] = &[seeds::RENTAL, listing_key.as_ref(), &id, &[b.rental]];
        create_pda_account(payer.clone(), rental_info.clone(), 8 + Rental::INIT_SPACE, &crate::ID, rental_seeds)?;
        let access_seeds: &[&[u8]] = &[seeds::ACCESS, rental_key.as_ref(), &[b.access]];
        let access_space = RentalAccess::space(args.ssh_key.len());
        create_pda_account(payer.clone(), access_info.clone(), access_space, &crate::ID, access_seeds)?;
        let vault_seeds: &[&[u8]] = &[seeds::VAULT, rental_key.as_ref(), &[b.vault]];
        create_vault(payer.clone(), vault.clone(), &a.mint, rental_info.clone(), &a.token_program, vault_seeds)?;

        deposit_to_vault(&a.token_program, &a.renter_token, &a.mint, vault.clone(), payer, args.deposit)?;
        // Record what the vault actually received, not what was asked for.
        let received = token_amount(&vault)?;
        let l = &mut a.listing;
        check_duration(received, l.price_per_hour, l.min_rental_secs, l.max_rental_secs)?;
        l.active_rentals += 1;
        l.rentals_opened = l.rentals_opened.checked_add(1).ok_or(EscrowError::AmountOverflow)?;
        let rental = Rental {
            renter: a.renter.key(),
            provider: l.provider,
            listing: listing_key,
            mint: l.mint,
            vault: vault.key(),
            rental_id: args.rental_id,
            state: RentalState::Funded,
            price_per_hour: l.price_per_hour,
            fee_bps: a.config.fee_bps,
            heartbeat_interval_secs: l.heartbeat_interval_secs,
            max_rental_secs: l.max_rental_secs,
            activation_timeout_secs: a.config.activation_timeout_secs,
            dispute_timeout_secs: a.config.dispute_timeout_secs,
            deposited: received,
            provider_paid: 0,
            fee_paid: 0,
            refunded: 0,
            opened_at: t,
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
            bump: b.rental,
            vault_bump: b.vault,
            access_bump: b.access,
            min_counted_gross: a.min_counted_gross()?,
            heartbeats: 0,
            rated: false,
            swept: 0,
        };
        write_account(&rental_info, &rental)?;
        let access = RentalAccess {
            rental: rental_key,
            recipient: args.recipient,
            bump: b.access,
            ssh_key: args.ssh_key,
            sealed: Vec::new(),
        };
        write_account(&access_info, &access)?;
        emit!(RentalOpened {
            rental: rental_key,
            listing: listing_key,
            renter: rental.renter,
            provider: rental.provider,
            mint: rental.mint,
            rental_id: args.rental_id,
            deposited: received,
            price_per_hour: rental.price_per_hour,
            fee_bps: rental.fee_bps,
            heartbeat_interval_secs: rental.heartbeat_interval_secs,
            opened_at: t,
        });
        Ok(())
    }
}
