//! Sending a settlement (stop, finalize, dispute resolutions) and reporting what moved, plus
//! withdrawing funds held for a payee whose account could not receive.
use gpu_escrow_sdk::accounts::{state_name, Rental};
use gpu_escrow_sdk::ix::{self, RentalKeys};
use gpu_escrow_sdk::{Instruction, Pubkey};
use serde_json::json;

use super::{done, rental_in, send, Token};
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::{duration, Output};

/// Sends `settle` (built for the config's treasury) after creating the caller's own token
/// account if missing. Other payees' accounts are never needed: a share that cannot be
/// delivered is held in the vault for its payee.
pub async fn send_settlement(
    ctx: &Context,
    k: &RentalKeys,
    before: &Rental,
    action: &str,
    settle: impl FnOnce(&Pubkey, &Pubkey) -> Instruction,
) -> Result<Output, CliError> {
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let treasury = ctx.client.config().await?.treasury;
    let token = Token::load(ctx, &k.mint).await?;
    let ixs = [ix::ensure_own_account(&me, k), settle(&me, &treasury)];
    let sig = send(ctx, &ixs, &signer).await?;
    let after = ctx.client.rental(&k.rental).await?;
    let (j, h) = report(ctx, k, before, &after, &token);
    Ok(done(action, &sig, j, &h))
}

/// What a settlement moved ("paid now"), the rental's totals, and anything held.
pub fn report(
    ctx: &Context,
    k: &RentalKeys,
    before: &Rental,
    after: &Rental,
    token: &Token,
) -> (serde_json::Value, String) {
    let now = (
        after.provider_paid - before.provider_paid,
        after.fee_paid - before.fee_paid,
        after.refunded - before.refunded,
    );
    let j = json!({
        "rental": k.rental.to_string(),
        "state": state_name(after.state),
        "billed_seconds": after.billed_seconds,
        "paid_now": { "provider": token.json(now.0), "fee": token.json(now.1), "refund": token.json(now.2) },
        "provider_paid": token.json(after.provider_paid),
        "fee_paid": token.json(after.fee_paid),
        "refunded": token.json(after.refunded),
        "deposited": token.json(after.deposited),
        "held": {
            "provider": token.json(after.provider_owed),
            "fee": token.json(after.fee_owed),
            "renter": token.json(after.renter_owed),
        },
    });
    let mut h = format!(
        "billed:    {}\npaid now:  provider {}, fee {}, refund {}\ntotal:     provider {}, fee {}, refunded {} (of {} deposited)",
        duration(after.billed_seconds),
        token.show(now.0),
        token.show(now.1),
        token.show(now.2),
        token.show(after.provider_paid),
        token.show(after.fee_paid),
        token.show(after.refunded),
        token.show(after.deposited),
    );
    for (who, amount) in
        [("provider", after.provider_owed), ("treasury", after.fee_owed), ("renter", after.renter_owed)]
    {
        if amount > 0 {
            h.push_str(&format!(
                "\nheld:      {} for the {who}, whose token account could not receive; they take it with `{}`",
                token.show(amount),
                ctx.hint_for_others(&format!("withdraw {}", k.rental))
            ));
        }
    }
    (j, h)
}

pub async fn withdraw(ctx: &Context, rental: &str, to: Option<&str>) -> Result<Output, CliError> {
    let (k, r) = rental_in(ctx, rental, &[]).await?;
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let treasury = ctx.client.config().await?.treasury;
    let mut owed = 0;
    if me == r.renter {
        owed += r.renter_owed;
    }
    if me == r.provider {
        owed += r.provider_owed;
    }
    if me == treasury {
        owed += r.fee_owed;
    }
    if owed == 0 {
        return Err(CliError::Refused(format!("nothing is held for {me} in rental {}", k.rental)));
    }
    let token = Token::load(ctx, &k.mint).await?;
    let mut ixs = Vec::new();
    let destination = match to {
        Some(t) => parse_pubkey(t, "--to token account")?,
        None => {
            ixs.push(ix::ensure_own_account(&me, &k));
            k.token_account_of(&me)
        }
    };
    ixs.push(ix::withdraw_owed(&me, &k, &destination));
    let sig = send(ctx, &ixs, &signer).await?;
    Ok(done(
        "withdraw",
        &sig,
        json!({ "rental": k.rental.to_string(), "amount": token.json(owed), "to": destination.to_string() }),
        &format!("withdrew {} into {destination}", token.show(owed)),
    ))
}
