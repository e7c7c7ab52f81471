//! Upgradeable-loader (loader-v3) deployment of a program binary to any cluster.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_loader_v3_interface::{instruction as loader, state::UpgradeableLoaderState};

use crate::batch::{transaction_size, PACKET_DATA_SIZE};
use crate::error::{SdkError, SdkResult};

/// Bytes of program data that fit in one Write transaction signed by `authority`.
pub fn write_chunk_size(buffer: &Pubkey, authority: &Pubkey) -> usize {
    let empty = loader::write(buffer, authority, 0, Vec::new());
    // The instruction data's compact-u16 length grows from 1 to 3 bytes as the data grows;
    // everything else, including bincode's u64 length of `bytes`, is in the empty size.
    PACKET_DATA_SIZE - transaction_size(&[empty], authority) - 2
}

pub fn buffer_len(program_len: usize) -> usize {
    UpgradeableLoaderState::size_of_buffer(program_len)
}

pub fn programdata_len(program_len: usize) -> usize {
    UpgradeableLoaderState::size_of_programdata(program_len)
}

pub fn program_account_len() -> usize {
    UpgradeableLoaderState::size_of_program()
}

pub fn create_buffer(
    payer: &Pubkey,
    buffer: &Pubkey,
    authority: &Pubkey,
    lamports: u64,
    program_len: usize,
) -> SdkResult<Vec<Instruction>> {
    loader::create_buffer(payer, buffer, authority, lamports, program_len)
        .map_err(|e| SdkError::InvalidInput(e.to_string()))
}

/// One Write instruction per chunk; each is idempotent (same offset, same bytes), so a
/// lost or duplicated write is harmless to resend.
pub fn writes(buffer: &Pubkey, authority: &Pubkey, program: &[u8]) -> Vec<Instruction> {
    let chunk = write_chunk_size(buffer, authority);
    program
        .chunks(chunk)
        .enumerate()
        .map(|(i, bytes)| loader::write(buffer, authority, (i * chunk) as u32, bytes.to_vec()))
        .collect()
}

/// Deploys the buffer at `program`. The program data is sized to the program exactly: a
/// larger future version is made room for with the loader's ExtendProgram, so nobody pays
/// rent for headroom up front.
pub fn deploy(
    payer: &Pubkey,
    program: &Pubkey,
    buffer: &Pubkey,
    authority: &Pubkey,
    program_lamports: u64,
    program_len: usize,
) -> SdkResult<Vec<Instruction>> {
    loader::deploy_with_max_program_len(payer, program, buffer, authority, program_lamports, program_len)
        .map_err(|e| SdkError::InvalidInput(e.to_string()))
}

/// Replaces a deployed program's code with the buffer's; leftover lamports go to `spill`.
pub fn upgrade(program: &Pubkey, buffer: &Pubkey, authority: &Pubkey, spill: &Pubkey) -> Instruction {
    loader::upgrade(program, buffer, authority, spill)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_transaction_fits_in_a_packet() {
        let (buffer, authority) = (Pubkey::new_unique(), Pubkey::new_unique());
        let program = vec![7u8; 10_000];
        let writes = writes(&buffer, &authority, &program);
        assert!(writes.len() <= 10_000 / 1_000 + 1);
        for w in &writes {
            assert!(transaction_size(std::slice::from_ref(w), &authority) <= PACKET_DATA_SIZE);
        }
    }
}
