//! Packs many independent instructions (claims, heartbeats, finalizes) into as few
//! transactions as the 1232-byte packet and the compute budget allow.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_transaction::Transaction;

/// Solana's maximum serialized transaction size.
pub const PACKET_DATA_SIZE: usize = 1232;
/// Measured compute of one claim, one heartbeat, one settlement (stop, finalize, a dispute
/// resolution, cancel, decline, withdraw) and one associated-token-account creation on the
/// most expensive token program (classic SPL Token 3.5; p-token and Token-2022 cost less),
/// rounded up: for packing batches and setting their limits (which add 20%). From
/// `scripts/bench`; see BENCHMARKS.md.
pub const CU_CLAIM: u64 = 24_000;
pub const CU_HEARTBEAT: u64 = 5_000;
pub const CU_SETTLE: u64 = 42_000;
pub const CU_CREATE_ACCOUNT: u64 = 27_000;
/// Anything else a batch may carry: closing or syncing a wrapped-SOL account, a transfer.
pub const CU_OTHER: u64 = 11_000;

/// The compute-budget program, as the instruction builders name it.
pub(crate) const COMPUTE_BUDGET: Pubkey = Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");

/// The per-transaction compute ceiling.
pub const MAX_TX_COMPUTE_UNITS: u64 = 1_400_000;

/// Serialized size of a transaction holding `ixs`, paid by `payer`, once signed.
pub fn transaction_size(ixs: &[Instruction], payer: &Pubkey) -> usize {
    let tx = Transaction::new_with_payer(ixs, Some(payer));
    // Unsigned transactions carry zeroed signatures of the final size, so this is exact.
    bincode_len(&tx)
}

/// Serialized size of `ixs` once [`EscrowClient::send_tx`](crate::client::EscrowClient::send_tx)
/// has added what it adds: a compute-unit limit unless `ixs` set one, and a price.
pub fn sent_size(ixs: &[Instruction], payer: &Pubkey) -> usize {
    use solana_compute_budget_interface::ComputeBudgetInstruction as Budget;
    let mut full = vec![Budget::set_compute_unit_price(0)];
    if !ixs.iter().any(|ix| ix.program_id == COMPUTE_BUDGET) {
        full.push(Budget::set_compute_unit_limit(0));
    }
    full.extend_from_slice(ixs);
    transaction_size(&full, payer)
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

/// The compute `ix` is budgeted for in a batch (the measured figures above).
pub fn budget_of(ix: &Instruction) -> u64 {
    use anchor_lang::Discriminator;
    use gpu_escrow::instruction as i;
    if ix.program_id == COMPUTE_BUDGET {
        return 0;
    }
    if ix.program_id == anchor_spl::associated_token::ID {
        return CU_CREATE_ACCOUNT;
    }
    if ix.program_id != crate::PROGRAM_ID {
        return CU_OTHER;
    }
    match ix.data.get(..8) {
        Some(d) if d == i::Heartbeat::DISCRIMINATOR => CU_HEARTBEAT,
        Some(d) if d == i::Claim::DISCRIMINATOR => CU_CLAIM,
        // Settlements and anything else of ours: the costliest instruction bounds them.
        _ => CU_SETTLE,
    }
}

/// A compute-unit limit for instructions budgeted at `units` in total: the measured cost
/// times 1.2, instead of the default 200,000 per instruction, so a batch is priced and
/// scheduled for what it really uses.
pub fn compute_limit(units: u64) -> Instruction {
    let ix = solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
        units.saturating_mul(6).div_ceil(5).min(MAX_TX_COMPUTE_UNITS) as u32,
    );
    Instruction { program_id: ix.program_id, accounts: ix.accounts, data: ix.data }
}

/// Groups `groups` (each a unit that must stay in one transaction, e.g. an account creation
/// plus the claim that needs it) into transactions that fit both the 1232-byte packet (with
/// the price instruction the client adds) and the compute ceiling. Each transaction starts
/// with its compute-unit limit: [`compute_limit`] of its instructions' [`budget_of`].
pub fn pack(groups: Vec<Vec<Instruction>>, payer: &Pubkey) -> Vec<Vec<Instruction>> {
    let ceiling = MAX_TX_COMPUTE_UNITS * 5 / 6;
    let budget = |ixs: &[Instruction]| ixs.iter().map(budget_of).sum::<u64>();
    let with_limit = |ixs: &[Instruction]| {
        let mut tx = vec![compute_limit(budget(ixs))];
        tx.extend(ixs.iter().cloned());
        tx
    };
    let mut out: Vec<Vec<Instruction>> = Vec::new();
    let mut current: Vec<Instruction> = Vec::new();
    for group in groups {
        let mut candidate = current.clone();
        candidate.extend(group.iter().cloned());
        let too_big = sent_size(&with_limit(&candidate), payer) > PACKET_DATA_SIZE;
        if !current.is_empty() && (budget(&candidate) > ceiling || too_big) {
            out.push(with_limit(&current));
            candidate = group;
        }
        current = candidate;
    }
    if !current.is_empty() {
        out.push(with_limit(&current));
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
        let txs = pack(groups, &provider);
        assert!(txs.len() > 1 && txs.len() < 40, "40 heartbeats packed into {} transactions", txs.len());
        assert_eq!(txs.iter().map(|tx| tx.len() - 1).sum::<usize>(), 40, "each has one compute-limit instruction");
        let budget = solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
            ((txs[0].len() - 1) as u64 * CU_HEARTBEAT * 6 / 5) as u32,
        );
        assert_eq!(txs[0][0].data, budget.data, "the limit is the measured cost of what the transaction holds, +20%");
        for tx in &txs {
            assert!(sent_size(tx, &provider) <= PACKET_DATA_SIZE, "fits with the price the client adds");
        }
    }

    #[test]
    fn an_account_creation_is_budgeted_with_the_claim_it_precedes() {
        let provider = Pubkey::new_unique();
        let token_program = anchor_spl::token::ID;
        let k = ix::RentalKeys::new(
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            0,
            provider,
            Pubkey::new_unique(),
            token_program,
        );
        let treasury = Pubkey::new_unique();
        let group =
            vec![ix::create_ata_idempotent(&provider, &provider, &k.mint, &k.token_program), ix::claim(&k, &treasury)];
        let txs = pack(vec![group], &provider);
        let limit = solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
            ((CU_CREATE_ACCOUNT + CU_CLAIM) * 6 / 5) as u32,
        );
        assert_eq!(txs[0][0].data, limit.data);
    }

    #[test]
    fn the_compute_ceiling_splits_batches() {
        let provider = Pubkey::new_unique();
        let rental = Pubkey::new_unique();
        // A run of small instructions would fit one packet, but not one compute budget.
        let per_tx = (MAX_TX_COMPUTE_UNITS * 5 / 6 / CU_OTHER) as usize;
        let noop = |_| vec![Instruction { program_id: rental, accounts: vec![], data: vec![] }];
        let txs = pack((0..per_tx + 1).map(noop).collect(), &provider);
        assert_eq!(txs.iter().map(|tx| tx.len() - 1).collect::<Vec<_>>(), vec![per_tx, 1]);
    }
}
