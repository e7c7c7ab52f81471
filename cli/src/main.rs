//! `gpu-escrow`: the command line for renters, providers, the arbiter and the admin.
mod agent;
mod amount;
mod args;
mod commands;
mod context;
mod error;
mod output;
mod pending;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use args::{Cli, Command};
use commands as cmd;
use context::Context;
use error::CliError;
use output::{Format, Output};

async fn dispatch(ctx: &Context, command: Command) -> Result<Output, CliError> {
    match command {
        Command::Config(c) => cmd::admin::config(ctx, c).await,
        Command::Mint(c) => cmd::admin::mint(ctx, c).await,
        Command::Pause => cmd::admin::pause(ctx, true).await,
        Command::Unpause => cmd::admin::pause(ctx, false).await,
        Command::Admin(c) => cmd::admin::admin(ctx, c).await,
        Command::Provider(c) => cmd::provider::run(ctx, c).await,
        Command::Listing(c) => cmd::listing::run(ctx, c).await,
        Command::Activate(a) => cmd::activate::run(ctx, a).await,
        Command::Decline { rental } => cmd::rental::decline(ctx, &rental).await,
        Command::Agent(c) => agent::run(ctx, c).await,
        Command::Heartbeat(a) => cmd::heartbeat::run(ctx, a).await,
        Command::Claim(a) => cmd::claim::run(ctx, a).await,
        Command::Market(a) => cmd::market::run(ctx, a).await,
        Command::Rent(a) => cmd::rent::run(ctx, a).await,
        Command::Access { rental } => cmd::access::run(ctx, &rental).await,
        Command::Withdraw { rental, to } => cmd::held::withdraw(ctx, &rental, to.as_deref()).await,
        Command::Rentals => cmd::status::list(ctx).await,
        Command::Status { rental } => cmd::status::status(ctx, &rental).await,
        Command::Watch(a) => cmd::watch::run(ctx, a).await,
        Command::TopUp { rental, amount } => cmd::rental::top_up(ctx, &rental, &amount).await,
        Command::Stop { rental } => cmd::rental::stop(ctx, &rental).await,
        Command::Cancel { rental } => cmd::rental::cancel(ctx, &rental).await,
        Command::Close { rental, rate } => cmd::rental::close(ctx, &rental, rate).await,
        Command::Rate { rental, stars } => cmd::rental::rate(ctx, &rental, stars).await,
        Command::Deliver { rental } => cmd::held::deliver(ctx, &rental).await,
        Command::Dispute(c) => cmd::dispute::run(ctx, c).await,
        Command::Finalize { rental } => cmd::rental::finalize(ctx, &rental).await,
        Command::Receipt { rental } => cmd::receipt::receipt(ctx, &rental).await,
        Command::History { csv } => cmd::receipt::history(ctx, csv.as_deref()).await,
        Command::Program(c) => cmd::program::run(ctx, c).await,
        Command::Dev(c) => cmd::dev::run(ctx, c).await,
        Command::Address => {
            let me = ctx.signer_pubkey()?;
            Ok(Output::new(serde_json::json!({ "address": me.to_string() }), me.to_string()))
        }
        Command::Completions { .. } => unreachable!("handled before a cluster context exists"),
    }
}

/// Errors the SDK words without knowing the command line, given the `-u` the user typed.
fn with_hint(ctx: &Context, err: CliError) -> CliError {
    use gpu_escrow_sdk::SdkError;
    match err {
        CliError::Sdk(SdkError::ConfigMissing { url }) => CliError::Refused(format!(
            "the gpu-escrow config is not initialised on the cluster at {url}; the program's upgrade authority creates it with `{}`",
            ctx.hint_for_others("config init --arbiter <PUBKEY> --treasury <PUBKEY>")
        )),
        CliError::Sdk(e @ SdkError::ProgramNotDeployed { .. }) => CliError::Refused(format!(
            "{e} (a different cluster? -u selects it; to deploy: `{}`)",
            ctx.hint("program deploy --program-keypair <FILE>")
        )),
        other => other,
    }
}

fn report(err: &CliError, format: Format) {
    let (kind, code, name) = match err {
        CliError::Input(_) => ("input", None, None),
        CliError::Refused(_) => ("refused", None, None),
        CliError::Sdk(gpu_escrow_sdk::SdkError::Program { code, name, .. }) => {
            ("program", Some(*code), Some(name.clone()))
        }
        CliError::Sdk(gpu_escrow_sdk::SdkError::Unreachable { .. }) => ("network", None, None),
        CliError::Sdk(gpu_escrow_sdk::SdkError::Rpc(_)) => ("rpc", None, None),
        CliError::Sdk(gpu_escrow_sdk::SdkError::Unconfirmed { .. }) => ("unconfirmed", None, None),
        CliError::Sdk(_) => ("cluster", None, None),
    };
    match format {
        Format::Json => eprintln!(
            "{}",
            serde_json::json!({ "error": { "kind": kind, "message": err.to_string(), "code": code, "name": name } })
        ),
        Format::Human => match err {
            CliError::Sdk(gpu_escrow_sdk::SdkError::Unreachable { .. }) => {
                eprintln!("error: {err}\nhint: check the cluster URL (-u) and your network connection")
            }
            CliError::Sdk(e @ gpu_escrow_sdk::SdkError::Unconfirmed { .. }) => {
                let rerun: Vec<String> = std::env::args().skip(1).collect();
                eprintln!(
                    "error: {}",
                    pending::unconfirmed_hint(e, &format!("gpu-escrow {}", rerun.join(" "))).unwrap_or_default()
                )
            }
            _ => eprintln!("error: {err}"),
        },
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "gpu-escrow", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let format = cli.output;
    let mut ctx = match Context::new(
        cli.config.as_deref(),
        cli.url.as_deref(),
        cli.keypair.as_deref(),
        cli.commitment.as_deref(),
        format,
    ) {
        Ok(c) => c,
        Err(e) => {
            report(&e, format);
            return ExitCode::FAILURE;
        }
    };
    ctx.keep_wsol = cli.keep_wsol;
    if let Some(price) = cli.compute_unit_price.as_deref() {
        match price.parse() {
            Ok(p) => ctx.set_compute_unit_price(p),
            Err(e) => {
                report(&CliError::Input(e), format);
                return ExitCode::FAILURE;
            }
        }
    }
    match dispatch(&ctx, cli.command).await {
        Ok(out) => {
            if !(out.json.is_null() && out.human.is_empty()) {
                out.print(format);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            report(&with_hint(&ctx, e), format);
            ExitCode::FAILURE
        }
    }
}
