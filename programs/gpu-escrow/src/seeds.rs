//! Every PDA seed prefix, in one place. The SDK derives addresses from these same bytes.

pub const CONFIG: &[u8] = b"config";
pub const ACCEPTED_MINT: &[u8] = b"mint";
pub const PROVIDER: &[u8] = b"provider";
pub const LISTING: &[u8] = b"listing";
pub const RENTAL: &[u8] = b"rental";
pub const VAULT: &[u8] = b"vault";
pub const ACCESS: &[u8] = b"access";
