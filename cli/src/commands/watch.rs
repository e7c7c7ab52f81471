//! Live meter: elapsed, cost so far, time left, a progress bar, and a low-time warning.
use std::io::{IsTerminal, Write};
use std::time::Duration;

use gpu_escrow_sdk::accounts::{state_name, RentalState};
use gpu_escrow_sdk::quote;
use serde_json::json;

use super::{rental_in, Token};
use crate::args::WatchArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::output::{duration, Format, Output};

fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = if total == 0 { width } else { ((done.min(total) as u128 * width as u128) / total as u128) as usize };
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

pub async fn run(ctx: &Context, a: WatchArgs) -> Result<Output, CliError> {
    let (k, _) = rental_in(ctx, &a.rental, &[]).await?;
    let token = Token::load(ctx, &k.mint).await?;
    let tty = std::io::stdout().is_terminal() && ctx.format == Format::Human;
    let mut alerted = false;
    let mut refreshes = 0u64;
    let mut last = json!({});
    let mut delivered = false;
    loop {
        let r = ctx.client.rental(&k.rental).await?;
        let now = ctx.client.cluster_time().await?;
        let reading = quote::read_rental(&r, now).map_err(|e| CliError::Refused(format!("{e:?}")))?;
        if !delivered && r.state != RentalState::Funded {
            delivered = super::access::delivered(ctx, &k).await?;
        }
        let total = reading.billable_seconds + reading.remaining_seconds;
        let pct = (reading.billable_seconds * 100).checked_div(total).unwrap_or(100);
        let line = format!(
            "{} {:>3}%  elapsed {}  cost {}  left {}  [{}]",
            bar(reading.billable_seconds, total, 24),
            pct,
            duration(reading.billable_seconds),
            token.show(reading.earned),
            duration(reading.remaining_seconds),
            state_name(r.state)
        );
        let low = a.alert_below.is_some_and(|m| r.state == RentalState::Active && reading.remaining_seconds < m * 60);
        last = json!({
            "rental": k.rental.to_string(), "state": state_name(r.state), "at": now,
            "elapsed_seconds": reading.billable_seconds, "remaining_seconds": reading.remaining_seconds,
            "cost": token.json(reading.earned), "percent": pct, "low_time_alert": low,
            "access_delivered": delivered,
        });
        match ctx.format {
            Format::Json => println!("{}", serde_json::to_string(&last).expect("json")),
            Format::Human if tty => {
                print!("\r{line}\x1b[K");
                std::io::stdout().flush().ok();
            }
            Format::Human => println!("{line}"),
        }
        if low && !alerted {
            alerted = true;
            eprintln!(
                "{}warning: less than {} minute(s) left; top up with `{}`",
                if tty { "\n" } else { "" },
                a.alert_below.unwrap_or(0),
                ctx.hint(&format!("top-up {} <AMOUNT>", k.rental))
            );
        }
        refreshes += 1;
        let ended = r.state != RentalState::Active && r.state != RentalState::Funded;
        if ended || a.count.is_some_and(|c| refreshes >= c) {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(a.interval.max(1))) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    if tty {
        println!();
    }
    // The meter lines were the output; the final reading is kept for --output json callers.
    let _ = last;
    Ok(Output::new(serde_json::Value::Null, String::new()))
}
