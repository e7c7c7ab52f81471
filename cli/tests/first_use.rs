//! What a newcomer meets first, through the built binary: paying in SOL (checked to the
//! lamport), token symbols, times, "paid now" and "total", hints that repeat `-u`/`-k`, and
//! errors that say what is wrong (unreachable clusters, bad addresses, a missing wallet).
mod common;

use std::io::{Read, Write};
use std::path::Path;

use assert_cmd::Command;
use common::{pubkey, Market, Net, Run};
use gpu_escrow_sdk::ix::NATIVE_MINT;
use gpu_escrow_sdk::{Pubkey, Signer};
use serde_json::{json, Value};
use solana_rpc_client_api::request::RpcRequest;

const SOL: &str = "So11111111111111111111111111111111111111112";
const TOKEN_PROGRAM: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");

fn key(path: &Path) -> Pubkey {
    pubkey(path).parse().unwrap()
}

fn lamports(n: &Net, address: &Pubkey) -> u64 {
    n.v.rpc().get_balance(address).unwrap()
}

/// Lamports in `owner`'s wrapped-SOL account (its rent deposit plus the wrapped SOL).
fn wsol_lamports(n: &Net, owner: &Path) -> u64 {
    lamports(n, &gpu_escrow_sdk::pda::ata(&key(owner), &NATIVE_MINT, &TOKEN_PROGRAM))
}

/// The fee a landed transaction paid, from its metadata.
fn fee(n: &Net, signature: &Value) -> u64 {
    let sig = signature.as_str().unwrap();
    let cfg = json!({ "encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0 });
    let tx: Value = n.v.rpc().send(RpcRequest::GetTransaction, json!([sig, cfg])).unwrap();
    tx["meta"]["fee"].as_u64().unwrap_or_else(|| panic!("no fee for {sig}: {tx}"))
}

/// "0.068250" with 6 decimals -> 68250.
fn base_units(text: &str, decimals: u32) -> u64 {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac = format!("{frac:0<width$}", width = decimals as usize);
    whole.parse::<u64>().unwrap() * 10u64.pow(decimals) + frac.parse::<u64>().unwrap()
}

/// Claims once the cluster's clock shows billed time (it can lag the wall clock under load).
fn claim(n: &Net, provider: &Path, args: &[&str]) -> Run {
    for _ in 0..20 {
        let run = n.run(provider, args);
        if run.ok || !run.stderr.contains("nothing to claim yet") {
            return run.success();
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("the cluster's clock did not move for 10 s");
}

fn amount(v: &Value) -> u64 {
    v["amount"].as_u64().unwrap_or_else(|| panic!("not an amount: {v}"))
}

/// Admin, provider and renter with SOL only; the admin accepts wrapped SOL and the provider
/// lists a GPU at 3.6 SOL per hour (1,000,000 lamports per second).
fn sol_market() -> Market {
    let net = Net::start();
    let admin = net.home.path().join("admin.json");
    std::fs::copy(&net.v.authority_path, &admin).unwrap();
    net.v.airdrop(&net.v.authority.pubkey(), 50_000_000_000);
    let arbiter = net.wallet("arbiter", 1);
    let treasury = net.wallet("treasury", 0);
    let provider = net.wallet("provider", 5);
    let renter = net.wallet("renter", 5);
    net.run(&admin, &["config", "init", "--arbiter", &pubkey(&arbiter), "--treasury", &pubkey(&treasury)]).success();
    let added = net.run(&admin, &["mint", "add", SOL]).success().stdout;
    assert!(added.contains("accepted SOL for payment"), "{added}");
    net.run(&provider, &["provider", "register"]).success();
    let listing = net.json(&provider, &["listing", "create", "--mint", SOL, "--price", "3.6", "--gpu", "RTX 4090"]);
    let listing = listing["listing"].as_str().unwrap().to_string();
    Market { net, admin, provider, renter, mint: SOL.into(), listing }
}

#[test]
fn a_renter_with_only_sol_rents_and_every_lamport_is_accounted_for() {
    let m = sol_market();
    let n = &m.net;
    let treasury = n.home.path().join("treasury.json");
    let listed = &n.json(&m.renter, &["market"])["listings"][0];
    assert_eq!((listed["symbol"].as_str(), listed["decimals"].as_u64()), (Some("SOL"), Some(9)));
    assert!(n.run(&m.renter, &["market"]).success().stdout.contains("3.60 SOL/h"));
    // A price limit is read in the listing's own token (9 decimals for SOL).
    assert_eq!(n.json(&m.renter, &["market", "--max-price", "3.6"])["listings"].as_array().unwrap().len(), 1);
    assert!(n.json(&m.renter, &["market", "--max-price", "3.59"])["listings"].as_array().unwrap().is_empty());

    // Not enough: the message counts the wallet's SOL and what else renting costs.
    let poor = n.wallet("poor", 0);
    n.v.airdrop(&key(&poor), 300_000_000);
    let e = n.run(&poor, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "0"]).failure();
    assert!(
        e.stderr.contains(&format!(
            "not enough SOL: wallet {} has 0.30 SOL; this rental needs 0.36 SOL plus",
            pubkey(&poor)
        )) && e.stderr.contains("for account deposits and network fees (missing 0.0"),
        "{}",
        e.stderr
    );
    assert_eq!(lamports(n, &key(&poor)), 300_000_000, "nothing was sent");

    let renter_start = lamports(n, &key(&m.renter));
    let provider_start = lamports(n, &key(&m.provider));
    let provider_wsol_start = wsol_lamports(n, &m.provider);
    let treasury_start = wsol_lamports(n, &treasury);
    assert!(provider_wsol_start > 0 && treasury_start > 0, "listing and mint add opened their fee/payout accounts");

    // 0.1 h at 3.6 SOL/h: a 0.36 SOL deposit, wrapped from SOL in the same transaction.
    let rent = n.json(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "0"]);
    assert_eq!((amount(&rent["deposit"]), amount(&rent["wrapped_from_sol"])), (360_000_000, 360_000_000));
    let rental = rent["rental"].as_str().unwrap().to_string();
    let activate = n.json(&m.provider, &["activate", &rental]);
    std::thread::sleep(std::time::Duration::from_secs(2));

    let claim = claim(n, &m.provider, &["--output", "json", "claim", &rental]).json();
    let claimed = &claim["claims"][0];
    let claimed_now = amount(&claimed["paid_now"]["provider"]);
    assert!(claimed_now > 0 && claimed["unwrapped_to_sol"] == true, "{claim}");
    assert_eq!(amount(&claimed["provider_paid"]), claimed_now, "the actual amount, read back after the claim");
    let claim_fees: u64 = claim["signatures"].as_array().unwrap().iter().map(|s| fee(n, s)).sum();

    let top_up = n.json(&m.renter, &["top-up", &rental, "0.01"]);
    assert_eq!(amount(&top_up["wrapped_from_sol"]), 10_000_000);
    let stop = n.json(&m.renter, &["stop", &rental]);
    assert_eq!(stop["unwrapped_to_sol"], true);
    let (paid, fees, refunded) = (amount(&stop["provider_paid"]), amount(&stop["fee_paid"]), amount(&stop["refunded"]));
    assert_eq!(paid + fees + refunded, 370_000_000, "conservation");
    let close = n.json(&m.renter, &["close", &rental]);

    // The renter paid what was earned plus transaction fees; every account deposit came back.
    let renter_fees = [&rent, &top_up, &stop, &close].iter().map(|o| fee(n, &o["signature"])).sum::<u64>();
    assert_eq!(lamports(n, &key(&m.renter)), renter_start - renter_fees - paid - fees);
    assert_eq!(wsol_lamports(n, &m.renter), 0, "the renter's wrapped-SOL account was closed");
    // The claim arrived as SOL; the stop's share waits in the provider's wrapped-SOL account,
    // which the claim reopened so the renter's stop could pay it directly.
    let stop_share = amount(&stop["paid_now"]["provider"]);
    assert_eq!(claimed_now + stop_share, paid);
    assert_eq!(
        lamports(n, &key(&m.provider)),
        provider_start - fee(n, &activate["signature"]) - claim_fees + claimed_now
    );
    assert_eq!(wsol_lamports(n, &m.provider), provider_wsol_start + stop_share);
    assert_eq!(wsol_lamports(n, &treasury), treasury_start + fees);

    // --keep-wsol keeps a refund wrapped; closing the rental later unwraps it.
    let start = lamports(n, &key(&m.renter));
    let again = n.json(&m.renter, &["rent", &m.listing, "--hours", "0.1", "--yes", "--wait", "0"]);
    let rental = again["rental"].as_str().unwrap().to_string();
    let cancel = n.json(&m.renter, &["--keep-wsol", "cancel", &rental]);
    assert_eq!((amount(&cancel["paid_now"]["refund"]), &cancel["unwrapped_to_sol"]), (360_000_000, &json!(false)));
    assert_eq!(amount(&n.json(&m.renter, &["dev", "balance", SOL])["balance"]), 360_000_000);
    let close = n.run(&m.renter, &["--output", "json", "close", &rental]).success();
    let close = close.json();
    assert_eq!(close["unwrapped_to_sol"], true);
    let spent = [&again, &cancel, &close].iter().map(|o| fee(n, &o["signature"])).sum::<u64>();
    assert_eq!(lamports(n, &key(&m.renter)), start - spent, "a cancelled rental costs only its fees");
    assert_eq!(wsol_lamports(n, &m.renter), 0);
}

#[test]
fn symbols_times_hints_and_paid_now_versus_total() {
    let m = Market::new(&[]);
    let n = &m.net;
    let url = &n.v.rpc_url;

    let created = n.json(&m.admin, &["dev", "create-mint", "--symbol", "GPUC", "--name", "GPU Credits"]);
    let gpuc = created["mint"].as_str().unwrap().to_string();
    assert!(n.run(&m.admin, &["mint", "add", &gpuc]).success().stdout.contains("accepted GPUC for payment"));
    n.run(&m.admin, &["dev", "mint-to", &gpuc, &pubkey(&m.renter), "100"]).success();

    // Hints repeat the -k and -u the user gave.
    let p2 = n.wallet("p2", 5);
    let k = p2.display().to_string();
    let e = n.run(&p2, &["listing", "create", "--mint", &gpuc, "--price", "3.6", "--gpu", "A100"]).failure();
    assert!(e.stderr.contains(&format!("`gpu-escrow -k {k} -u {url} provider register`")), "{}", e.stderr);
    let registered = n.run(&p2, &["provider", "register"]).success().stdout;
    assert!(
        registered.contains(&format!("next: `gpu-escrow -k {k} -u {url} listing create --mint <MINT>")),
        "{registered}"
    );
    let l2 = n.json(&p2, &["listing", "create", "--mint", &gpuc, "--price", "3.6", "--gpu", "A100", "--capacity", "2"]);
    let l2 = l2["listing"].as_str().unwrap().to_string();

    // The market names tokens by their metadata and leaves unstated specs out.
    let market = n.json(&m.renter, &["market"]);
    let find = |l: &str| market["listings"].as_array().unwrap().iter().find(|x| x["listing"] == l).unwrap().clone();
    let (a100, rtx) = (find(&l2), find(&m.listing));
    assert_eq!((a100["symbol"].as_str(), a100["decimals"].as_u64()), (Some("GPUC"), Some(6)));
    for spec in ["vram_gb", "cpu_cores", "ram_gb", "disk_gb"] {
        assert_eq!(a100[spec], Value::Null, "{spec} was not given");
    }
    assert_eq!((rtx["vram_gb"].as_u64(), &rtx["symbol"]), (Some(24), &Value::Null));
    let table = n.run(&m.renter, &["market"]).success().stdout;
    let row = table.lines().find(|l| l.contains("A100")).unwrap();
    assert!(row.contains("3.60 GPUC/h") && row.contains(" -  "), "{table}");
    assert!(table.contains(&format!("36.00 tok:{}/h", &m.mint[..4])), "{table}");

    let rental = n.json(&m.renter, &["rent", &l2, "--hours", "0.1", "--yes", "--wait", "0"])["rental"]
        .as_str()
        .unwrap()
        .to_string();
    n.run(&p2, &["activate", &rental]).success();
    std::thread::sleep(std::time::Duration::from_secs(2));

    // Claim reports what was paid, read back after sending, not an estimate.
    let claim = claim(n, &p2, &["claim", &rental]).stdout;
    assert!(
        claim.contains("paid now:  provider ") && claim.contains("total:     provider ") && !claim.contains('~'),
        "{claim}"
    );
    let paid = amount(&n.json(&m.renter, &["status", &rental])["provider_paid"]);
    let total = claim.lines().find_map(|l| l.trim().strip_prefix("total:     provider ")).unwrap();
    assert_eq!(base_units(total.split(' ').next().unwrap(), 6), paid, "{claim}");
    assert_eq!(m.net.json(&p2, &["dev", "balance", &gpuc])["balance"]["amount"], paid);

    let top_up = n.run(&m.renter, &["top-up", &rental, "0.5"]).success().stdout;
    assert!(
        top_up.contains("paid now:  0.50 GPUC into the escrow")
            && top_up.contains("total:     0.86 GPUC deposited; paid through"),
        "{top_up}"
    );
    // The dispute locks what was earned since the claim: let at least one second be billed.
    n.wait_billed(&m.renter, &rental);
    let dispute = n.run(&m.renter, &["dispute", "open", &rental, "--reason", "degraded"]).success().stdout;
    assert!(
        dispute.contains("paid now:  provider 0.00 GPUC, fee 0.00 GPUC, refund ")
            && dispute.contains("total:     provider ")
            && dispute.contains("locked:    "),
        "{dispute}"
    );

    let declined = m.net.json(&m.renter, &["rent", &l2, "--hours", "0.1", "--yes", "--wait", "0"]);
    let declined = declined["rental"].as_str().unwrap().to_string();
    let decline = n.run(&p2, &["decline", &declined]).success().stdout;
    assert!(decline.contains("paid now:  provider 0.00 GPUC, fee 0.00 GPUC, refund 0.36 GPUC"), "{decline}");
    assert!(
        decline.contains("total:     provider 0.00 GPUC, fee 0.00 GPUC, refunded 0.36 GPUC (of 0.36 GPUC deposited)")
    );

    // Receipts: local time and how long ago for people, ISO 8601 beside Unix seconds for machines.
    let receipt = n.run(&m.renter, &["receipt", &rental]).success().stdout;
    let opened = receipt.lines().find(|l| l.starts_with("opened:")).unwrap();
    assert!(opened.contains(" ago)") || opened.contains("(now)"), "{receipt}");
    assert!(receipt.contains("token:       GPUC") && receipt.contains("total:       deposited 0.86 GPUC"), "{receipt}");
    let j = n.json(&m.renter, &["receipt", &rental]);
    let iso = j["opened_at_iso"].as_str().unwrap();
    assert!(iso.ends_with('Z') && iso.len() == 20, "{iso}");
    assert_eq!(j["symbol"], "GPUC");
    let csv = n.home.path().join("history.csv");
    n.run(&m.renter, &["history", "--csv", csv.to_str().unwrap()]).success();
    let text = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let row = text.lines().find(|l| l.starts_with(&rental)).unwrap();
    let cells: Vec<&str> = row.split(',').collect();
    let col = |name: &str| cells[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("opened_at"), j["opened_at"].to_string());
    assert_eq!(col("opened_at_iso"), iso);
    assert_eq!(col("opened_at_local").len(), "2026-01-05 14:03:00 +00:00".len(), "{row}");
    assert_eq!(col("token"), "GPUC");
}

/// A one-shot HTTP server answering every request with `status` (e.g. a proxy's 502).
fn http_server(status: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    url
}

fn offline(args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("gpu-escrow").unwrap().env("HOME", home.path()).args(args).output().unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

#[test]
fn an_unreachable_cluster_is_named_and_never_called_a_missing_program() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = format!("http://127.0.0.1:{port}");
    let bad_gateway = http_server("502 Bad Gateway");
    for (url, cause) in [
        (closed.as_str(), "Connection refused"),
        ("http://no-such-host.invalid:8899", ""),
        (bad_gateway.as_str(), "the server answered HTTP 502 Bad Gateway"),
    ] {
        let e = offline(&["-u", url, "market"]).failure();
        assert!(e.stderr.contains(&format!("error: cannot reach {url}: {cause}")), "{url}: {}", e.stderr);
        assert!(!e.stderr.contains("not deployed") && !e.stderr.contains("AccountNotFound"), "{}", e.stderr);
    }
    let e = offline(&["-u", &closed, "--output", "json", "market"]).failure();
    let v: Value = serde_json::from_str(e.stderr.trim()).unwrap();
    assert_eq!(v["error"]["kind"], "network", "{v}");
}

#[test]
fn bad_addresses_and_a_missing_wallet_say_what_to_do() {
    // 43 characters that decode to 31 bytes.
    let short = "1111111111111111111111111111111111111111111";
    let short = &format!("2{}", &short[1..]);
    let e = offline(&["-u", "http://127.0.0.1:1", "status", short]).failure();
    assert!(
        e.stderr.contains(&format!(
            "rental `{short}` is not a valid address: it decodes to 31 bytes and an address has 32"
        )),
        "{}",
        e.stderr
    );
    let e = offline(&["-u", "http://127.0.0.1:1", "status", "0OIl"]).failure();
    assert!(e.stderr.contains("`0` is not a base58 character"), "{}", e.stderr);

    let e = offline(&["address"]).failure();
    assert!(
        e.stderr.contains(".config/solana/id.json")
            && e.stderr.contains("pass your wallet with `-k FILE`, or create one with `gpu-escrow dev keygen <FILE>`"),
        "{}",
        e.stderr
    );
}
