//! Admin commands: config, accepted mints, pause, admin transfer.
use gpu_escrow_sdk::ix;
use serde_json::json;

use super::{done, send, Token};
use crate::args::{AdminCmd, ConfigCmd, MintCmd};
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::Output;

pub async fn config(ctx: &Context, cmd: ConfigCmd) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    match cmd {
        ConfigCmd::Init { arbiter, treasury, fee_bps, activation_timeout, dispute_timeout } => {
            let signer = ctx.signer()?;
            let args = ix::InitializeConfigArgs {
                arbiter: parse_pubkey(&arbiter, "arbiter")?,
                treasury: parse_pubkey(&treasury, "treasury")?,
                fee_bps,
                activation_timeout_secs: activation_timeout,
                dispute_timeout_secs: dispute_timeout,
            };
            let sig = send(ctx, &[ix::initialize_config(&super::me(&signer), args)], &signer).await?;
            Ok(done("config init", &sig, json!({ "fee_bps": fee_bps }), ""))
        }
        ConfigCmd::Show => {
            let c = ctx.client.config().await?;
            let j = json!({
                "admin": c.admin.to_string(),
                "pending_admin": (c.pending_admin != Default::default()).then(|| c.pending_admin.to_string()),
                "arbiter": c.arbiter.to_string(),
                "treasury": c.treasury.to_string(),
                "fee_bps": c.fee_bps,
                "activation_timeout_secs": c.activation_timeout_secs,
                "dispute_timeout_secs": c.dispute_timeout_secs,
                "paused": c.paused,
                "cluster": ctx.url,
            });
            let human = format!(
                "cluster:            {}\nadmin:              {}\narbiter:            {}\ntreasury:           {}\nfee:                {} bps ({:.2}%)\nactivation timeout: {} s\ndispute timeout:    {} s\npaused:             {}",
                ctx.url, c.admin, c.arbiter, c.treasury, c.fee_bps, c.fee_bps as f64 / 100.0,
                c.activation_timeout_secs, c.dispute_timeout_secs, c.paused
            );
            Ok(Output::new(j, human))
        }
        ConfigCmd::Update { arbiter, treasury, fee_bps, activation_timeout, dispute_timeout } => {
            let signer = ctx.signer()?;
            let args = ix::UpdateConfigArgs {
                arbiter: arbiter.map(|a| parse_pubkey(&a, "arbiter")).transpose()?,
                treasury: treasury.map(|t| parse_pubkey(&t, "treasury")).transpose()?,
                fee_bps,
                activation_timeout_secs: activation_timeout,
                dispute_timeout_secs: dispute_timeout,
            };
            let sig = send(ctx, &[ix::update_config(&super::me(&signer), args)], &signer).await?;
            Ok(done("config update", &sig, json!({}), ""))
        }
    }
}

pub async fn mint(ctx: &Context, cmd: MintCmd) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    let signer = ctx.signer()?;
    match cmd {
        MintCmd::Add { mint, min_rated } => {
            let mint = parse_pubkey(&mint, "mint")?;
            let token = Token::load(ctx, &mint).await?;
            let min_rated = token.parse(&min_rated)?;
            let me = super::me(&signer);
            // The treasury's token account for this mint, so fees are paid directly (a fee
            // that cannot be delivered is held in each rental's vault until withdrawn).
            let treasury = ctx.client.config().await?.treasury;
            let ixs = [
                ix::create_ata_idempotent(&me, &treasury, &mint, &token.program),
                ix::add_mint(&me, &mint, &token.program, min_rated),
            ];
            let sig = send(ctx, &ixs, &signer).await?;
            Ok(done(
                "mint add",
                &sig,
                json!({ "mint": mint.to_string(), "token_program": token.program.to_string(), "decimals": token.decimals, "min_rated": token.json(min_rated) }),
                &format!(
                    "accepted {} for payment (ratings need at least {} billed); fee account of the treasury: {}",
                    token.label,
                    token.show(min_rated),
                    gpu_escrow_sdk::pda::ata(&treasury, &mint, &token.program)
                ),
            ))
        }
        MintCmd::Remove { mint } => {
            let mint = parse_pubkey(&mint, "mint")?;
            let sig = send(ctx, &[ix::remove_mint(&super::me(&signer), &mint)], &signer).await?;
            Ok(done("mint remove", &sig, json!({ "mint": mint.to_string() }), ""))
        }
    }
}

pub async fn pause(ctx: &Context, paused: bool) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    let signer = ctx.signer()?;
    let action = if paused { "pause" } else { "unpause" };
    let sig = send(ctx, &[ix::set_paused(&super::me(&signer), paused)], &signer).await?;
    Ok(done(action, &sig, json!({ "paused": paused }), ""))
}

pub async fn admin(ctx: &Context, cmd: AdminCmd) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    let signer = ctx.signer()?;
    match cmd {
        AdminCmd::Propose { new_admin } => {
            let new_admin = parse_pubkey(&new_admin, "new admin")?;
            let sig = send(ctx, &[ix::propose_admin(&super::me(&signer), &new_admin)], &signer).await?;
            Ok(done(
                "admin propose",
                &sig,
                json!({ "pending_admin": new_admin.to_string() }),
                &format!(
                    "the proposed wallet must now run `{}` with its own keypair",
                    ctx.hint_for_others("admin accept")
                ),
            ))
        }
        AdminCmd::Accept => {
            let sig = send(ctx, &[ix::accept_admin(&super::me(&signer))], &signer).await?;
            Ok(done("admin accept", &sig, json!({ "admin": super::me(&signer).to_string() }), ""))
        }
    }
}
