//! Funds a rental's vault holds for a payee whose token account could not receive: anyone
//! delivers them to the payees' associated token accounts once those can receive
//! (`deliver`), and a payee takes its own share into an account of its choice (`withdraw`).
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::ix;
use serde_json::json;

use super::settlement::{report, Payout};
use super::{done, rental_in, send, Token};
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::Output;

/// Anyone delivers what is held to the payees' associated token accounts. Those that still
/// cannot receive keep their share held; if none can, nothing is sent.
pub async fn deliver(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) = rental_in(ctx, rental, &[]).await?;
    let held = r.provider_owed + r.fee_owed + r.renter_owed;
    if held == 0 {
        // Not an error: a re-run after a delivery whose confirmation was lost lands here.
        return Ok(Output::new(
            json!({ "action": "deliver", "rental": k.rental.to_string(), "delivered": 0, "already_done": true }),
            format!("deliver: nothing is held in rental {}; nothing was sent", k.rental),
        ));
    }
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let treasury = ctx.client.config().await?.treasury;
    let token = Token::load(ctx, &k.mint).await?;
    let sig = send(ctx, &[ix::deliver_owed(&me, &k, &treasury)], &signer).await.map_err(|e| match e {
        CliError::Sdk(gpu_escrow_sdk::SdkError::Program { name, .. }) if name == "NothingDelivered" => {
            CliError::Refused(format!(
                "no payee whose funds are held in rental {} can receive {} now (its associated token account \
                 is frozen by the issuer, closed, or requires memos); nothing was sent. A payee can still \
                 withdraw its share into another account of its own",
                k.rental, token.label
            ))
        }
        other => other,
    })?;
    let after = ctx.client.rental(&k.rental).await?;
    let (mut j, h) = report(ctx, &k, &r, &after, &token);
    let delivered = held - (after.provider_owed + after.fee_owed + after.renter_owed);
    j["delivered"] = token.json(delivered);
    Ok(done("deliver", &sig, j, &format!("delivered: {}\n{h}", token.show(delivered))))
}

pub async fn withdraw(ctx: &Context, rental: &str, to: Option<&str>) -> Result<Output, CliError> {
    let (k, r) = rental_in(ctx, rental, &[]).await?;
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let treasury = ctx.client.config().await?.treasury;
    let owed = r.owed_to(&me, &treasury);
    if owed == 0 {
        // Not an error: a re-run after a withdrawal whose confirmation was lost lands here.
        return Ok(Output::new(
            json!({ "action": "withdraw", "rental": k.rental.to_string(), "withdrawn": 0, "already_done": true }),
            format!("withdraw: nothing is held for {me} in rental {}; nothing was sent", k.rental),
        ));
    }
    let token = Token::load(ctx, &k.mint).await?;
    let (destination, payout) = match to {
        Some(t) => {
            let to = parse_pubkey(t, "--to token account")?;
            (to, Payout::plain(vec![ix::withdraw_owed(&me, &k, &to)]))
        }
        None => {
            let to = k.token_account_of(&me);
            let open = matches!(r.state, RentalState::Funded | RentalState::Active | RentalState::Disputed);
            (to, Payout::new(ctx, &me, &k, ix::withdraw_owed(&me, &k, &to), open).await?)
        }
    };
    let sig = send(ctx, &payout.ixs, &signer).await?;
    Ok(done(
        "withdraw",
        &sig,
        json!({
            "rental": k.rental.to_string(), "amount": token.json(owed), "to": destination.to_string(),
            "unwrapped_to_sol": payout.unwraps,
        }),
        &format!("paid now:  {} to you, into {destination}{}", token.show(owed), payout.note),
    ))
}
