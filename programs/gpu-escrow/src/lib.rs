//! gpu-escrow: per-second GPU rental escrow.
//!
//! Each rental's deposit sits in its own vault owned by the rental PDA. The provider is paid
//! per second of actual use and may claim while the rental runs; either party can stop at
//! any time; disputes freeze only the earned-but-unclaimed amount until the arbiter or the
//! timeout rule settles it. All money math lives in [`math`].
//!
//! Account identity: each account type of this program is created by exactly one
//! instruction, at exactly one PDA (Config at `["config"]`, a Provider at its authority's
//! PDA storing that authority, and so on). So an account owned by this program with a given
//! type's discriminator is genuine, and instructions check relations by stored fields
//! (`has_one`, `provider_profile.authority == rental.provider`) instead of re-deriving
//! addresses, which costs 1,500 CU per PDA. Token accounts are not ours and anyone can make
//! one with any authority, so the vault is checked against the address the rental stores.
#![cfg_attr(target_arch = "bpf", feature(abi_unadjusted))]
#![allow(unexpected_cfgs)]

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

use anchor_lang::prelude::*;

pub mod bpf_libcalls;
pub mod create;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod seeds;
pub mod state;
pub mod token;

use instructions::*;
use state::ListingParams;

declare_id!("2THPUqfBN8qZumMQRyQCWK2gsrU25aMMxyS82NfLj6Xp");

#[program]
pub mod gpu_escrow {
    use super::*;

    // ---- admin
    #[access_control(ctx.accounts.validate(&args))]
    pub fn initialize_config(ctx: Context<InitializeConfig>, args: InitializeConfigArgs) -> Result<()> {
        InitializeConfig::handle(ctx, args)
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_config(ctx: Context<UpdateConfig>, args: UpdateConfigArgs) -> Result<()> {
        UpdateConfig::handle(ctx, args)
    }

    pub fn propose_admin(ctx: Context<ProposeAdmin>, new_admin: Pubkey) -> Result<()> {
        ProposeAdmin::handle(ctx, new_admin)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        AcceptAdmin::handle(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn add_mint(ctx: Context<AddMint>, args: AddMintArgs) -> Result<()> {
        AddMint::handle(ctx, args)
    }

    pub fn remove_mint(ctx: Context<RemoveMint>) -> Result<()> {
        RemoveMint::handle(ctx)
    }

    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        SetPaused::handle(ctx, paused)
    }

    // ---- provider
    pub fn register_provider(ctx: Context<RegisterProvider>) -> Result<()> {
        RegisterProvider::handle(ctx)
    }

    #[access_control(ctx.accounts.validate(&params))]
    pub fn create_listing(ctx: Context<CreateListing>, params: ListingParams) -> Result<()> {
        CreateListing::handle(ctx, params)
    }

    #[access_control(ctx.accounts.validate(&params))]
    pub fn update_listing(ctx: Context<UpdateListing>, params: ListingParams) -> Result<()> {
        UpdateListing::handle(ctx, params)
    }

    pub fn set_listing_paused(ctx: Context<SetListingPaused>, paused: bool) -> Result<()> {
        SetListingPaused::handle(ctx, paused)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn close_listing(ctx: Context<CloseListing>) -> Result<()> {
        CloseListing::handle(ctx)
    }

    pub fn decline_rental(ctx: Context<EndUnactivated>) -> Result<()> {
        EndUnactivated::decline(ctx)
    }

    pub fn activate_rental(ctx: Context<ActivateRental>, sealed: Vec<u8>) -> Result<()> {
        ActivateRental::handle(ctx, sealed)
    }

    pub fn heartbeat(ctx: Context<Heartbeat>) -> Result<()> {
        Heartbeat::handle(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim(ctx: Context<Claim>) -> Result<()> {
        Claim::handle(ctx)
    }

    // ---- renter
    #[access_control(ctx.accounts.validate(&args))]
    pub fn open_rental(ctx: Context<OpenRental>, args: OpenRentalArgs) -> Result<()> {
        OpenRental::handle(ctx, args)
    }

    pub fn top_up(ctx: Context<TopUp>, amount: u64) -> Result<()> {
        TopUp::handle(ctx, amount)
    }

    pub fn cancel_rental(ctx: Context<EndUnactivated>) -> Result<()> {
        EndUnactivated::cancel(ctx)
    }

    #[access_control(ctx.accounts.validate(rating))]
    pub fn rate_rental(ctx: Context<RateRental>, rating: u8) -> Result<()> {
        RateRental::handle(ctx, rating)
    }

    #[access_control(ctx.accounts.validate(rating))]
    pub fn close_rental(ctx: Context<CloseRental>, rating: Option<u8>) -> Result<()> {
        CloseRental::handle(ctx, rating)
    }

    // ---- either party / crank
    pub fn stop_rental(ctx: Context<Settle>) -> Result<()> {
        Settle::stop(ctx)
    }

    pub fn finalize_rental(ctx: Context<Settle>) -> Result<()> {
        Settle::finalize(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn open_dispute(ctx: Context<OpenDispute>, reason_code: u8) -> Result<()> {
        OpenDispute::handle(ctx, reason_code)
    }

    /// A payee takes out what was held for it because its token account could not receive.
    /// Anyone delivers what is held to the payees' associated token accounts once they can receive.
    #[access_control(ctx.accounts.validate())]
    pub fn deliver_owed(ctx: Context<DeliverOwed>) -> Result<()> {
        DeliverOwed::handle(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn withdraw_owed(ctx: Context<WithdrawOwed>) -> Result<()> {
        WithdrawOwed::handle(ctx)
    }

    // ---- arbiter / crank
    pub fn resolve_dispute(ctx: Context<Settle>, provider_amount: u64) -> Result<()> {
        Settle::resolve(ctx, provider_amount)
    }

    pub fn resolve_expired_dispute(ctx: Context<Settle>) -> Result<()> {
        Settle::resolve_expired(ctx)
    }

    // ---- read-only
    pub fn quote(_ctx: Context<GetQuote>, price_per_hour: u64, by: QuoteBy, fee_bps: u16) -> Result<QuoteResult> {
        GetQuote::handle(price_per_hour, by, fee_bps)
    }
}
