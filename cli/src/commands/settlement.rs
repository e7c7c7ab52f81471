//! Sending a settlement (stop, finalize, dispute resolutions, cancel, decline, dispute open)
//! and reporting what moved. Funds held for a payee are delivered or withdrawn in [`super::held`].
use gpu_escrow_sdk::accounts::{state_name, Rental};
use gpu_escrow_sdk::ix::{self, RentalKeys};
use gpu_escrow_sdk::{Instruction, Pubkey};
use serde_json::json;

use super::{done, send, sol, Token};
use crate::context::Context;
use crate::error::CliError;
use crate::output::{duration, Output};

/// Sends `settle` (built for the config's treasury) as a payout to the caller: see
/// [`Payout`]. Other payees' accounts are never needed: a share that cannot be delivered is
/// held in the vault for its payee.
pub async fn send_settlement(
    ctx: &Context,
    k: &RentalKeys,
    before: &Rental,
    action: &str,
    settle: impl FnOnce(&Pubkey, &Pubkey) -> Instruction,
) -> Result<Output, CliError> {
    let me = ctx.signer_pubkey()?;
    let treasury = ctx.client.config().await?.treasury;
    let payout = Payout::new(ctx, &me, k, settle(&me, &treasury), false).await?;
    send_and_report(ctx, k, before, action, payout).await
}

/// A transaction paying the caller: its own token account is created first if missing (so
/// its share is delivered, not held), and in SOL rentals the payout is unwrapped after it
/// (see [`sol::unwrap_after`]).
pub struct Payout {
    pub ixs: Vec<Instruction>,
    /// Whether the transaction unwraps the caller's wrapped SOL.
    pub unwraps: bool,
    /// The human line about it ("" when nothing is unwrapped).
    pub note: &'static str,
}

impl Payout {
    /// `stays_open`: the rental is still open after `pay`, so more payouts may come.
    pub async fn new(
        ctx: &Context,
        me: &Pubkey,
        k: &RentalKeys,
        pay: Instruction,
        stays_open: bool,
    ) -> Result<Self, CliError> {
        let unwrap = sol::unwrap_after(ctx, me, k, stays_open).await?;
        let note = sol::unwrap_note(&unwrap);
        let mut ixs = vec![ix::ensure_own_account(me, k), pay];
        let unwraps = !unwrap.is_empty();
        ixs.extend(unwrap);
        Ok(Payout { ixs, unwraps, note })
    }

    /// A transaction that pays the caller nothing: sent as is.
    pub fn plain(ixs: Vec<Instruction>) -> Self {
        Payout { ixs, unwraps: false, note: "" }
    }
}

/// Sends `payout` and reports what it moved in `k`'s rental (see [`report`]).
pub async fn send_and_report(
    ctx: &Context,
    k: &RentalKeys,
    before: &Rental,
    action: &str,
    payout: Payout,
) -> Result<Output, CliError> {
    let signer = ctx.signer()?;
    let token = Token::load(ctx, &k.mint).await?;
    let sig = send(ctx, &payout.ixs, &signer).await?;
    let after = ctx.client.rental(&k.rental).await?;
    let (mut j, mut h) = report(ctx, k, before, &after, &token);
    j["unwrapped_to_sol"] = json!(payout.unwraps);
    h.push_str(payout.note);
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
        "dispute_locked": token.json(after.dispute_locked),
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
    if after.dispute_locked > 0 {
        h.push_str(&format!(
            "\nlocked:    {} stays in escrow until the dispute is resolved",
            token.show(after.dispute_locked)
        ));
    }
    for (who, amount) in
        [("provider", after.provider_owed), ("treasury", after.fee_owed), ("renter", after.renter_owed)]
    {
        if amount > 0 {
            h.push_str(&format!(
                "\nheld:      {} for the {who}, whose token account could not receive; anyone delivers it once it can (`{}`), or they withdraw it (`{}`)",
                token.show(amount),
                ctx.hint_for_others(&format!("deliver {}", k.rental)),
                ctx.hint_for_others(&format!("withdraw {}", k.rental))
            ));
        }
    }
    (j, h)
}
