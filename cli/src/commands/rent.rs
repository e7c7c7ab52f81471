//! Opening a rental: quote from the on-chain math, confirmation, one transaction carrying
//! the quoted terms and the renter's access request, then waiting for the provider to
//! activate and deliver access.
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gpu_escrow_sdk::access::{normalize_ssh_public_key, AccessKey};
use gpu_escrow_sdk::accounts::{Listing, RentalAccess, RentalState};
use gpu_escrow_sdk::client::Sent;
use gpu_escrow_sdk::{batch, ix, quote, Instruction, Keypair, Pubkey, Signature};
use serde_json::json;

use super::{done, require_sol, require_tokens, sol, Token};
use crate::args::RentArgs;
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::{duration, Output};
use crate::pending::{Outcome, Pending};

pub async fn run(ctx: &Context, a: RentArgs) -> Result<Output, CliError> {
    let listing_key = parse_pubkey(&a.listing, "listing")?;
    ctx.client.ensure_program_deployed().await?;
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    let l = match ctx.client.listing(&listing_key).await {
        Err(gpu_escrow_sdk::SdkError::AccountNotFound { .. }) => {
            return Err(CliError::Refused(format!("listing {listing_key} does not exist on {}", ctx.url)))
        }
        other => other?,
    };
    let config = ctx.client.config().await?;
    if config.paused {
        return Err(CliError::Refused("the market is paused: new rentals are not accepted right now".into()));
    }
    if l.paused {
        return Err(CliError::Refused(format!("listing {listing_key} is paused by its provider")));
    }
    if l.active_rentals >= l.capacity {
        return Err(CliError::Refused(format!(
            "listing {listing_key} is fully rented ({}/{})",
            l.active_rentals, l.capacity
        )));
    }
    let token = Token::load(ctx, &l.mint).await?;
    let q = match (a.hours, &a.deposit) {
        (Some(h), None) => {
            if h.is_nan() || h <= 0.0 || !h.is_finite() {
                return Err(CliError::Input(format!("--hours must be a positive number, got {h}")));
            }
            quote::quote_seconds(l.price_per_hour, (h * 3_600.0).round() as u64, config.fee_bps)
        }
        (None, Some(d)) => quote::quote_deposit(l.price_per_hour, token.parse(d)?, config.fee_bps),
        _ => return Err(CliError::Input("give exactly one of --hours or --deposit".into())),
    }
    .map_err(|e| CliError::Input(format!("amount does not fit: {e:?}")))?;
    if q.seconds < l.min_rental_secs as u64 {
        return Err(CliError::Refused(format!(
            "this buys {}, below the listing's minimum of {}",
            duration(q.seconds),
            duration(l.min_rental_secs as u64)
        )));
    }
    if q.seconds > l.max_rental_secs as u64 {
        return Err(CliError::Refused(format!(
            "this buys {}, above the listing's maximum of {}",
            duration(q.seconds),
            duration(l.max_rental_secs as u64)
        )));
    }
    let quote_text = format!(
        "listing:   {listing_key}\nprice:     {}/h (billed per second of use)\ntime:      {}\ndeposit:   {}\n  of which provider {} and platform fee {} ({} bps) if fully used\nunused time is refunded when you stop",
        token.show(l.price_per_hour), duration(q.seconds), token.show(q.deposit), token.show(q.provider), token.show(q.fee), config.fee_bps
    );
    // A run that lost the node after sending may have opened this rental already.
    let intent = format!("rent {} {me} {listing_key} {}", ctx.url, q.deposit);
    let mut pending = Pending::load()?;
    if let Some(Outcome::Landed(earlier)) = pending.resolve(&ctx.client, &intent).await? {
        let rental = parse_pubkey(&earlier.rental, "rental")?;
        let sig: Signature =
            earlier.signature.parse().map_err(|_| CliError::Input("bad signature in the pending record".into()))?;
        let j = json!({
            "rental": rental.to_string(), "listing": listing_key.to_string(), "deposit": token.json(q.deposit),
            "seconds": q.seconds, "fee_bps": config.fee_bps, "already_done": true,
        });
        let human = format!(
            "{quote_text}\nrental:    {rental}\nalready opened by an earlier run of this command ({sig}); nothing new was sent"
        );
        return wait_and_report(ctx, &signer, &token, rental, &sig, a.wait, j, human).await;
    }
    let ssh_key = ssh_key(&a)?;
    let mut rent_lamports = 0;
    for space in [
        8 + <gpu_escrow::state::Rental as anchor_lang::Space>::INIT_SPACE,
        RentalAccess::space(ssh_key.as_ref().map_or(0, |(_, k)| k.len())),
        165,
    ] {
        rent_lamports += super::rent_exempt(ctx, space).await?;
    }
    let wrap = if token.is_sol() {
        sol::plan_wrap(ctx, &me, q.deposit, rent_lamports, "this rental").await?
    } else {
        require_tokens(ctx, &me, &token, q.deposit).await?;
        require_sol(ctx, &me, rent_lamports).await?;
        sol::Wrap { ixs: Vec::new(), wrapped: 0 }
    };
    let key_line = match &ssh_key {
        Some((path, _)) => format!("\nssh key:   {} (published for the provider to install)", path.display()),
        None => "\nssh key:   none".into(),
    };
    let wrap_line = if wrap.wrapped > 0 {
        format!("\nfrom SOL:  {} of the deposit comes from your SOL, in the same transaction", token.show(wrap.wrapped))
    } else {
        String::new()
    };
    let quote_text = format!("{quote_text}{wrap_line}{key_line}");
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Input(format!("{quote_text}\nrefusing to rent without confirmation: pass --yes")));
        }
        eprint!("{quote_text}\nproceed? [y/N] ");
        std::io::stderr().flush().ok();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok();
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            return Err(CliError::Refused("cancelled; nothing was sent".into()));
        }
    }
    let access = ix::AccessRequest {
        recipient: AccessKey::from_wallet(&signer).recipient(),
        ssh_key: ssh_key.map(|(_, k)| k).unwrap_or_default(),
    };
    let wrapped = wrap.wrapped;
    let pay = Payment { deposit: q.deposit, config: config.clone(), access, wrap };
    let (sig, rental_id) = open(ctx, &signer, &listing_key, l, &token, pay, (&mut pending, &intent)).await?;
    let rental = gpu_escrow_sdk::pda::rental(&listing_key, rental_id);
    let j = json!({
        "rental": rental.to_string(), "rental_id": rental_id, "listing": listing_key.to_string(),
        "deposit": token.json(q.deposit), "seconds": q.seconds, "fee_bps": config.fee_bps,
        "wrapped_from_sol": token.json(wrapped),
    });
    let human = format!("{quote_text}\nrental:    {rental}");
    wait_and_report(ctx, &signer, &token, rental, &sig, a.wait, j, human).await
}

/// Reports an opened rental, after waiting up to `wait` seconds for the provider to
/// activate it and deliver access.
#[allow(clippy::too_many_arguments)]
async fn wait_and_report(
    ctx: &Context,
    signer: &Keypair,
    token: &Token,
    rental: Pubkey,
    sig: &impl super::Landed,
    wait: u64,
    mut j: serde_json::Value,
    mut human: String,
) -> Result<Output, CliError> {
    if wait == 0 {
        j["state"] = json!("Funded");
        human.push_str(&format!(
            "\nwaiting for the provider to activate it (billing starts then); then run `{}`",
            ctx.hint(&format!("access {rental}"))
        ));
        return Ok(done("rent", sig, j, &human));
    }
    if ctx.format == crate::output::Format::Human {
        eprintln!("rental {rental} opened ({sig}); waiting up to {} s for the provider to activate it", wait);
    }
    let waited = wait_for_activation(ctx, &rental, Duration::from_secs(wait)).await?;
    match waited.state {
        RentalState::Active => {
            j["state"] = json!("Active");
            j["activated_at"] = json!(waited.activated_at);
            j["activated_at_iso"] = json!(crate::output::iso(waited.activated_at));
            j["end_at"] = json!(waited.end_at);
            j["end_at_iso"] = json!(crate::output::iso(waited.end_at));
            match super::access::open(
                ctx,
                &ix::RentalKeys::from_rental(rental, &waited, token.program),
                &waited,
                signer,
            )
            .await
            {
                Ok(details) => {
                    let (aj, ah) = super::access::render(&details);
                    j["access"] = aj;
                    human.push_str(&format!(
                        "\nactive:    billing started; paid through {}\n{ah}",
                        crate::output::when(waited.end_at)
                    ));
                }
                Err(e) => {
                    j["access"] = serde_json::Value::Null;
                    j["access_error"] = json!(e.to_string());
                    human.push_str(&format!("\nactive:    billing started, but {e}"));
                }
            }
            Ok(done("rent", sig, j, &human))
        }
        RentalState::Cancelled => Err(CliError::Refused(format!(
            "the provider declined rental {rental}; your deposit of {} was refunded in full (opened in {sig})",
            token.show(waited.deposited)
        ))),
        _ => {
            j["state"] = json!(gpu_escrow_sdk::accounts::state_name(waited.state));
            human.push_str(&format!(
                "\nnot activated within {} s: the provider has until {} to activate.\n\
                 check with `{}`; you may cancel for a full refund any time before activation with `{}`",
                wait,
                crate::output::when(waited.activation_deadline()),
                ctx.hint(&format!("status {rental}")),
                ctx.hint(&format!("cancel {rental}")),
            ));
            Ok(done("rent", sig, j, &human))
        }
    }
}

/// The SSH key to publish: the one given, else the usual key files, else none.
fn ssh_key(a: &RentArgs) -> Result<Option<(PathBuf, Vec<u8>)>, CliError> {
    if a.no_ssh_key {
        return Ok(None);
    }
    let read = |path: &Path| -> Result<Vec<u8>, CliError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Input(format!("cannot read SSH public key {}: {e}", path.display())))?;
        normalize_ssh_public_key(&text).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))
    };
    if let Some(path) = &a.ssh_key {
        return Ok(Some((path.clone(), read(path)?)));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    for name in ["id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"] {
        let path = home.join(".ssh").join(name);
        if path.is_file() {
            if let Ok(key) = read(&path) {
                return Ok(Some((path, key)));
            }
        }
    }
    Ok(None)
}

/// What the renter pays and publishes when opening.
struct Payment {
    deposit: u64,
    /// The config the quote was made under: its fee and timeouts are part of the terms.
    config: gpu_escrow_sdk::accounts::Config,
    access: ix::AccessRequest,
    /// SOL wrapped before the deposit, in the same transaction.
    wrap: sol::Wrap,
}

/// Opens the listing's next rental. If another renter took that id first, the listing is
/// read again and, if its terms are unchanged, the open is retried with the next id (the
/// failed attempt moved nothing).
async fn open(
    ctx: &Context,
    signer: &Keypair,
    listing: &Pubkey,
    mut l: Listing,
    token: &Token,
    p: Payment,
    (pending, intent): (&mut Pending, &str),
) -> Result<(Sent, u64), CliError> {
    let terms = quote::terms(&l, &p.config);
    let me = super::me(signer);
    let mut prefix = p.wrap.ixs;
    for attempt in 0.. {
        let req = ix::OpenRequest {
            renter: me,
            listing: *listing,
            mint: l.mint,
            token_program: token.program,
            rental_id: l.rentals_opened,
            deposit: p.deposit,
            terms,
            access: p.access.clone(),
        };
        let with_prefix = |prefix: &[Instruction]| [prefix, &[ix::open_rental(&req)]].concat();
        let mut ixs = with_prefix(&prefix);
        if batch::sent_size(&ixs, &me) > batch::PACKET_DATA_SIZE {
            // The longest SSH keys leave no room to also create the wrapped-SOL account: it is
            // created (empty) first; the SOL still moves only together with the deposit.
            if let Some(create) = sol::take_account_creation(&mut prefix) {
                ctx.client.send(&[create], signer, &[]).await?;
                ixs = with_prefix(&prefix);
            }
        }
        let rental = gpu_escrow_sdk::pda::rental(listing, req.rental_id);
        match pending.send(&ctx.client, intent, &rental, &ixs, signer).await {
            Ok(sent) => return Ok((sent, req.rental_id)),
            Err(CliError::Sdk(e)) if e.program_error_name() == Some("StaleRentalId") && attempt < 5 => {
                l = ctx.client.listing(listing).await?;
                if quote::terms(&l, &p.config) != terms {
                    return Err(CliError::Refused(
                        "the listing's terms changed while you were renting; nothing was charged. Run rent again to see the new quote"
                            .into(),
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// Polls the rental until it leaves Funded or `wait` passes; returns its last state.
async fn wait_for_activation(
    ctx: &Context,
    rental: &Pubkey,
    wait: Duration,
) -> Result<gpu_escrow_sdk::accounts::Rental, CliError> {
    let deadline = Instant::now() + wait;
    loop {
        // A node behind the confirmed open is retried by the client (its read floor), not
        // believed, so a missing rental here is really missing.
        let r = ctx.client.rental(rental).await?;
        if r.state != RentalState::Funded || Instant::now() >= deadline {
            return Ok(r);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
