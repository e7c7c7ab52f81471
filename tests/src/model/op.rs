//! The operations a sequence is made of ([`Op`]), who performs them, and how they print.
use std::fmt;

use gpu_escrow_sdk::accounts::ListingParams;

use super::fixtures::{MINT_NAMES, NAMES};

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
/// someone else's payout), or which account it names for its own share (a payee may name any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirect {
    None,
    Renter,
    Provider,
    Treasury,
    /// For each share of its own, the caller passes its second (parking) account.
    OwnToParking,
    /// For each share of its own, the caller passes the stranger's account (that cannot
    /// receive for it: the share is held).
    OwnToStranger,
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
    StaleMaxRental,
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
    /// `rate_rental`: a rating without closing (0 and 6 are out of range).
    Rate {
        rental: usize,
        by: Who,
        rating: u8,
    },
    Withdraw {
        rental: usize,
        by: Who,
        dest: Dest,
    },
    /// `deliver_owed`: anyone delivers what the vault holds to the payees' associated accounts.
    Deliver {
        rental: usize,
        by: Who,
        redirect: Redirect,
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
            Op::Rate { .. } => "rate_rental",
            Op::Withdraw { .. } => "withdraw_owed",
            Op::Deliver { .. } => "deliver_owed",
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
    pub(super) fn debits_signer(&self) -> bool {
        matches!(self, Op::Open { .. } | Op::TopUp { .. } | Op::Gift { .. })
    }
}

fn redirect_str(r: Redirect) -> &'static str {
    match r {
        Redirect::None => "",
        Redirect::Renter => " (passing its own account as the renter's)",
        Redirect::Provider => " (passing its own account as the provider's)",
        Redirect::Treasury => " (passing its own account as the treasury's)",
        Redirect::OwnToParking => " (passing its second account for its own shares)",
        Redirect::OwnToStranger => " (passing the stranger's account for its own shares)",
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
            Op::Rate { rental, by, rating } => write!(f, "rate_rental #{rental} by {by:?}, rating {rating}"),
            Op::Withdraw { rental, by, dest } => write!(f, "withdraw_owed #{rental} by {by:?} into {dest:?}"),
            Op::Deliver { rental, by, redirect } => {
                write!(f, "deliver_owed #{rental} by {by:?}{}", redirect_str(*redirect))
            }
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
