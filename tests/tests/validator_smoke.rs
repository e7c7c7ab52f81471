//! The real validator runs the preloaded sBPF v3 program: a transaction goes in through the
//! SDK client and its effect is read back over RPC.
use gpu_escrow_sdk::client::EscrowClient;
use gpu_escrow_sdk::{ix, CommitmentConfig, Keypair, Signer};
use gpu_escrow_tests::validator::TestValidator;

#[tokio::test(flavor = "multi_thread")]
async fn preloaded_program_initialises_its_config_on_a_real_validator() {
    let v = TestValidator::start();
    v.airdrop(&v.authority.pubkey(), 10_000_000_000);
    let client = EscrowClient::new(v.rpc_url.clone(), CommitmentConfig::confirmed());
    client.ensure_program_deployed().await.expect("program preloaded at genesis");
    assert!(matches!(client.config().await, Err(gpu_escrow_sdk::SdkError::ConfigMissing { .. })));

    let arbiter = Keypair::new();
    let args = ix::InitializeConfigArgs {
        arbiter: arbiter.pubkey(),
        treasury: arbiter.pubkey(),
        fee_bps: 321,
        activation_timeout_secs: 60,
        dispute_timeout_secs: 120,
    };
    let authority = v.authority.insecure_clone();
    client.send(&[ix::initialize_config(&authority.pubkey(), args)], &authority, &[]).await.expect("initialize_config");
    let c = client.config().await.expect("config readable");
    assert_eq!(
        (c.admin, c.arbiter, c.fee_bps, c.dispute_timeout_secs),
        (authority.pubkey(), arbiter.pubkey(), 321, 120)
    );

    // Rejections come back as the program's named errors, not an RPC dump.
    let again =
        ix::initialize_config(&authority.pubkey(), ix::InitializeConfigArgs { fee_bps: 1, ..args_copy(&arbiter) });
    let err = client.send(&[again], &authority, &[]).await.unwrap_err();
    assert_eq!(err.program_error_name(), Some("AccountAlreadyExists"), "{err}");
    let too_high =
        ix::update_config(&authority.pubkey(), ix::UpdateConfigArgs { fee_bps: Some(9_999), ..Default::default() });
    let err = client.send(&[too_high], &authority, &[]).await.unwrap_err();
    assert_eq!(err.program_error_name(), Some("FeeTooHigh"), "{err}");
    assert_eq!(client.config().await.unwrap().fee_bps, 321, "nothing changed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_program_is_reported_with_the_cluster_url() {
    let v = TestValidator::start_without_program();
    let client = EscrowClient::new(v.rpc_url.clone(), CommitmentConfig::confirmed());
    let err = client.config().await.unwrap_err();
    assert!(matches!(err, gpu_escrow_sdk::SdkError::ProgramNotDeployed { .. }), "{err}");
    assert!(err.to_string().contains(&v.rpc_url));
}

fn args_copy(arbiter: &Keypair) -> ix::InitializeConfigArgs {
    ix::InitializeConfigArgs {
        arbiter: arbiter.pubkey(),
        treasury: arbiter.pubkey(),
        fee_bps: 0,
        activation_timeout_secs: 60,
        dispute_timeout_secs: 60,
    }
}
