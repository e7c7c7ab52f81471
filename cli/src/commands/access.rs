//! The renter's side of sealed access: open the provider's connection details with the
//! renter's wallet and print the ready-to-use lines.
use gpu_escrow_sdk::access::{self, AccessKey, ConnectionDetails};
use gpu_escrow_sdk::accounts::{Rental, RentalState};
use gpu_escrow_sdk::ix::RentalKeys;
use gpu_escrow_sdk::{Keypair, SdkError};
use serde_json::json;

use super::rental_in;
use crate::context::Context;
use crate::error::CliError;
use crate::output::Output;

/// Whether connection details were delivered, from the rental's access account.
pub async fn delivered(ctx: &Context, keys: &RentalKeys) -> Result<bool, CliError> {
    match ctx.client.access(keys).await {
        Ok(a) => Ok(!a.sealed.is_empty()),
        Err(SdkError::AccountNotFound { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Fetches and opens the sealed details of `rental` with `renter`'s wallet.
pub async fn open(
    ctx: &Context,
    keys: &RentalKeys,
    r: &Rental,
    renter: &Keypair,
) -> Result<ConnectionDetails, CliError> {
    let rental = &keys.rental;
    let blob = ctx.client.access(keys).await?;
    if blob.sealed.is_empty() {
        let why = match r.state {
            RentalState::Funded => "the provider has not activated this rental yet",
            _ => "the provider delivered no connection details on-chain (ask them, or open a dispute)",
        };
        return Err(CliError::Refused(format!("no access details for rental {rental}: {why}")));
    }
    // Rentals opened before the signature-based derivation (v2) used the seed-based one.
    let key = AccessKey::for_recipient(renter, &blob.recipient)
        .map_err(|e| CliError::Refused(format!("cannot open the access details of rental {rental}: {e}")))?;
    access::open(&blob.sealed, rental, &blob.recipient, &r.provider, &key)
        .map_err(|e| CliError::Refused(format!("cannot open the access details of rental {rental}: {e}")))
}

/// The fields as JSON and the lines a person needs.
pub fn render(d: &ConnectionDetails) -> (serde_json::Value, String) {
    let mut lines = Vec::new();
    if let Some(cmd) = d.ssh_command() {
        lines.push(cmd);
    }
    if let Some(kh) = d.known_hosts_line() {
        lines.push(format!("known_hosts: {kh}"));
    } else if let Some(fp) = &d.host_key_fingerprint {
        lines.push(format!("host key:    {fp}"));
    }
    if let Some(url) = &d.url {
        lines.push(format!("url:         {url}"));
    }
    if let Some(pw) = &d.password {
        lines.push(format!("password:    {pw}"));
    }
    if let Some(note) = &d.note {
        lines.push(format!("note:        {note}"));
    }
    let mut j = serde_json::to_value(d).expect("details serialise");
    j["ssh_command"] = json!(d.ssh_command());
    j["known_hosts_line"] = json!(d.known_hosts_line());
    (j, lines.join("\n"))
}

pub async fn run(ctx: &Context, rental: &str) -> Result<Output, CliError> {
    let (k, r) = rental_in(ctx, rental, &[]).await?;
    let signer = ctx.signer()?;
    if super::me(&signer) == r.renter {
        let details = open(ctx, &k, &r, &signer).await?;
        let (mut j, human) = render(&details);
        j["rental"] = json!(k.rental.to_string());
        return Ok(Output::new(j, human));
    }
    Err(CliError::Refused(format!(
        "only the renter {} can open the access details of rental {} (you are {})",
        r.renter,
        k.rental,
        super::me(&signer)
    )))
}
