use anchor_lang::prelude::*;

/// Longest SSH public key a renter may publish: what still fits in one open transaction
/// with compute-budget instructions and SOL wrapping (sdk's ix tests check it). ed25519
/// (about 80 bytes), ECDSA and RSA-2048 (about 380) fit; RSA-3072 and larger do not.
pub const SSH_KEY_MAX: usize = 520;
/// Longest sealed connection-details blob a provider may store.
pub const SEALED_MAX: usize = 768;

/// How the renter reaches the machine, beside its rental (PDA `["access", rental]`).
///
/// The renter publishes an SSH public key (public by nature) and the X25519 key that the
/// provider must seal the connection details to. At activation the provider stores the
/// sealed blob here; the program bounds its size and never interprets it. The account lives
/// as long as the rental and is closed with it, so the renter can fetch the blob from any
/// RPC node's account state, without transaction history.
#[account]
#[derive(Debug)]
pub struct RentalAccess {
    pub rental: Pubkey,
    pub recipient: [u8; 32],
    pub bump: u8,
    pub ssh_key: Vec<u8>,
    pub sealed: Vec<u8>,
}

impl RentalAccess {
    /// Account size for a given SSH key, with room for the largest sealed blob, so that
    /// activation never needs to reallocate.
    pub fn space(ssh_key_len: usize) -> usize {
        8 + 32 + 32 + 1 + 4 + ssh_key_len + 4 + SEALED_MAX
    }
}
