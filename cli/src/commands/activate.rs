//! The provider activates a funded rental, sealing the connection details to the renter.
use std::io::Read;

use gpu_escrow_sdk::access::{self, ConnectionDetails};
use gpu_escrow_sdk::accounts::RentalState;
use gpu_escrow_sdk::ix;
use serde_json::json;

use super::{done, rental_for, send};
use crate::args::ActivateArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::output::Output;

/// Connection details from `--details FILE` (JSON, `-` for stdin) or `--ssh`/`--url`.
fn details(a: &ActivateArgs) -> Result<Option<ConnectionDetails>, CliError> {
    if let Some(path) = &a.details {
        let text = if path.as_os_str() == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| CliError::Input(format!("cannot read stdin: {e}")))?;
            s
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?
        };
        let d: ConnectionDetails = serde_json::from_str(&text)
            .map_err(|e| CliError::Input(format!("{} is not valid connection details JSON: {e}", path.display())))?;
        return Ok(Some(d));
    }
    if a.ssh.is_none() && a.url.is_none() {
        return Ok(None);
    }
    let mut d = ConnectionDetails { url: a.url.clone(), ..Default::default() };
    if let Some(ssh) = &a.ssh {
        let (user, rest) = ssh
            .split_once('@')
            .ok_or_else(|| CliError::Input(format!("--ssh {ssh}: expected USER@HOST or USER@HOST:PORT")))?;
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => {
                (h, Some(p.parse::<u16>().map_err(|_| CliError::Input(format!("--ssh {ssh}: `{p}` is not a port")))?))
            }
            None => (rest, None),
        };
        if user.is_empty() || host.is_empty() {
            return Err(CliError::Input(format!("--ssh {ssh}: expected USER@HOST or USER@HOST:PORT")));
        }
        (d.user, d.host, d.port) = (Some(user.into()), Some(host.into()), port);
    }
    Ok(Some(d))
}

pub async fn run(ctx: &Context, a: ActivateArgs) -> Result<Output, CliError> {
    let (k, r) =
        ready_or_done!(rental_for(ctx, &a.rental, "activate", &[RentalState::Funded], &[RentalState::Active]).await?);
    let signer = ctx.signer()?;
    let me = super::me(&signer);
    if me != r.provider {
        return Err(CliError::Refused(format!("only the provider {} can activate rental {}", r.provider, k.rental)));
    }
    let now = ctx.client.cluster_time().await?;
    if now >= r.activation_deadline() {
        return Err(CliError::Refused(format!(
            "the activation deadline of rental {} passed at {}; it can only be cancelled now",
            k.rental,
            crate::output::when(r.activation_deadline())
        )));
    }
    let sealed = match details(&a)? {
        Some(d) => {
            let recipient = ctx.client.access(&k).await?.recipient;
            access::seal(&d, &k.rental, &recipient, &signer).map_err(|e| CliError::Input(e.to_string()))?
        }
        None => Vec::new(),
    };
    let delivered = !sealed.is_empty();
    let sig = send(ctx, &[ix::activate_rental(&me, &k.rental, &k.access(), sealed)], &signer).await?;
    let r = ctx.client.rental(&k.rental).await?;
    let note = if delivered {
        "access details sealed to the renter"
    } else {
        "no access details given (--details, --ssh or --url): the renter must get them from you another way"
    };
    Ok(done(
        "activate",
        &sig,
        json!({ "rental": k.rental.to_string(), "activated_at": r.activated_at, "end_at": r.end_at, "access_delivered": delivered }),
        &format!("billing started; paid through {}\n{note}", crate::output::when(r.end_at)),
    ))
}
