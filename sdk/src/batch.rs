//! Packs many independent instructions (claims, heartbeats, finalizes) into as few
//! transactions as the 1232-byte packet and the compute budget allow.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_transaction::Transaction;

/// Solana's maximum serialized transaction size.
pub const PACKET_DATA_SIZE: usize = 1232;
/// The per-transaction compute ceiling.
pub const MAX_TX_COMPUTE_UNITS: u64 = 1_400_000;

/// Serialized size of a transaction holding `ixs`, paid by `payer`, once signed.
pub fn transaction_size(ixs: &[Instruction], payer: &Pubkey) -> usize {
    let tx = Transaction::new_with_payer(ixs, Some(payer));
    // Unsigned transactions carry zeroed signatures of the final size, so this is exact.
    bincode_len(&tx)
}

fn bincode_len(tx: &Transaction) -> usize {
    let sigs = tx.signatures.len();
    let message = tx.message.serialize().len();
    short_vec_len(sigs) + sigs * 64 + message
}

fn short_vec_len(n: usize) -> usize {
    match n {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        _ => 3,
    }
}

/// Groups `groups` (each a unit that must stay in one transaction, e.g. an ATA creation plus
/// the claim that needs it) into transactions that fit both limits. `cu_per_group` is the
/// compute estimate for one group; measured costs are in the README's benchmark table.
pub fn pack(groups: Vec<Vec<Instruction>>, payer: &Pubkey, cu_per_group: u64) -> Vec<Vec<Instruction>> {
    let max_groups = (MAX_TX_COMPUTE_UNITS / cu_per_group.max(1)).max(1) as usize;
    let mut out: Vec<Vec<Instruction>> = Vec::new();
    let mut current: Vec<Instruction> = Vec::new();
    let mut in_current = 0usize;
    for group in groups {
        let mut candidate = current.clone();
        candidate.extend(group.iter().cloned());
        if !current.is_empty() && (in_current >= max_groups || transaction_size(&candidate, payer) > PACKET_DATA_SIZE) {
            out.push(std::mem::take(&mut current));
            in_current = 0;
            candidate = group;
        }
        current = candidate;
        in_current += 1;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ix;

    #[test]
    fn heartbeats_pack_into_few_transactions_that_fit() {
        let provider = Pubkey::new_unique();
        let groups: Vec<_> = (0..40).map(|_| vec![ix::heartbeat(&provider, &Pubkey::new_unique())]).collect();
        let txs = pack(groups, &provider, 10_000);
        assert!(txs.len() > 1 && txs.len() < 40, "40 heartbeats packed into {} transactions", txs.len());
        assert_eq!(txs.iter().map(Vec::len).sum::<usize>(), 40);
        for tx in &txs {
            assert!(transaction_size(tx, &provider) <= PACKET_DATA_SIZE);
        }
    }

    #[test]
    fn compute_budget_limits_group_count() {
        let provider = Pubkey::new_unique();
        let rental = Pubkey::new_unique();
        let groups: Vec<_> = (0..6).map(|_| vec![ix::heartbeat(&provider, &rental)]).collect();
        let txs = pack(groups, &provider, 600_000);
        assert_eq!(txs.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 2]);
    }
}
