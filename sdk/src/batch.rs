//! Packs many independent instructions (claims, heartbeats, finalizes) into as few
//! transactions as the 1232-byte packet and the compute budget allow.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_transaction::Transaction;

/// Solana's maximum serialized transaction size.
pub const PACKET_DATA_SIZE: usize = 1232;
/// Measured compute of one claim, one heartbeat and one settlement (stop, finalize or a
/// dispute resolution) on the most expensive token program (classic SPL Token 3.5; p-token
/// and Token-2022 cost less), rounded up: for packing batches and setting their limits
/// (which add 20%). From `scripts/bench`; see BENCHMARKS.md.
pub const CU_CLAIM: u64 = 24_000;
pub const CU_HEARTBEAT: u64 = 5_000;
pub const CU_SETTLE: u64 = 42_000;

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

/// A compute-unit limit for a transaction of `groups` groups at `cu_per_group` each: the
/// measured cost (see BENCHMARKS.md) times 1.2, instead of the default 200,000 per
/// instruction, so a batch is priced and scheduled for what it really uses.
pub fn compute_limit(groups: usize, cu_per_group: u64) -> Instruction {
    let units = (groups as u64 * cu_per_group).saturating_mul(6) / 5;
    let ix = solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
        units.min(MAX_TX_COMPUTE_UNITS) as u32,
    );
    Instruction { program_id: ix.program_id, accounts: ix.accounts, data: ix.data }
}

/// Groups `groups` (each a unit that must stay in one transaction, e.g. an ATA creation plus
/// the claim that needs it) into transactions that fit both the 1232-byte packet and the
/// compute ceiling. Each transaction starts with its compute-unit limit
/// ([`compute_limit`]); `cu_per_group` is the measured compute of one group.
pub fn pack(groups: Vec<Vec<Instruction>>, payer: &Pubkey, cu_per_group: u64) -> Vec<Vec<Instruction>> {
    let max_groups = ((MAX_TX_COMPUTE_UNITS * 5 / 6) / cu_per_group.max(1)).max(1) as usize;
    let with_limit = |groups: usize, ixs: &[Instruction]| {
        let mut tx = vec![compute_limit(groups, cu_per_group)];
        tx.extend(ixs.iter().cloned());
        tx
    };
    let mut out: Vec<Vec<Instruction>> = Vec::new();
    let mut current: Vec<Instruction> = Vec::new();
    let mut in_current = 0usize;
    for group in groups {
        let mut candidate = current.clone();
        candidate.extend(group.iter().cloned());
        let too_big = transaction_size(&with_limit(in_current + 1, &candidate), payer) > PACKET_DATA_SIZE;
        if !current.is_empty() && (in_current >= max_groups || too_big) {
            out.push(with_limit(in_current, &current));
            in_current = 0;
            candidate = group;
        }
        current = candidate;
        in_current += 1;
    }
    if !current.is_empty() {
        out.push(with_limit(in_current, &current));
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
        assert_eq!(txs.iter().map(|tx| tx.len() - 1).sum::<usize>(), 40, "each has one compute-limit instruction");
        let budget = solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
            ((txs[0].len() - 1) as u64 * 12_000) as u32,
        );
        assert_eq!(txs[0][0].data, budget.data, "the limit is the measured cost of what the transaction holds, +20%");
        for tx in &txs {
            assert!(transaction_size(tx, &provider) <= PACKET_DATA_SIZE);
        }
    }

    #[test]
    fn compute_budget_limits_group_count() {
        let provider = Pubkey::new_unique();
        let rental = Pubkey::new_unique();
        let groups: Vec<_> = (0..6).map(|_| vec![ix::heartbeat(&provider, &rental)]).collect();
        let txs = pack(groups, &provider, 500_000);
        assert_eq!(txs.iter().map(|tx| tx.len() - 1).collect::<Vec<_>>(), vec![2, 2, 2]);
    }
}
