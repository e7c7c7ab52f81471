//! The yardstick: a minimal escrow written the ordinary Anchor way (tests/fixtures/
//! plain-anchor-escrow), doing the same money movements as gpu-escrow's open and stop.
use anchor_lang::{InstructionData, ToAccountMetas};
use gpu_escrow_sdk::{pda, Instruction, Pubkey, Signer};
use gpu_escrow_tests::svm::{self, Env, SPL_TOKEN};
use plain_anchor_escrow as plain;

fn so() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/plain_anchor_escrow.so");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{} ({e}); run scripts/build-sbf plain-anchor-escrow", path.display()))
}

/// Compute units of (open with a deposit, stop with three transfers and two closes).
pub fn costs() -> (u64, u64) {
    svm::seed_keys(Some(9_000));
    let mut env = Env::new();
    env.svm.add_program(plain::ID, &so()).expect("load plain_anchor_escrow.so");
    let mint = env.create_mint(SPL_TOKEN);
    let (renter, provider, treasury) = (env.wallet(), env.wallet(), env.wallet());
    env.fund(&renter.pubkey(), &mint, 10_000_000);
    for k in [&provider, &treasury] {
        env.fund(&k.pubkey(), &mint, 0);
    }
    let id = 1u64;
    let escrow = Pubkey::find_program_address(&[b"escrow", renter.pubkey().as_ref(), &id.to_le_bytes()], &plain::ID).0;
    let vault = Pubkey::find_program_address(&[b"vault", escrow.as_ref()], &plain::ID).0;
    let token = |owner: &Pubkey| pda::ata(owner, &mint, &SPL_TOKEN);
    let open = Instruction {
        program_id: plain::ID,
        accounts: plain::accounts::Open {
            renter: renter.pubkey(),
            provider: provider.pubkey(),
            escrow,
            vault,
            mint,
            renter_token: token(&renter.pubkey()),
            token_program: SPL_TOKEN,
            system_program: anchor_lang::system_program::ID,
        }
        .to_account_metas(None),
        data: plain::instruction::Open { id, deposit: 3_600_000 }.data(),
    };
    let stop = Instruction {
        program_id: plain::ID,
        accounts: plain::accounts::Stop {
            renter: renter.pubkey(),
            escrow,
            vault,
            mint,
            renter_token: token(&renter.pubkey()),
            provider_token: token(&provider.pubkey()),
            treasury_token: token(&treasury.pubkey()),
            token_program: SPL_TOKEN,
        }
        .to_account_metas(None),
        data: plain::instruction::Stop { id, provider_amount: 97_500, fee_amount: 2_500 }.data(),
    };
    let o = env.send1(open, &renter).unwrap_or_else(|f| panic!("plain open: {f:?}")).compute_units_consumed;
    let s = env.send1(stop, &renter).unwrap_or_else(|f| panic!("plain stop: {f:?}")).compute_units_consumed;
    svm::seed_keys(None);
    (o, s)
}
