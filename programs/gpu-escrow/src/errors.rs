use anchor_lang::prelude::*;

use crate::math::MathError;

/// Messages are written for the person who reads them in a CLI.
#[error_code]
pub enum EscrowError {
    // -- authority and configuration
    #[msg("Only the config admin may do this")]
    NotAdmin,
    #[msg("Only the pending admin may accept the admin role")]
    NotPendingAdmin,
    #[msg("No admin transfer is pending")]
    NoPendingAdmin,
    #[msg("Only the arbiter may resolve disputes")]
    NotArbiter,
    #[msg("Only the program's upgrade authority may initialise the config")]
    NotUpgradeAuthority,
    #[msg("Fee is above the 3000 bps (30%) cap")]
    FeeTooHigh,
    #[msg("Timeouts must be between 1 second and 90 days")]
    InvalidTimeout,
    #[msg("The market is paused: no new listings, rentals or top-ups")]
    MarketPaused,

    // -- mints
    #[msg("This token is not accepted for payment")]
    MintNotAccepted,
    #[msg("The token account or listing uses a different mint")]
    WrongMint,
    #[msg("Mint rejected: Token-2022 permanent delegate could take escrowed funds")]
    MintHasPermanentDelegate,
    #[msg("Mint rejected: Token-2022 transfer hook could block or alter payouts")]
    MintHasTransferHook,
    #[msg("Mint rejected: Token-2022 transfer fee is non-zero")]
    MintHasTransferFee,
    #[msg("Mint rejected: Token-2022 non-transferable tokens cannot be escrowed")]
    MintNonTransferable,
    #[msg("Mint rejected: Token-2022 default account state is frozen")]
    MintDefaultFrozen,
    #[msg("Mint rejected: Token-2022 pausable extension could block payouts")]
    MintPausable,
    #[msg("Mint rejected: Token-2022 mint close authority could close and recreate the mint")]
    MintHasCloseAuthority,
    #[msg("Mint rejected: Token-2022 extension not known to be safe for escrow")]
    MintExtensionNotAllowed,

    // -- listings
    #[msg("Price per hour must be greater than zero")]
    ZeroPrice,
    #[msg("Rental seconds: min must be > 0 and not above max")]
    InvalidRentalWindow,
    #[msg("Capacity must be at least 1")]
    ZeroCapacity,
    #[msg("GPU count must be at least 1")]
    ZeroGpuCount,
    #[msg("The listing is paused by its provider")]
    ListingPaused,
    #[msg("The listing is at capacity: every slot is rented")]
    ListingAtCapacity,
    #[msg("The listing still has open rentals")]
    ListingHasRentals,

    // -- rentals
    #[msg("You cannot rent your own listing")]
    SelfRental,
    #[msg("Deposit is below the listing's minimum rental time")]
    DepositBelowMinimum,
    #[msg("Deposit buys more than the listing's maximum rental time")]
    DepositAboveMaximum,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Rating must be between 1 and 5")]
    InvalidRating,
    #[msg("Only a settled rental can be rated")]
    RatingNotAllowed,
    #[msg("Only a rental that billed at least 10 minutes and the token's minimum amount can be rated")]
    RatingNotEarned,
    #[msg("The rental is not waiting for activation (state must be Funded)")]
    RentalNotFunded,
    #[msg("The rental is not running (state must be Active)")]
    RentalNotActive,
    #[msg("Top-ups need a rental that is waiting for activation or running (Funded or Active)")]
    RentalNotOpen,
    #[msg("The rental is not in dispute (state must be Disputed)")]
    RentalNotDisputed,
    #[msg("The rental is still open (state must be Settled or Cancelled)")]
    RentalNotFinished,
    #[msg("The paid time has ended; top-ups and heartbeats are no longer accepted")]
    RentalExpired,
    #[msg("The rental is still within its paid time and heartbeat SLA")]
    RentalNotExpired,
    #[msg("The heartbeat SLA was missed; the rental can only be finalised")]
    SlaMissed,
    #[msg("This rental has no heartbeat SLA; heartbeats are not needed")]
    NoHeartbeatSla,
    #[msg("The activation deadline has passed; the rental can only be cancelled")]
    ActivationExpired,
    #[msg("The rental's terms changed since your quote (price, heartbeat SLA, fee, timeouts or longest rental); review them and rent again")]
    TermsChanged,
    #[msg("Another rental took this rental id first; read the listing's next rental id and retry")]
    StaleRentalId,
    #[msg("The SSH public key is longer than 520 bytes; use an ed25519 key")]
    SshKeyTooLong,
    #[msg("The sealed access details are longer than 768 bytes")]
    SealedAccessTooLong,
    #[msg("Only the renter may do this")]
    NotRenter,
    #[msg("Only the provider may do this")]
    NotProvider,
    #[msg("Only the renter or the provider may do this")]
    NotParty,
    #[msg("The provider profile passed is not the one of this rental's provider")]
    WrongProviderProfile,
    #[msg("Only the renter may cancel before the activation timeout")]
    CancelTooEarly,
    #[msg("Nothing to claim yet")]
    NothingToClaim,
    #[msg("The dispute timeout has not passed")]
    DisputeNotExpired,
    #[msg("The dispute timeout has passed: it settles by the timeout rule (anyone may finalize it)")]
    DisputeTimedOut,
    #[msg("Award exceeds the amount locked by the dispute")]
    AwardExceedsLocked,
    #[msg("The arbiter is a party to this rental and may not rule on it; it settles by the timeout rule")]
    ArbiterIsParty,
    #[msg("Funds are still held for a party whose token account could not receive them; they must be delivered or withdrawn first")]
    FundsStillOwed,
    #[msg("Nothing is held for you in this rental's vault")]
    NothingOwed,
    #[msg("That token account cannot receive (frozen, closed, wrong owner or mint, or memo required)")]
    PayeeCannotReceive,

    // -- arithmetic
    #[msg("Amount overflow: the value does not fit")]
    AmountOverflow,
    #[msg("Escrow ledger inconsistency (please report this)")]
    LedgerInconsistent,
    #[msg("Fee must be at most 10000 bps (100%)")]
    InvalidFeeBps,

    // -- round 2 (appended so earlier codes keep their numbers)
    #[msg("A payee's share must go to its associated token account unless the payee itself signs")]
    NotCanonicalPayeeAccount,
    #[msg("This rental was already rated")]
    AlreadyRated,
    #[msg("Nothing held in this rental could be delivered: no payee's account can receive now")]
    NothingDelivered,
    #[msg("Only the canonical bump is accepted for a rental's accounts")]
    NonCanonicalBump,
}

impl From<MathError> for EscrowError {
    fn from(e: MathError) -> Self {
        match e {
            MathError::Overflow => EscrowError::AmountOverflow,
            MathError::ZeroPrice => EscrowError::ZeroPrice,
            MathError::LedgerInconsistent => EscrowError::LedgerInconsistent,
            MathError::InvalidFee => EscrowError::InvalidFeeBps,
        }
    }
}

impl From<MathError> for anchor_lang::error::Error {
    fn from(e: MathError) -> Self {
        EscrowError::from(e).into()
    }
}
