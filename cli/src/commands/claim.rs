//! Provider claims: one rental, or every active rental packed into few transactions.
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::client::Party;
use gpu_escrow_sdk::{batch, ix, quote};
use serde_json::json;

use super::settlement::Payout;
use super::{rental_in, Token};
use crate::args::ClaimArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::output::Output;

pub async fn run(ctx: &Context, a: ClaimArgs) -> Result<Output, CliError> {
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let treasury = ctx.client.config().await?.treasury;
    let now = ctx.client.cluster_time().await?;
    let targets = match (&a.rental, a.all) {
        (Some(r), false) => vec![rental_in(ctx, r, &[RentalState::Active]).await?],
        (None, true) => {
            let mut v = Vec::new();
            for (key, r) in ctx.client.rentals_of(Party::Provider, &me).await? {
                if r.state == RentalState::Active {
                    let tp = ctx.client.token_program_of(&r.mint).await?;
                    v.push((ix::RentalKeys::from_rental(key, &r, tp), r));
                }
            }
            v
        }
        _ => return Err(CliError::Input("give one RENTAL or --all".into())),
    };
    let mut groups = Vec::new();
    let mut claimed = Vec::new();
    for (k, r) in &targets {
        let reading = quote::read_rental(r, now).map_err(|e| CliError::Refused(format!("{e:?}")))?;
        if reading.claimable_provider == 0 && reading.claimable_fee == 0 {
            continue;
        }
        let mut g = vec![ix::create_ata_idempotent(&me, &treasury, &k.mint, &k.token_program)];
        // The claimed rental stays Active, so a SOL payout's account is reopened after unwrapping.
        g.extend(Payout::new(ctx, &me, k, ix::claim(k, &treasury), true).await?.ixs);
        groups.push(g);
        claimed.push((k, r));
    }
    if groups.is_empty() {
        return Err(CliError::Refused("nothing to claim yet".into()));
    }
    let mut sigs = Vec::new();
    for tx in batch::pack(groups, &me) {
        sigs.push(ctx.client.send(&tx, &signer, &[]).await?.to_string());
    }
    // What was paid is read back from each rental, not estimated before sending.
    let mut rows = Vec::new();
    let mut human = Vec::new();
    for (k, before) in claimed {
        let token = Token::load(ctx, &k.mint).await?;
        let after = ctx.client.rental(&k.rental).await?;
        let now = (after.provider_paid - before.provider_paid, after.fee_paid - before.fee_paid);
        rows.push(json!({
            "rental": k.rental.to_string(),
            "paid_now": { "provider": token.json(now.0), "fee": token.json(now.1) },
            "provider_paid": token.json(after.provider_paid),
            "fee_paid": token.json(after.fee_paid),
            "held": { "provider": token.json(after.provider_owed), "fee": token.json(after.fee_owed) },
            "unwrapped_to_sol": token.is_sol() && !ctx.keep_wsol,
        }));
        let mut text = format!(
            "{}\n  paid now:  provider {}, fee {}\n  total:     provider {}, fee {} (of {} deposited)",
            k.rental,
            token.show(now.0),
            token.show(now.1),
            token.show(after.provider_paid),
            token.show(after.fee_paid),
            token.show(after.deposited)
        );
        if after.provider_owed > 0 {
            text.push_str(&format!(
                "\n  held:      {} for you: your token account could not receive; take it with `{}`",
                token.show(after.provider_owed),
                ctx.hint(&format!("withdraw {}", k.rental))
            ));
        }
        if token.is_sol() && !ctx.keep_wsol {
            text.push_str("\n  as SOL:    paid to your wallet as SOL (--keep-wsol keeps it wrapped)");
        }
        human.push(text);
    }
    let j = json!({ "action": "claim", "claims": rows, "signatures": sigs });
    Ok(Output::new(
        j,
        format!(
            "claim: ok, {} rental(s) in {} transaction(s)\n{}\nsignatures: {}",
            human.len(),
            sigs.len(),
            human.join("\n"),
            sigs.join(", ")
        ),
    ))
}
