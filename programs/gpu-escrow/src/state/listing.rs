use anchor_lang::prelude::*;

pub const GPU_MODEL_LEN: usize = 32;
pub const REGION_LEN: usize = 16;

/// Fixed-size so clients can filter listings server-side with memcmp on the offsets below.
#[account]
#[derive(InitSpace, Debug)]
pub struct Listing {
    pub provider: Pubkey,
    pub listing_id: u64,
    pub mint: Pubkey,
    pub price_per_hour: u64,
    pub gpu_model: [u8; GPU_MODEL_LEN],
    pub region: [u8; REGION_LEN],
    pub gpu_count: u8,
    pub vram_gb: u16,
    pub cpu_cores: u16,
    pub ram_gb: u32,
    pub disk_gb: u32,
    pub min_rental_secs: u32,
    pub max_rental_secs: u32,
    /// 0 means no heartbeat SLA.
    pub heartbeat_interval_secs: u32,
    pub capacity: u16,
    pub active_rentals: u16,
    pub paused: bool,
    pub bump: u8,
    /// The next rental's id. Rental addresses derive from (listing, id) and ids never repeat,
    /// so a closed rental's address can never hold a second escrow.
    pub rentals_opened: u64,
    /// Disputed rentals still to be settled. They gave their slot back (billing stopped when
    /// the dispute opened), but the listing cannot close until they are settled.
    pub disputed_rentals: u16,
}

impl Listing {
    pub const PROVIDER_OFFSET: usize = 8;
    pub const MINT_OFFSET: usize = Self::PROVIDER_OFFSET + 32 + 8;
    pub const GPU_MODEL_OFFSET: usize = Self::MINT_OFFSET + 32 + 8;
    pub const REGION_OFFSET: usize = Self::GPU_MODEL_OFFSET + GPU_MODEL_LEN;
}

/// What a provider sets when creating or updating a listing.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ListingParams {
    pub price_per_hour: u64,
    pub gpu_model: [u8; GPU_MODEL_LEN],
    pub region: [u8; REGION_LEN],
    pub gpu_count: u8,
    pub vram_gb: u16,
    pub cpu_cores: u16,
    pub ram_gb: u32,
    pub disk_gb: u32,
    pub min_rental_secs: u32,
    pub max_rental_secs: u32,
    pub heartbeat_interval_secs: u32,
    pub capacity: u16,
}

/// Right-pads `text` with zeros into a fixed field; None if it is too long.
pub fn fixed_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() > N {
        return None;
    }
    let mut out = [0u8; N];
    out[..bytes.len()].copy_from_slice(bytes);
    Some(out)
}

/// The text stored in a fixed field, without the zero padding.
pub fn fixed_str(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
