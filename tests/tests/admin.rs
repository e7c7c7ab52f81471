//! Admin instructions: config init/update, two-step admin transfer, accepted mints, pause.
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow::state::Config;
use gpu_escrow_sdk::{ix, pda, Instruction, Pubkey, Signer};
use gpu_escrow_tests::svm::{listing_params, Env, Market, SPL_TOKEN, TOKEN_2022};
use t22::extension::ExtensionType;

#[test]
fn only_the_upgrade_authority_can_initialise_the_config() {
    let mut env = Env::new();
    let intruder = env.wallet();
    let args = ix::InitializeConfigArgs {
        arbiter: intruder.pubkey(),
        treasury: intruder.pubkey(),
        fee_bps: 100,
        activation_timeout_secs: 600,
        dispute_timeout_secs: 600,
    };
    let err = env.send1(ix::initialize_config(&intruder.pubkey(), args), &intruder).unwrap_err();
    assert_eq!(err.name, "NotUpgradeAuthority");
    assert!(!env.exists(&pda::config()));

    env.init_config(250).unwrap();
    let c: Config = env.decode(&pda::config());
    assert_eq!(c.admin, env.admin.pubkey());
    assert_eq!(c.arbiter, env.arbiter.pubkey());
    assert_eq!(c.treasury, env.treasury.pubkey());
    assert_eq!((c.fee_bps, c.activation_timeout_secs, c.dispute_timeout_secs, c.paused), (250, 600, 3_600, false));
    // A second initialisation cannot overwrite it.
    assert!(env.init_config(0).is_err());
}

#[test]
fn fee_above_cap_and_zero_timeouts_are_rejected() {
    let mut env = Env::new();
    assert_eq!(env.init_config(3_001).unwrap_err().name, "FeeTooHigh");
    env.init_config(3_000).unwrap();
    let admin = env.admin.pubkey();
    let up = |fee, t| {
        ix::update_config(
            &admin,
            ix::UpdateConfigArgs { fee_bps: fee, activation_timeout_secs: t, ..Default::default() },
        )
    };
    assert_eq!(env.admin_send(up(Some(3_001), None)).unwrap_err().name, "FeeTooHigh");
    assert_eq!(env.admin_send(up(None, Some(0))).unwrap_err().name, "InvalidTimeout");
    env.admin_send(up(Some(10), Some(42))).unwrap();
    let c: Config = env.decode(&pda::config());
    assert_eq!((c.fee_bps, c.activation_timeout_secs), (10, 42));
}

#[test]
fn update_config_requires_the_admin() {
    let (mut env, _) = Env::with_config();
    let other = env.wallet();
    let ix = ix::update_config(&other.pubkey(), ix::UpdateConfigArgs { fee_bps: Some(0), ..Default::default() });
    assert_eq!(env.send1(ix, &other).unwrap_err().name, "NotAdmin");
    assert_eq!(env.decode::<Config>(&pda::config()).fee_bps, 250);
}

#[test]
fn admin_transfer_takes_two_steps() {
    let (mut env, _) = Env::with_config();
    let next = env.wallet();
    let stranger = env.wallet();
    assert_eq!(env.send1(ix::accept_admin(&next.pubkey()), &next).unwrap_err().name, "NoPendingAdmin");
    env.admin_send(ix::propose_admin(&env.admin.pubkey(), &next.pubkey())).unwrap();
    assert_eq!(env.decode::<Config>(&pda::config()).admin, env.admin.pubkey());
    assert_eq!(env.send1(ix::accept_admin(&stranger.pubkey()), &stranger).unwrap_err().name, "NotPendingAdmin");
    env.send1(ix::accept_admin(&next.pubkey()), &next).unwrap();
    let c: Config = env.decode(&pda::config());
    assert_eq!(c.admin, next.pubkey());
    assert_eq!(c.pending_admin, Default::default());
    // The old admin has lost its powers.
    assert_eq!(env.admin_send(ix::set_paused(&env.admin.pubkey(), true)).unwrap_err().name, "NotAdmin");
}

#[test]
fn only_the_admin_removes_mints_or_proposes_a_successor() {
    let (mut env, mint) = Env::with_config();
    let stranger = env.wallet();
    let err = env.send1(ix::remove_mint(&stranger.pubkey(), &mint), &stranger).unwrap_err();
    assert_eq!(err.name, "NotAdmin");
    assert!(env.exists(&pda::accepted_mint(&mint)));
    let err = env.send1(ix::propose_admin(&stranger.pubkey(), &stranger.pubkey()), &stranger).unwrap_err();
    assert_eq!(err.name, "NotAdmin");
    assert_eq!(env.decode::<Config>(&pda::config()).pending_admin, Pubkey::default());
}

#[test]
fn removing_a_mint_stops_new_listings_in_it() {
    let (mut env, mint) = Env::with_config();
    let provider = env.wallet();
    env.send1(ix::register_provider(&provider.pubkey()), &provider).unwrap();
    env.admin_send(ix::remove_mint(&env.admin.pubkey(), &mint)).unwrap();
    assert!(!env.exists(&pda::accepted_mint(&mint)));
    let err =
        env.send1(ix::create_listing(&provider.pubkey(), 0, &mint, listing_params(1_000)), &provider).unwrap_err();
    assert_eq!(err.name, "MintNotAccepted");
}

#[test]
fn token_2022_mints_without_dangerous_extensions_are_accepted() {
    let (mut env, _) = Env::with_config();
    let plain = env.create_mint(TOKEN_2022);
    env.admin_send(ix::add_mint(&env.admin.pubkey(), &plain, &TOKEN_2022, 0)).unwrap();
    // A zero transfer fee that nobody can ever raise is harmless.
    let zero_fee = env.create_mint_with(TOKEN_2022, &[ExtensionType::TransferFeeConfig], |mint, _| {
        vec![t22::extension::transfer_fee::instruction::initialize_transfer_fee_config(
            &TOKEN_2022,
            mint,
            None,
            None,
            0,
            0,
        )
        .unwrap()]
    });
    env.admin_send(ix::add_mint(&env.admin.pubkey(), &zero_fee, &TOKEN_2022, 0)).unwrap();
    let a: gpu_escrow::state::AcceptedMint = env.decode(&pda::accepted_mint(&plain));
    assert_eq!((a.mint, a.token_program, a.decimals), (plain, TOKEN_2022, 6));
}

#[test]
fn token_2022_extensions_that_threaten_escrow_are_rejected_by_name() {
    let (mut env, _) = Env::with_config();
    let t = TOKEN_2022;
    type Init = Box<dyn FnOnce(&Pubkey, &Pubkey) -> Vec<Instruction>>;
    let cases: Vec<(ExtensionType, &str, Init)> = vec![
        (
            ExtensionType::PermanentDelegate,
            "MintHasPermanentDelegate",
            Box::new(move |m, a| vec![t22::instruction::initialize_permanent_delegate(&t, m, a).unwrap()]),
        ),
        (
            ExtensionType::TransferHook,
            "MintHasTransferHook",
            Box::new(move |m, a| {
                vec![t22::extension::transfer_hook::instruction::initialize(&t, m, Some(*a), Some(gpu_escrow::ID))
                    .unwrap()]
            }),
        ),
        (
            ExtensionType::TransferFeeConfig,
            "MintHasTransferFee",
            Box::new(move |m, a| {
                vec![t22::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                    &t,
                    m,
                    Some(a),
                    Some(a),
                    50,
                    1_000,
                )
                .unwrap()]
            }),
        ),
        (
            ExtensionType::NonTransferable,
            "MintNonTransferable",
            Box::new(move |m, _| vec![t22::instruction::initialize_non_transferable_mint(&t, m).unwrap()]),
        ),
        (
            ExtensionType::DefaultAccountState,
            "MintDefaultFrozen",
            Box::new(move |m, _| {
                vec![t22::extension::default_account_state::instruction::initialize_default_account_state(
                    &t,
                    m,
                    &t22::state::AccountState::Frozen,
                )
                .unwrap()]
            }),
        ),
        (
            ExtensionType::Pausable,
            "MintPausable",
            Box::new(move |m, a| vec![t22::extension::pausable::instruction::initialize(&t, m, a).unwrap()]),
        ),
    ];
    for (ext, expected, init) in cases {
        let mint = env.create_mint_with(TOKEN_2022, &[ext], init);
        let err = env.admin_send(ix::add_mint(&env.admin.pubkey(), &mint, &TOKEN_2022, 0)).unwrap_err();
        assert_eq!(err.name, expected, "{ext:?}");
        assert!(!env.exists(&pda::accepted_mint(&mint)), "{ext:?} must not be accepted");
    }
}

#[test]
fn adding_a_mint_requires_the_admin_and_the_right_token_program() {
    let (mut env, _) = Env::with_config();
    let other = env.wallet();
    let mint = env.create_mint(SPL_TOKEN);
    assert_eq!(env.send1(ix::add_mint(&other.pubkey(), &mint, &SPL_TOKEN, 0), &other).unwrap_err().name, "NotAdmin");
    let err = env.admin_send(ix::add_mint(&env.admin.pubkey(), &mint, &TOKEN_2022, 0)).unwrap_err();
    assert_eq!(err.name, "ConstraintMintTokenProgram");
}

#[test]
fn pause_blocks_only_new_business() {
    let mut m = Market::new();
    let k = m.running(3_600_000);
    let funded = m.open(600_000).unwrap();
    let admin = m.env.admin.pubkey();
    m.env.admin_send(ix::set_paused(&admin, true)).unwrap();

    // Blocked: new listings, new rentals, top-ups.
    let p = m.provider.insecure_clone();
    let err = m.env.send1(ix::create_listing(&p.pubkey(), 1, &m.mint, listing_params(1_000)), &p).unwrap_err();
    assert_eq!(err.name, "MarketPaused");
    assert_eq!(m.open(600_000).unwrap_err().name, "MarketPaused");
    let r = m.renter.insecure_clone();
    assert_eq!(m.env.send1(ix::top_up(&k, 1_000), &r).unwrap_err().name, "MarketPaused");

    // Never blocked: claim, cancel, stop (and the rest share the same paths).
    m.env.advance(100);
    m.claim(&k).unwrap();
    m.env.send1(ix::cancel_rental(&r.pubkey(), &funded), &r).unwrap();
    let treasury = m.env.treasury.pubkey();
    m.env.send1(ix::stop_rental(&r.pubkey(), &k, &treasury), &r).unwrap();

    m.env.admin_send(ix::set_paused(&admin, false)).unwrap();
    m.open(600_000).unwrap();
}
