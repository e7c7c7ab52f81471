//! Receipts and history trust only the events this program emitted: another program in the
//! same transaction can print our event layout (`sol_log_data`, as `emit!` does), and its
//! line must not be taken for ours. The forger is the benchmark floor program
//! (tests/fixtures/floor), whose `LogData` instruction logs any bytes.
use anchor_lang::{AnchorSerialize, Discriminator};
use gpu_escrow::events::{RentalSettled, SettleReason};
use gpu_escrow_sdk::receipts::{parse_logs, EscrowEvent};
use gpu_escrow_sdk::{ix, Instruction, Pubkey, Signer};
use gpu_escrow_tests::svm::Market;

const FORGER: Pubkey = Pubkey::from_str_const("F1oorGpuEscrowBench1111111111111111111111111");

fn forger_so() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/gpu_escrow_floor.so");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{} ({e}); run scripts/build-sbf gpu-escrow-floor", path.display()))
}

/// The floor's LogData: tag 5, a u16 length, the bytes.
fn log_data(bytes: &[u8]) -> Instruction {
    let mut data = vec![5u8];
    data.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    data.extend_from_slice(bytes);
    Instruction { program_id: FORGER, accounts: vec![], data }
}

#[test]
fn an_event_printed_by_another_program_is_not_taken_for_ours() {
    let mut m = Market::new();
    m.env.svm.add_program(FORGER, &forger_so()).expect("load the forger");
    let k = m.running(600_000);
    m.env.advance(60);
    // A settlement that never happened: everything "refunded" to the renter.
    let forged = RentalSettled {
        rental: k.rental,
        renter: m.renter.pubkey(),
        provider: m.provider.pubkey(),
        mint: m.mint,
        reason: SettleReason::Stopped,
        billed_seconds: 0,
        provider_amount: 0,
        fee_amount: 0,
        refund_amount: 600_000,
        provider_paid: 0,
        fee_paid: 0,
        refunded: 600_000,
        swept: 0,
        provider_owed: 0,
        fee_owed: 0,
        renter_owed: 0,
        ended_at: m.env.now(),
    };
    let mut bytes = RentalSettled::DISCRIMINATOR.to_vec();
    forged.serialize(&mut bytes).unwrap();
    let p = m.provider.insecure_clone();
    let claim = ix::claim(&k, &m.env.treasury.pubkey());
    // Before, between and after our program's own event.
    let meta = m.env.send(&[log_data(&bytes), claim, log_data(&bytes)], &p, &[]).unwrap();
    let lines = meta.logs.iter().filter(|l| l.starts_with("Program data: ")).count();
    assert_eq!(lines, 3, "the forged lines are in the logs: {:#?}", meta.logs);
    let events = parse_logs(&meta.logs);
    assert_eq!(events.len(), 1, "only the claim's own event");
    assert!(matches!(&events[0], EscrowEvent::Claimed(c) if c.rental == k.rental && c.provider_amount > 0));
    // The forger alone: nothing.
    let meta = m.env.send(&[log_data(&bytes)], &p, &[]).unwrap();
    assert!(parse_logs(&meta.logs).is_empty());
}
