//! Token issuers cannot gain powers over escrowed funds after their mint is accepted
//! (hardening issue, point 3). Each Token-2022 setting that an authority could switch on
//! later is refused at `add_mint` while that authority exists, and accepted once nobody can
//! ever change it. Open rentals re-check the mint, so entries accepted under older rules
//! cannot be used either.
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow_sdk::{ix, pda, Instruction, Pubkey, Signer};
use gpu_escrow_tests::svm::{Env, TOKEN_2022};
use t22::extension::ExtensionType;

type Init = Box<dyn FnOnce(&Pubkey, &Pubkey) -> Vec<Instruction>>;

fn add(env: &mut Env, ext: ExtensionType, init: Init) -> Result<Pubkey, String> {
    let mint = env.create_mint_with(TOKEN_2022, &[ext], init);
    let admin = env.admin.pubkey();
    match env.admin_send(ix::add_mint(&admin, &mint, &TOKEN_2022, 0)) {
        Ok(_) => Ok(mint),
        Err(f) => {
            assert!(!env.exists(&pda::accepted_mint(&mint)), "refused mints leave no entry");
            Err(f.name)
        }
    }
}

#[test]
fn a_transfer_hook_someone_could_still_set_is_refused() {
    let (mut env, _) = Env::with_config();
    let t = TOKEN_2022;
    // An authority but no program yet: the authority could set one at any time and freeze
    // every escrow in this mint (the program passes no extra accounts to a hook).
    let err = add(
        &mut env,
        ExtensionType::TransferHook,
        Box::new(move |m, a| {
            vec![t22::extension::transfer_hook::instruction::initialize(&t, m, Some(*a), None).unwrap()]
        }),
    );
    assert_eq!(err.unwrap_err(), "MintHasTransferHook");
    // Token-2022 requires a hook to have an authority or a program, so a mint with this
    // extension is always refused; the same holds for a program set from the start.
    let err = add(
        &mut env,
        ExtensionType::TransferHook,
        Box::new(move |m, _| {
            vec![t22::extension::transfer_hook::instruction::initialize(&t, m, None, Some(gpu_escrow::ID)).unwrap()]
        }),
    );
    assert_eq!(err.unwrap_err(), "MintHasTransferHook");
}

#[test]
fn a_zero_transfer_fee_with_an_authority_is_refused() {
    let (mut env, _) = Env::with_config();
    let t = TOKEN_2022;
    let fee = |config_authority: bool| -> Init {
        Box::new(move |m, a| {
            let auth = config_authority.then_some(a);
            vec![t22::extension::transfer_fee::instruction::initialize_transfer_fee_config(&t, m, auth, auth, 0, 0)
                .unwrap()]
        })
    };
    // 0 bps today, but the fee authority could raise it: payouts would arrive short and
    // withheld fees would block every vault close.
    assert_eq!(add(&mut env, ExtensionType::TransferFeeConfig, fee(true)).unwrap_err(), "MintHasTransferFee");
    assert!(add(&mut env, ExtensionType::TransferFeeConfig, fee(false)).is_ok());
}

#[test]
fn a_mint_close_authority_is_refused() {
    let (mut env, _) = Env::with_config();
    let t = TOKEN_2022;
    // A zero-supply mint could be closed and recreated at the same address with any
    // extensions, while its AcceptedMint entry survived.
    let err = add(
        &mut env,
        ExtensionType::MintCloseAuthority,
        Box::new(move |m, a| vec![t22::instruction::initialize_mint_close_authority(&t, m, Some(a)).unwrap()]),
    );
    assert_eq!(err.unwrap_err(), "MintHasCloseAuthority");
    let ok = add(
        &mut env,
        ExtensionType::MintCloseAuthority,
        Box::new(move |m, _| vec![t22::instruction::initialize_mint_close_authority(&t, m, None).unwrap()]),
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn metadata_and_display_only_extensions_are_accepted() {
    let (mut env, _) = Env::with_config();
    let t = TOKEN_2022;
    let ok = add(
        &mut env,
        ExtensionType::MetadataPointer,
        Box::new(move |m, a| {
            vec![t22::extension::metadata_pointer::instruction::initialize(&t, m, Some(*a), Some(*m)).unwrap()]
        }),
    );
    assert!(ok.is_ok(), "{ok:?}");
    let ok = add(
        &mut env,
        ExtensionType::InterestBearingConfig,
        Box::new(move |m, a| {
            vec![t22::extension::interest_bearing_mint::instruction::initialize(&t, m, Some(*a), 500).unwrap()]
        }),
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn open_rental_re_checks_the_mint_so_older_entries_obey_todays_rules() {
    use anchor_lang::AccountSerialize;
    use gpu_escrow_tests::svm::{listing_params, Market};
    let (mut env, _) = Env::with_config();
    let t = TOKEN_2022;
    let mint = env.create_mint_with(TOKEN_2022, &[ExtensionType::TransferHook], move |m, a| {
        vec![t22::extension::transfer_hook::instruction::initialize(&t, m, Some(*a), None).unwrap()]
    });
    // An AcceptedMint entry written as an older program version (without today's hook rule)
    // would have accepted it.
    let (address, bump) = Pubkey::find_program_address(&[b"mint", mint.as_ref()], &gpu_escrow_sdk::PROGRAM_ID);
    let entry =
        gpu_escrow::state::AcceptedMint { mint, token_program: TOKEN_2022, decimals: 6, bump, min_rated_gross: 0 };
    let mut data = Vec::new();
    entry.try_serialize(&mut data).unwrap();
    let lamports = env.svm.minimum_balance_for_rent_exemption(data.len());
    let account =
        solana_account::Account { lamports, data, owner: gpu_escrow_sdk::PROGRAM_ID, executable: false, rent_epoch: 0 };
    env.svm.set_account(address, account).unwrap();
    let mut m = Market::on(env, mint, listing_params(3_600_000));
    let before = m.balances();
    assert_eq!(m.open(600_000).unwrap_err().name, "MintHasTransferHook");
    assert_eq!(m.balances(), before);
}
