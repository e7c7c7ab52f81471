//! Provider listings: create, update, pause, resume, close.
use gpu_escrow_sdk::accounts::{fixed_bytes, fixed_str, Listing, ListingParams, GPU_MODEL_LEN, REGION_LEN};
use gpu_escrow_sdk::{ix, pda, Pubkey};
use serde_json::json;

use super::{done, send, Token};
use crate::args::{ListingCmd, ListingSpec};
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::Output;

fn params(spec: &ListingSpec, token: &Token, base: Option<&Listing>) -> Result<ListingParams, CliError> {
    let need = |what: &str| CliError::Input(format!("--{what} is required when creating a listing"));
    let price = match (&spec.price, base) {
        (Some(p), _) => token.parse(p)?,
        (None, Some(b)) => b.price_per_hour,
        (None, None) => return Err(need("price")),
    };
    let gpu = match (&spec.gpu, base) {
        (Some(g), _) => fixed_bytes::<GPU_MODEL_LEN>(g)
            .ok_or_else(|| CliError::Input(format!("--gpu is longer than {GPU_MODEL_LEN} bytes")))?,
        (None, Some(b)) => b.gpu_model,
        (None, None) => return Err(need("gpu")),
    };
    let region = match (&spec.region, base) {
        (Some(r), _) => fixed_bytes::<REGION_LEN>(r)
            .ok_or_else(|| CliError::Input(format!("--region is longer than {REGION_LEN} bytes")))?,
        (None, Some(b)) => b.region,
        (None, None) => fixed_bytes::<REGION_LEN>("any").unwrap(),
    };
    let min_secs = spec.min_minutes.map(|m| m.saturating_mul(60)).or(base.map(|b| b.min_rental_secs)).unwrap_or(60);
    let max_secs =
        spec.max_hours.map(|h| h.saturating_mul(3_600)).or(base.map(|b| b.max_rental_secs)).unwrap_or(30 * 24 * 3_600);
    Ok(ListingParams {
        price_per_hour: price,
        gpu_model: gpu,
        region,
        gpu_count: spec.gpu_count.or(base.map(|b| b.gpu_count)).unwrap_or(1),
        vram_gb: spec.vram.or(base.map(|b| b.vram_gb)).unwrap_or(0),
        cpu_cores: spec.cpu.or(base.map(|b| b.cpu_cores)).unwrap_or(0),
        ram_gb: spec.ram.or(base.map(|b| b.ram_gb)).unwrap_or(0),
        disk_gb: spec.disk.or(base.map(|b| b.disk_gb)).unwrap_or(0),
        min_rental_secs: min_secs,
        max_rental_secs: max_secs,
        heartbeat_interval_secs: spec.heartbeat_interval.or(base.map(|b| b.heartbeat_interval_secs)).unwrap_or(0),
        capacity: spec.capacity.or(base.map(|b| b.capacity)).unwrap_or(1),
    })
}

/// A spec the provider gave, or `None` for the 0 that stands for "not stated".
pub fn stated(value: u64) -> Option<u64> {
    (value != 0).then_some(value)
}

pub fn listing_json(key: &Pubkey, l: &Listing, token: &Token) -> serde_json::Value {
    json!({
        "listing": key.to_string(),
        "provider": l.provider.to_string(),
        "listing_id": l.listing_id,
        "mint": l.mint.to_string(),
        "symbol": token.symbol,
        "decimals": token.decimals,
        "price_per_hour": token.json(l.price_per_hour),
        "gpu_model": fixed_str(&l.gpu_model),
        "gpu_count": l.gpu_count,
        // 0 means the provider did not say.
        "vram_gb": stated(l.vram_gb.into()),
        "cpu_cores": stated(l.cpu_cores.into()),
        "ram_gb": stated(l.ram_gb.into()),
        "disk_gb": stated(l.disk_gb.into()),
        "region": fixed_str(&l.region),
        "min_rental_secs": l.min_rental_secs,
        "max_rental_secs": l.max_rental_secs,
        "heartbeat_interval_secs": l.heartbeat_interval_secs,
        "capacity": l.capacity,
        "active_rentals": l.active_rentals,
        "paused": l.paused,
    })
}

async fn own_listing(ctx: &Context, text: &str) -> Result<(Pubkey, Listing), CliError> {
    let key = parse_pubkey(text, "listing")?;
    let l = match ctx.client.listing(&key).await {
        Err(gpu_escrow_sdk::SdkError::AccountNotFound { .. }) => {
            return Err(CliError::Refused(format!("listing {key} does not exist on {}", ctx.url)))
        }
        other => other?,
    };
    let me = ctx.signer_pubkey()?;
    if l.provider != me {
        return Err(CliError::Refused(format!("listing {key} belongs to {}, not to your wallet {me}", l.provider)));
    }
    Ok((key, l))
}

pub async fn run(ctx: &Context, cmd: ListingCmd) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    match cmd {
        ListingCmd::Create { mint, spec } => {
            let mint = parse_pubkey(&mint, "mint")?;
            let token = Token::load(ctx, &mint).await?;
            let p = ctx.client.provider(&me).await?.ok_or_else(|| {
                CliError::Refused(format!("wallet {me} is not a provider yet; run `{}`", ctx.hint("provider register")))
            })?;
            if ctx.client.account_data(&pda::accepted_mint(&mint)).await?.is_none() {
                return Err(CliError::Refused(format!("token {mint} is not accepted for payment on {}", ctx.url)));
            }
            if ctx.client.config().await?.paused {
                return Err(CliError::Refused("the market is paused: new listings are not accepted right now".into()));
            }
            let params = params(&spec, &token, None)?;
            let id = p.listings_created;
            // The provider's own token account, so claims and settlements can pay it directly.
            let ixs = [
                ix::create_ata_idempotent(&me, &me, &mint, &token.program),
                ix::create_listing(&me, id, &mint, params.clone()),
            ];
            let sig = send(ctx, &ixs, &signer).await?;
            let key = pda::listing(&me, id);
            let extra = format!("listing: {key}\nprice:   {}/h", token.show(params.price_per_hour));
            Ok(done("listing create", &sig, json!({ "listing": key.to_string(), "listing_id": id }), &extra))
        }
        ListingCmd::Update { listing, spec } => {
            let (key, l) = own_listing(ctx, &listing).await?;
            let token = Token::load(ctx, &l.mint).await?;
            let params = params(&spec, &token, Some(&l))?;
            let sig = send(ctx, &[ix::update_listing(&me, &key, params)], &signer).await?;
            Ok(done(
                "listing update",
                &sig,
                json!({ "listing": key.to_string() }),
                "running rentals keep their original terms",
            ))
        }
        ListingCmd::Pause { listing } => {
            let (key, _) = own_listing(ctx, &listing).await?;
            let sig = send(ctx, &[ix::set_listing_paused(&me, &key, true)], &signer).await?;
            Ok(done("listing pause", &sig, json!({ "listing": key.to_string(), "paused": true }), ""))
        }
        ListingCmd::Resume { listing } => {
            let (key, _) = own_listing(ctx, &listing).await?;
            let sig = send(ctx, &[ix::set_listing_paused(&me, &key, false)], &signer).await?;
            Ok(done("listing resume", &sig, json!({ "listing": key.to_string(), "paused": false }), ""))
        }
        ListingCmd::Close { listing } => {
            let (key, l) = own_listing(ctx, &listing).await?;
            if l.active_rentals > 0 {
                return Err(CliError::Refused(format!("listing {key} still has {} open rental(s)", l.active_rentals)));
            }
            let sig = send(ctx, &[ix::close_listing(&me, &key)], &signer).await?;
            Ok(done("listing close", &sig, json!({ "listing": key.to_string() }), ""))
        }
    }
}
