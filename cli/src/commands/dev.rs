//! Local-cluster helpers for trying the market without real stablecoins.
use std::time::Duration;

use gpu_escrow_sdk::{ix, mint_info, Keypair, Pubkey, SdkError, Signer};
use serde_json::json;

use super::{done, send, Token};
use crate::args::DevCmd;
use crate::context::{parse_pubkey, write_keypair, Context};
use crate::error::CliError;
use crate::output::Output;

const TOKEN: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const TOKEN_2022: Pubkey = Pubkey::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

/// Metadata that wallets and this CLI show as given: printable, within Metaplex's limits.
fn check_metadata(symbol: &str, name: &str) -> Result<(), CliError> {
    for (what, text, max) in [("--symbol", symbol, 10), ("--name", name, 32)] {
        if text.trim().is_empty() || text.chars().any(char::is_control) || text.chars().count() > max {
            return Err(CliError::Input(format!("{what} `{text}` must be 1 to {max} printable characters")));
        }
    }
    Ok(())
}

pub async fn run(ctx: &Context, cmd: DevCmd) -> Result<Output, CliError> {
    match cmd {
        DevCmd::Airdrop { sol, to } => {
            let to = match to {
                Some(t) => parse_pubkey(&t, "recipient")?,
                None => ctx.signer_pubkey()?,
            };
            if !(sol > 0.0 && sol.is_finite()) {
                return Err(CliError::Input(format!("--sol must be positive, got {sol}")));
            }
            let lamports = (sol * 1e9).round() as u64;
            let sig =
                ctx.client.rpc().request_airdrop(&to, lamports).await.map_err(|e| match ctx.client.rpc_err(e) {
                    unreachable @ SdkError::Unreachable { .. } => CliError::Sdk(unreachable),
                    e => CliError::Refused(format!(
                        "airdrop refused by {} (only local and test clusters have a faucet): {e}",
                        ctx.url
                    )),
                })?;
            for _ in 0..100 {
                if ctx
                    .client
                    .rpc()
                    .confirm_transaction_with_commitment(&sig, ctx.commitment)
                    .await
                    .map_err(super::rpc_err(ctx))?
                    .value
                {
                    return Ok(done("airdrop", &sig, json!({ "to": to.to_string(), "lamports": lamports }), ""));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(CliError::Refused(format!("airdrop {sig} did not confirm")))
        }
        DevCmd::CreateMint { decimals, token_2022, symbol, name } => {
            let signer = ctx.signer()?;
            let (me, mint) = (signer.pubkey(), Keypair::new());
            let (ixs, tp) = match &symbol {
                Some(symbol) => {
                    let name = name.as_deref().unwrap_or(symbol);
                    check_metadata(symbol, name)?;
                    let (_, len) = mint_info::mint_with_metadata_lens(&mint.pubkey(), &me, name, symbol, "");
                    let rent = super::rent_exempt(ctx, len).await?;
                    let ixs = mint_info::create_mint_with_metadata(
                        &me,
                        &mint.pubkey(),
                        &me,
                        decimals,
                        name,
                        symbol,
                        "",
                        rent,
                    )?;
                    (ixs, TOKEN_2022)
                }
                None => {
                    let tp = if token_2022 { TOKEN_2022 } else { TOKEN };
                    let rent = super::rent_exempt(ctx, ix::MINT_LEN).await?;
                    (ix::create_mint(&me, &mint.pubkey(), &me, decimals, &tp, rent), tp)
                }
            };
            let sig = ctx.client.send(&ixs, &signer, &[&mint]).await?;
            let label = symbol.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
            Ok(done(
                "create-mint",
                &sig,
                json!({ "mint": mint.pubkey().to_string(), "decimals": decimals, "token_program": tp.to_string(), "symbol": symbol }),
                &format!("mint: {}{label}", mint.pubkey()),
            ))
        }
        DevCmd::MintTo { mint, owner, amount } => {
            let signer = ctx.signer()?;
            let mint = parse_pubkey(&mint, "mint")?;
            let owner = parse_pubkey(&owner, "owner")?;
            let token = Token::load(ctx, &mint).await?;
            let units = token.parse(&amount)?;
            let ixs = ix::mint_to(&signer.pubkey(), &mint, &signer.pubkey(), &owner, &token.program, units);
            let sig = send(ctx, &ixs, &signer).await?;
            Ok(done(
                "mint-to",
                &sig,
                json!({ "mint": mint.to_string(), "owner": owner.to_string(), "amount": token.json(units) }),
                &format!("minted {} to {owner}", token.show(units)),
            ))
        }
        DevCmd::Balance { mint, owner } => {
            let mint = parse_pubkey(&mint, "mint")?;
            let owner = match owner {
                Some(o) => parse_pubkey(&o, "owner")?,
                None => ctx.signer_pubkey()?,
            };
            let token = Token::load(ctx, &mint).await?;
            let units = ctx.client.token_balance(&owner, &mint, &token.program).await?;
            Ok(Output::new(
                json!({ "owner": owner.to_string(), "mint": mint.to_string(), "balance": token.json(units) }),
                token.show(units),
            ))
        }
        DevCmd::Wait { timeout } => {
            let deadline = std::time::Instant::now() + Duration::from_secs(timeout);
            loop {
                match ctx.client.rpc().get_health().await {
                    Ok(()) => {
                        return Ok(Output::new(
                            json!({ "url": ctx.url, "healthy": true }),
                            format!("{} is up", ctx.url),
                        ))
                    }
                    Err(e) if std::time::Instant::now() >= deadline => {
                        let why = match ctx.client.rpc_err(e) {
                            SdkError::Unreachable { cause, .. } => cause,
                            other => other.to_string(),
                        };
                        return Err(CliError::Refused(format!("cannot reach {} after {timeout} s: {why}", ctx.url)));
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        }
        DevCmd::Keygen { path } => {
            if path.exists() {
                return Err(CliError::Refused(format!(
                    "{} already exists; refusing to overwrite a keypair",
                    path.display()
                )));
            }
            let k = Keypair::new();
            write_keypair(&path, &k)?;
            Ok(Output::new(
                json!({ "pubkey": k.pubkey().to_string(), "path": path.display().to_string() }),
                k.pubkey().to_string(),
            ))
        }
    }
}
