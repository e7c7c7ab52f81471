//! Provider profile: register and show reputation.
use gpu_escrow_sdk::ix;
use serde_json::json;

use super::{done, require_sol, send};
use crate::args::ProviderCmd;
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::Output;

pub async fn run(ctx: &Context, cmd: ProviderCmd) -> Result<Output, CliError> {
    ctx.client.ensure_program_deployed().await?;
    match cmd {
        ProviderCmd::Register => {
            let signer = ctx.signer()?;
            let me = super::me(&signer);
            if ctx.client.provider(&me).await?.is_some() {
                return Err(CliError::Refused(format!("wallet {me} is already registered as a provider")));
            }
            require_sol(ctx, &me, 2_000_000).await?;
            let sig = send(ctx, &[ix::register_provider(&me)], &signer).await?;
            Ok(done(
                "provider register",
                &sig,
                json!({ "provider": me.to_string() }),
                &format!("next: `{}`", ctx.hint("listing create --mint <MINT> --price <PER_HOUR> --gpu <MODEL>")),
            ))
        }
        ProviderCmd::Show { authority } => {
            let who = match authority {
                Some(a) => parse_pubkey(&a, "provider")?,
                None => ctx.signer_pubkey()?,
            };
            let p = ctx.client.provider(&who).await?.ok_or_else(|| {
                CliError::Refused(format!("wallet {who} is not a registered provider on {}", ctx.url))
            })?;
            let rating = p.rating_x100().map(|r| r as f64 / 100.0);
            let j = json!({
                "provider": who.to_string(),
                "listings_created": p.listings_created,
                "rentals_completed": p.rentals_completed,
                "seconds_billed": p.seconds_billed,
                "no_shows": p.no_shows,
                "disputes_lost": p.disputes_lost,
                "rating": rating,
                "rating_count": p.rating_count,
                "heartbeats": p.heartbeats,
            });
            let human = format!(
                "provider:          {who}\nlistings created:  {}\nrentals completed: {} (counted: 10 min billed and the mint's minimum paid)\ntime billed:       {}\nno-shows:          {}\ndisputes lost:     {}\nrating:            {}\nheartbeats:        {}",
                p.listings_created, p.rentals_completed, crate::output::duration(p.seconds_billed), p.no_shows,
                p.disputes_lost,
                rating.map(|r| format!("{r:.2} / 5 ({} ratings)", p.rating_count)).unwrap_or_else(|| "no ratings yet".into()),
                p.heartbeats
            );
            Ok(Output::new(j, human))
        }
    }
}
