//! Provider claims: one rental, or every active rental packed into few transactions.
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::client::Party;
use gpu_escrow_sdk::{batch, ix, quote};
use serde_json::json;

use super::{rental_in, Token};
use crate::args::ClaimArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::output::Output;

/// Measured: a claim costs about 30k CU with two token transfers (see README benchmarks).
const CLAIM_CU: u64 = 60_000;

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
    let mut rows = Vec::new();
    let mut human = Vec::new();
    for (k, r) in &targets {
        let reading = quote::read_rental(r, now).map_err(|e| CliError::Refused(format!("{e:?}")))?;
        if reading.claimable_provider == 0 && reading.claimable_fee == 0 {
            continue;
        }
        let token = Token::load(ctx, &k.mint).await?;
        let mut g = vec![
            ix::create_ata_idempotent(&me, &me, &k.mint, &k.token_program),
            ix::create_ata_idempotent(&me, &treasury, &k.mint, &k.token_program),
        ];
        g.push(ix::claim(k, &treasury));
        groups.push(g);
        rows.push(json!({ "rental": k.rental.to_string(), "provider_amount": token.json(reading.claimable_provider), "fee_amount": token.json(reading.claimable_fee) }));
        human.push(format!(
            "{}  ~{} (fee {})",
            k.rental,
            token.show(reading.claimable_provider),
            token.show(reading.claimable_fee)
        ));
    }
    if groups.is_empty() {
        return Err(CliError::Refused("nothing to claim yet".into()));
    }
    let mut sigs = Vec::new();
    for tx in batch::pack(groups, &me, CLAIM_CU) {
        sigs.push(ctx.client.send(&tx, &signer, &[]).await?.to_string());
    }
    let j = json!({ "action": "claim", "claims": rows, "signatures": sigs });
    Ok(Output::new(
        j,
        format!(
            "claimed from {} rental(s) in {} transaction(s):\n{}\nsignatures: {}",
            human.len(),
            sigs.len(),
            human.join("\n"),
            sigs.join(", ")
        ),
    ))
}
