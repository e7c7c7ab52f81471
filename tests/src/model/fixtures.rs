//! The world's fixed cast: the wallets and their roles, the mints, what each wallet is funded
//! with, and the listings the providers start with.
use gpu_escrow::state::fixed_bytes;
use gpu_escrow_sdk::accounts::ListingParams;

use crate::svm;

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

pub(super) const SEALED: &[u8] = b"sealed connection details (the program stores them opaquely)";
pub(super) const SSH_KEY: &[u8] = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIProperty";

pub(super) fn funds(w: usize) -> u64 {
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

/// What a rental must have billed (gross) in each mint before it may be rated.
pub const MIN_RATED_GROSS: [u64; 2] = [50_000_000, 0];

pub(super) fn provider_slot(w: usize) -> usize {
    if w == P0 {
        0
    } else {
        1
    }
}
