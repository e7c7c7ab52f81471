//! Account types decoded with the program's own definitions (one source of truth).
use anchor_lang::AccountDeserialize;

pub use gpu_escrow::state::{
    fixed_bytes, fixed_str, AcceptedMint, Config, Listing, ListingParams, Provider, Rental, RentalAccess, RentalState,
    GPU_MODEL_LEN, REGION_LEN, SEALED_MAX, SSH_KEY_MAX,
};

use crate::error::SdkError;

/// Decodes an account of the program, checking its discriminator.
pub fn decode<T: AccountDeserialize>(data: &[u8]) -> Result<T, SdkError> {
    let mut slice = data;
    T::try_deserialize(&mut slice).map_err(|e| SdkError::Decode(e.to_string()))
}

pub fn state_name(s: RentalState) -> &'static str {
    match s {
        RentalState::Funded => "Funded",
        RentalState::Active => "Active",
        RentalState::Disputed => "Disputed",
        RentalState::Settled => "Settled",
        RentalState::Cancelled => "Cancelled",
    }
}
