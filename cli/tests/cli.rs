//! The built `gpu-escrow` binary against a real local validator: every command's happy path
//! and the errors a user must be able to act on, checking output and on-chain effect.
mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{pubkey, Market, Net};
use gpu_escrow_sdk::{Keypair, Pubkey, Signer};
use gpu_escrow_tests::validator::TestValidator;
use serde_json::Value;

#[test]
fn a_full_rental_through_the_cli() {
    let m = Market::new(&[]);
    let n = &m.net;

    let market = n.json(&m.renter, &["market", "--gpu", "RTX 4090", "--max-price", "40", "--min-vram", "16"]);
    let listings = market["listings"].as_array().unwrap();
    assert_eq!(listings.len(), 1);
    assert_eq!(listings[0]["price_per_hour"]["ui_amount"], "36.00");
    assert!(n.json(&m.renter, &["market", "--max-price", "35"])["listings"].as_array().unwrap().is_empty());
    assert!(n.json(&m.renter, &["market", "--min-rating", "1"])["listings"].as_array().unwrap().is_empty(), "unrated");
    let human = n.run(&m.renter, &["market"]).success().stdout;
    assert!(human.contains("RTX 4090") && human.contains("36.00"), "{human}");

    // 0.1 h at 36/h = 3.60 tokens.
    let rent = n.json(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "0"]);
    let rental = rent["rental"].as_str().unwrap().to_string();
    assert_eq!(rent["deposit"]["amount"], 3_600_000);
    assert_eq!(m.balance(&m.renter), 96_400_000);
    assert_eq!(n.json(&m.renter, &["status", &rental])["state"], "Funded");

    let e = n.run(&m.renter, &["access", &rental]).failure();
    assert!(e.stderr.contains("has not activated this rental yet"), "{}", e.stderr);
    n.run(&m.provider, &["activate", &rental, "--ssh", "renter@203.0.113.7:2222"]).success();
    let access = n.json(&m.renter, &["access", &rental]);
    assert_eq!(access["ssh_command"], "ssh -p 2222 renter@203.0.113.7");
    let human = n.run(&m.renter, &["access", &rental]).success().stdout;
    assert!(human.starts_with("ssh -p 2222 renter@203.0.113.7"), "{human}");
    // Only the renter's wallet opens it.
    let e = n.run(&m.provider, &["access", &rental]).failure();
    assert!(e.stderr.contains("only the renter"), "{}", e.stderr);
    assert_eq!(n.json(&m.renter, &["status", &rental])["access_delivered"], true);
    let watch = n.run(&m.renter, &["--output", "json", "watch", &rental, "--count", "1"]).success();
    let reading: Value = serde_json::from_str(watch.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(reading["state"], "Active");
    assert!(reading["remaining_seconds"].as_u64().unwrap() <= 360);

    n.wait_billed(&m.renter, &rental);
    let claim = n.json(&m.provider, &["claim", &rental]);
    assert_eq!(claim["claims"].as_array().unwrap().len(), 1);
    let provider_after_claim = m.balance(&m.provider);
    assert!(provider_after_claim > 0, "provider was paid by the claim");

    n.run(&m.renter, &["top-up", &rental, "0.5"]).success();
    assert_eq!(n.json(&m.renter, &["status", &rental])["deposited"]["amount"], 4_100_000);

    let stop = n.json(&m.renter, &["stop", &rental]);
    assert_eq!(stop["state"], "Settled");
    // "Paid now" excludes what the claim already paid; the totals include it.
    let paid_now = stop["paid_now"]["provider"]["amount"].as_u64().unwrap();
    assert_eq!(paid_now + provider_after_claim, stop["provider_paid"]["amount"].as_u64().unwrap());
    let paid = stop["provider_paid"]["amount"].as_u64().unwrap();
    let fee = stop["fee_paid"]["amount"].as_u64().unwrap();
    let refunded = stop["refunded"]["amount"].as_u64().unwrap();
    assert_eq!(paid + fee + refunded, 4_100_000, "conservation");
    assert_eq!(m.balance(&m.provider), paid);
    assert_eq!(m.balance(&m.renter), 100_000_000 - 4_100_000 + refunded);

    // A few seconds of use cannot buy a rating; closing without one returns the deposits.
    let e = n.run(&m.renter, &["close", &rental, "--rate", "5"]).failure();
    assert!(e.stderr.contains("at least 10 minutes"), "{}", e.stderr);
    let closed = n.run(&m.renter, &["close", &rental]).success().stdout;
    assert!(closed.contains("account deposits (SOL) were returned"), "{closed}");
    let receipt = n.json(&m.renter, &["receipt", &rental]);
    assert_eq!(receipt["state"], "Settled (closed)");
    assert_eq!(receipt["provider_paid"], paid);
    assert_eq!(receipt["refunded"], refunded);
    assert_eq!(receipt["rating"], Value::Null);
    assert!(receipt["signatures"].as_array().unwrap().len() >= 6);

    let csv = n.home.path().join("history.csv");
    n.run(&m.renter, &["history", "--csv", csv.to_str().unwrap()]).success();
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("rental,role,state"));
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].contains(&rental) && lines[1].contains(",renter,"));
    // Seconds of use do not count towards the provider's record either.
    let p = n.json(&m.renter, &["provider", "show", &pubkey(&m.provider)]);
    assert_eq!((p["rating"].as_f64(), p["rentals_completed"].as_u64()), (None, Some(0)));
}

#[test]
fn cancel_decline_dispute_and_admin_commands() {
    let m = Market::new(&[]);
    let n = &m.net;
    let r1 = m.rent("0.1");
    n.run(&m.renter, &["cancel", &r1]).success();
    assert_eq!(m.balance(&m.renter), 100_000_000);
    let r2 = m.rent("0.1");
    n.run(&m.provider, &["decline", &r2]).success();
    assert_eq!(n.json(&m.renter, &["status", &r2])["state"], "Cancelled");

    let r3 = m.rent("0.1");
    n.run(&m.provider, &["activate", &r3]).success();
    n.wait_billed(&m.renter, &r3);
    let d = n.json(&m.renter, &["dispute", "open", &r3, "--reason", "2"]);
    let locked = d["dispute_locked"]["amount"].as_u64().unwrap();
    assert!(locked > 0);
    let arbiter = n.home.path().join("arbiter.json");
    let err = n.run(&m.provider, &["dispute", "resolve", &r3, "--provider-amount", "0"]).failure();
    assert!(err.stderr.contains("Only the arbiter"), "{}", err.stderr);
    n.run(&arbiter, &["dispute", "resolve", &r3, "--provider-amount", "0"]).success();
    assert_eq!(n.json(&m.renter, &["status", &r3])["state"], "Settled");
    assert_eq!(m.balance(&m.provider), 0, "the arbiter awarded nothing to the provider");

    n.run(&m.admin, &["pause"]).success();
    let err = n.run(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "0"]).failure();
    assert!(err.stderr.contains("paused"), "{}", err.stderr);
    assert!(n.json(&m.admin, &["config", "show"])["paused"].as_bool().unwrap());
    n.run(&m.admin, &["unpause"]).success();
    n.run(&m.admin, &["config", "update", "--fee-bps", "100"]).success();
    assert_eq!(n.json(&m.admin, &["config", "show"])["fee_bps"], 100);

    n.run(&m.provider, &["listing", "pause", &m.listing]).success();
    assert!(n.json(&m.renter, &["market"])["listings"].as_array().unwrap().is_empty());
    n.run(&m.provider, &["listing", "resume", &m.listing]).success();
    n.run(&m.provider, &["listing", "update", &m.listing, "--price", "40"]).success();
    let l = &n.json(&m.renter, &["market"])["listings"][0];
    assert_eq!(l["price_per_hour"]["ui_amount"], "40.00");
}

#[test]
fn heartbeat_agent_and_claim_all() {
    let m = Market::new(&["--heartbeat-interval", "30"]);
    let n = &m.net;
    let a = m.rent("0.1");
    let b = m.rent("0.1");
    n.run(&m.provider, &["activate", &a]).success();
    n.run(&m.provider, &["activate", &b]).success();
    // A heartbeat in its rental's activation second is a no-op (it proves nothing new).
    n.wait_billed(&m.renter, &a);
    n.wait_billed(&m.renter, &b);
    let hb = n.json(&m.provider, &["heartbeat", "--all", "--every", "1", "--rounds", "2"]);
    assert_eq!(hb["heartbeats"], 4, "two rentals, two rounds");
    // Recorded on the rentals; the profile credits them only from rentals that count.
    let p = n.json(&m.provider, &["provider", "show"]);
    assert_eq!(p["heartbeats"], 0);
    let claims = n.json(&m.provider, &["claim", "--all"]);
    assert_eq!(claims["claims"].as_array().unwrap().len(), 2);
    assert_eq!(claims["signatures"].as_array().unwrap().len(), 1, "both claims packed in one transaction");
    assert!(m.balance(&m.provider) > 0);
}

#[test]
fn errors_are_actionable_and_send_nothing() {
    let m = Market::new(&[]);
    let n = &m.net;

    let e = n.run(Path::new("/nonexistent/id.json"), &["provider", "register"]).failure();
    assert!(e.stderr.contains("cannot read keypair file /nonexistent/id.json"), "{}", e.stderr);

    for (amount, why) in [
        ("-1", "negative"),
        ("1.1234567", "decimal places"),
        ("99999999999999999999", "too large"),
        ("abc", "not a decimal"),
    ] {
        let e = n.run(&m.renter, &["rent", &m.listing, "--deposit", amount, "--yes"]).failure();
        assert!(e.stderr.contains(why), "{amount}: {}", e.stderr);
    }
    assert_eq!(m.balance(&m.renter), 100_000_000);

    let poor = n.wallet("poor", 1);
    let e = n.run(&poor, &["rent", &m.listing, "--hours", "1", "--yes"]).failure();
    assert!(
        e.stderr.contains("not enough tokens")
            && e.stderr.contains(&pubkey(&poor))
            && e.stderr.contains("missing 36.00"),
        "{}",
        e.stderr
    );

    let broke = n.wallet("broke", 0);
    n.run(&m.admin, &["dev", "mint-to", &m.mint, &pubkey(&broke), "50"]).success();
    let e = n.run(&broke, &["rent", &m.listing, "--hours", "1", "--yes"]).failure();
    assert!(e.stderr.contains("not enough SOL") && e.stderr.contains(&pubkey(&broke)), "{}", e.stderr);
    assert_eq!(m.balance(&broke), 50_000_000);

    let unknown = Keypair::new().pubkey().to_string();
    let e = n.run(&m.renter, &["status", &unknown]).failure();
    assert!(e.stderr.contains("does not exist"), "{}", e.stderr);
    let e = n.run(&m.renter, &["rent", &unknown, "--hours", "1", "--yes"]).failure();
    assert!(e.stderr.contains("does not exist"), "{}", e.stderr);

    let rental = m.rent("0.1");
    let e = n.run(&m.renter, &["stop", &rental]).failure();
    assert!(e.stderr.contains("is Funded; this command needs it to be Active"), "{}", e.stderr);
    let e = n.run(&m.renter, &["close", &rental, "--rate", "9"]).failure();
    assert!(e.stderr.contains("between 1 and 5"), "{}", e.stderr);

    let out = Command::cargo_bin("gpu-escrow")
        .unwrap()
        .env("HOME", n.home.path())
        .args(["-u", "foonet", "market"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown cluster `foonet`"));

    let e = n.run(&m.renter, &["--output", "json", "stop", &rental]).failure();
    let v: Value = serde_json::from_str(e.stderr.trim()).unwrap();
    assert_eq!(v["error"]["kind"], "refused");
}

#[test]
fn a_cluster_without_the_program_is_named_and_deploy_fixes_it() {
    let n = Net::with(TestValidator::start_without_program());
    let w = n.wallet("w", 100);
    let e = n.run(&w, &["market"]).failure();
    assert!(e.stderr.contains("is not deployed on the cluster at") && e.stderr.contains(&n.v.rpc_url), "{}", e.stderr);

    let so = gpu_escrow_tests::svm::program_so();
    let program_keypair = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../keys/gpu_escrow-localnet-keypair.json");
    let deploy_args =
        ["program", "deploy", "--so", so.to_str().unwrap(), "--program-keypair", program_keypair.to_str().unwrap()];
    // Not a terminal: progress comes as plain lines on stderr, the result on stdout.
    let deploy = n.run(&w, &deploy_args).success();
    assert!(deploy.stdout.contains(&format!("program {} deployed", gpu_escrow_sdk::PROGRAM_ID)), "{}", deploy.stdout);
    for step in ["buffer created; uploading in ", "all writes confirmed; deploying the buffer"] {
        assert!(deploy.stderr.contains(&format!("program deploy: {step}")), "{step}: {}", deploy.stderr);
    }
    let counts =
        deploy.stderr.lines().filter(|l| l.starts_with("program deploy: ") && l.ends_with(" writes confirmed"));
    assert!(counts.count() >= 1, "{}", deploy.stderr);
    let e = n.run(&w, &["config", "show"]).failure();
    assert!(e.stderr.contains("config is not initialised"), "{}", e.stderr);
    // The deployer is the upgrade authority, so it may initialise the config.
    n.run(&w, &["config", "init", "--arbiter", &pubkey(&w), "--treasury", &pubkey(&w)]).success();
    assert_eq!(n.json(&w, &["config", "show"])["admin"], pubkey(&w));
    let e = n.run(&w, &deploy_args).failure();
    assert!(e.stderr.contains("already deployed"), "{}", e.stderr);
}

#[test]
fn finalize_expiry_admin_transfer_and_closing() {
    let m = Market::new(&["--heartbeat-interval", "2"]);
    let n = &m.net;
    n.run(&m.admin, &["config", "update", "--dispute-timeout", "1"]).success();

    // A missed heartbeat ends billing; anyone may then finalize.
    let a = m.rent("0.1");
    n.run(&m.provider, &["activate", &a]).success();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let crank = n.wallet("crank", 1);
    assert_eq!(n.json(&crank, &["finalize", &a])["state"], "Settled");

    // A dispute nobody resolves settles as earned after the (1 s) timeout.
    let b = m.rent("0.1");
    n.run(&m.provider, &["activate", &b]).success();
    n.run(&m.provider, &["heartbeat", &b]).success();
    n.run(&m.provider, &["dispute", "open", &b]).success();
    std::thread::sleep(std::time::Duration::from_secs(2));
    n.run(&crank, &["dispute", "finalize-expired", &b]).success();
    assert_eq!(n.json(&m.renter, &["status", &b])["state"], "Settled");

    let rentals = n.json(&m.renter, &["rentals"]);
    assert_eq!(rentals["rentals"].as_array().unwrap().len(), 2);
    for r in [&a, &b] {
        n.run(&m.renter, &["close", r]).success();
    }
    n.run(&m.provider, &["listing", "close", &m.listing]).success();
    assert!(n.json(&m.renter, &["market"])["listings"].as_array().unwrap().is_empty());

    n.run(&m.admin, &["mint", "remove", &m.mint]).success();
    let e = n.run(&m.provider, &["listing", "create", "--mint", &m.mint, "--price", "1", "--gpu", "A100"]).failure();
    assert!(e.stderr.contains("not accepted"), "{}", e.stderr);

    let next = n.wallet("next-admin", 1);
    n.run(&m.admin, &["admin", "propose", &pubkey(&next)]).success();
    n.run(&next, &["admin", "accept"]).success();
    assert_eq!(n.json(&next, &["config", "show"])["admin"], pubkey(&next));
    let e = n.run(&m.admin, &["pause"]).failure();
    assert!(e.stderr.contains("Only the config admin"), "{}", e.stderr);
}

#[test]
fn help_explains_units_and_completions_generate() {
    let out = Command::cargo_bin("gpu-escrow").unwrap().args(["rent", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--hours") && help.contains("tokens"), "{help}");
    let out = Command::cargo_bin("gpu-escrow").unwrap().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("gpu-escrow"));
}

#[test]
fn market_filters_and_sorts_by_the_on_chain_rating() {
    let m = Market::with_rated_provider(9, 2); // 4.5 stars
    let n = &m.net;
    assert_eq!(
        n.json(&m.renter, &["market", "--min-rating", "4.5", "--sort", "rating"])["listings"][0]["provider_rating"],
        4.5
    );
    assert!(n.json(&m.renter, &["market", "--min-rating", "4.6"])["listings"].as_array().unwrap().is_empty());
    let record = &n.json(&m.renter, &["market"])["listings"][0]["provider_record"];
    assert_eq!((record["rating_count"].as_u64(), record["rentals_completed"].as_u64()), (Some(2), Some(2)));
    assert_eq!(record["disputes_lost"].as_u64(), Some(0));
    let p = n.json(&m.renter, &["provider", "show", &pubkey(&m.provider)]);
    assert_eq!((p["rating"].as_f64(), p["rentals_completed"].as_u64()), (Some(4.5), Some(2)));
}

/// The mint's freeze authority (the admin created the test mint) freezes or thaws a wallet's account.
fn set_frozen(m: &Market, owner: &Path, frozen: bool) {
    let admin = gpu_escrow_tests::validator::read_keypair(&m.admin);
    let mint: Pubkey = m.mint.parse().unwrap();
    let owner: Pubkey = pubkey(owner).parse().unwrap();
    m.net.v.set_frozen(&owner, &mint, &anchor_spl_token_program(), &admin, frozen);
}

fn anchor_spl_token_program() -> Pubkey {
    Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
}

#[test]
fn no_payee_can_block_the_others_through_the_cli() {
    let m = Market::new(&[]);
    let n = &m.net;
    let treasury = n.home.path().join("treasury.json");

    // 1. The issuer freezes the provider's account; the renter stops and is refunded at once.
    let a = m.rent("0.1");
    n.run(&m.provider, &["activate", &a]).success();
    n.wait_billed(&m.renter, &a);
    set_frozen(&m, &m.provider, true);
    let stop = n.json(&m.renter, &["stop", &a]);
    let held = stop["held"]["provider"]["amount"].as_u64().unwrap();
    let refund = stop["refunded"]["amount"].as_u64().unwrap();
    assert!(held > 0 && stop["fee_paid"]["amount"].as_u64().unwrap() > 0);
    assert_eq!(m.balance(&m.renter), 100_000_000 - 3_600_000 + refund);
    assert_eq!(m.balance(&m.provider), 0);
    assert_eq!(m.balance(&treasury), stop["fee_paid"]["amount"].as_u64().unwrap());
    let human = n.run(&m.renter, &["status", &a]).success().stdout;
    assert!(human.contains("held for a payee"), "{human}");
    let e = n.run(&m.renter, &["close", &a]).failure();
    assert!(e.stderr.contains("delivered or withdrawn first"), "{}", e.stderr);
    let e = n.run(&m.provider, &["withdraw", &a]).failure();
    assert!(e.stderr.contains("cannot receive"), "{}", e.stderr);
    let e = n.run(&m.renter, &["deliver", &a]).failure();
    assert!(e.stderr.contains("can receive") && e.stderr.contains("nothing was sent"), "{}", e.stderr);
    // Thawed, anyone (here the renter, who wants to close) delivers the provider's share.
    set_frozen(&m, &m.provider, false);
    let delivered = n.json(&m.renter, &["deliver", &a]);
    assert_eq!(delivered["delivered"]["amount"].as_u64(), Some(held));
    assert_eq!(m.balance(&m.provider), held);
    // Nothing left: a re-run sends nothing and succeeds.
    let again = n.run(&m.provider, &["withdraw", &a]).success().stdout;
    assert!(again.contains("nothing is held") && again.contains("nothing was sent"), "{again}");
    assert_eq!(m.balance(&m.provider), held);
    n.run(&m.renter, &["close", &a]).success();

    // 2. The renter's account is frozen; the provider stops and is paid; the refund waits.
    let b = m.rent("0.1");
    n.run(&m.provider, &["activate", &b]).success();
    set_frozen(&m, &m.renter, true);
    let provider_before = m.balance(&m.provider);
    let stop = n.json(&m.provider, &["stop", &b]);
    assert_eq!(m.balance(&m.provider) - provider_before, stop["paid_now"]["provider"]["amount"].as_u64().unwrap());
    let held = stop["held"]["renter"]["amount"].as_u64().unwrap();
    assert_eq!(held, stop["refunded"]["amount"].as_u64().unwrap());
    set_frozen(&m, &m.renter, false);
    let renter_before = m.balance(&m.renter);
    n.run(&m.renter, &["withdraw", &b]).success();
    assert_eq!(m.balance(&m.renter) - renter_before, held);

    // 3. The treasury's account is frozen: the provider's claim still pays the provider.
    let c = m.rent("0.1");
    n.run(&m.provider, &["activate", &c]).success();
    n.wait_billed(&m.renter, &c);
    set_frozen(&m, &treasury, true);
    let treasury_before = m.balance(&treasury);
    let provider_before = m.balance(&m.provider);
    n.run(&m.provider, &["claim", &c]).success();
    assert!(m.balance(&m.provider) > provider_before);
    assert_eq!(m.balance(&treasury), treasury_before);
    let held_fee = n.json(&m.renter, &["status", &c])["held"]["fee"]["amount"].as_u64().unwrap();
    assert!(held_fee > 0);
    set_frozen(&m, &treasury, false);
    n.run(&treasury, &["withdraw", &c]).failure(); // the treasury wallet has no SOL for fees
    n.v.airdrop(&pubkey(&treasury).parse().unwrap(), 1_000_000_000);
    n.run(&treasury, &["withdraw", &c]).success();
    assert_eq!(m.balance(&treasury), treasury_before + held_fee);
}
