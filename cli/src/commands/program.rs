//! Program deployment through the upgradeable loader, to any cluster.
use std::io::IsTerminal;
use std::sync::Mutex;

use gpu_escrow_sdk::client::DeployStep;
use gpu_escrow_sdk::deploy;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::args::ProgramCmd;
use crate::context::{read_keypair, Context};
use crate::error::CliError;
use crate::output::{Format, Output};

/// Upload progress on stderr: a bar on a terminal, a line per step (and per tenth of the
/// writes) otherwise, nothing with `--output json`.
enum Progress {
    Bar(ProgressBar),
    Lines(Mutex<usize>),
    Quiet,
}

impl Progress {
    fn new(format: Format) -> Self {
        match format {
            Format::Json => Progress::Quiet,
            Format::Human if std::io::stderr().is_terminal() => {
                let bar = ProgressBar::new(0);
                bar.set_style(
                    ProgressStyle::with_template("{msg:<22} [{bar:30}] {pos}/{len} ({eta} left)")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                bar.set_message("creating the buffer");
                Progress::Bar(bar)
            }
            Format::Human => Progress::Lines(Mutex::new(0)),
        }
    }

    fn show(&self, step: DeployStep) {
        match (self, step) {
            (Progress::Quiet, _) => {}
            (Progress::Bar(bar), DeployStep::BufferCreated { writes }) => {
                bar.set_length(writes as u64);
                bar.set_message("sending writes");
            }
            (Progress::Bar(bar), DeployStep::Sending { sent, pending }) => {
                bar.set_length(pending as u64);
                bar.set_position(sent as u64);
            }
            (Progress::Bar(bar), DeployStep::Written { confirmed, writes }) => {
                bar.set_message("confirming writes");
                bar.set_length(writes as u64);
                bar.set_position(confirmed as u64);
            }
            (Progress::Bar(bar), DeployStep::Resending { round, .. }) => {
                bar.set_message(format!("resending (round {round})"))
            }
            (Progress::Bar(bar), DeployStep::Deploying) => bar.set_message("deploying the buffer"),
            (Progress::Lines(last_tenth), step) => {
                let line = match step {
                    DeployStep::BufferCreated { writes } => {
                        Some(format!("buffer created; uploading in {writes} write transactions"))
                    }
                    DeployStep::Written { confirmed, writes } => {
                        let tenth = confirmed * 10 / writes.max(1);
                        let mut last = last_tenth.lock().expect("not poisoned");
                        (tenth > *last).then(|| {
                            *last = tenth;
                            format!("{confirmed}/{writes} writes confirmed")
                        })
                    }
                    DeployStep::Resending { pending, round } => {
                        Some(format!("resending {pending} expired writes (round {round})"))
                    }
                    DeployStep::Deploying => Some("all writes confirmed; deploying the buffer as the program".into()),
                    DeployStep::Sending { .. } => None,
                };
                if let Some(line) = line {
                    eprintln!("program deploy: {line}");
                }
            }
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

pub async fn run(ctx: &Context, cmd: ProgramCmd) -> Result<Output, CliError> {
    let ProgramCmd::Deploy { so, program_keypair } = cmd;
    let bytes =
        std::fs::read(&so).map_err(|e| CliError::Input(format!("cannot read program {}: {e}", so.display())))?;
    let program = read_keypair(&program_keypair)?;
    let signer = ctx.signer()?;
    let id = gpu_escrow_sdk::Signer::pubkey(&program);
    if id != gpu_escrow_sdk::PROGRAM_ID {
        return Err(CliError::Input(format!(
            "{} holds {id}, but this build of gpu-escrow expects program id {}",
            program_keypair.display(),
            gpu_escrow_sdk::PROGRAM_ID
        )));
    }
    if ctx.client.ensure_program_deployed().await.is_ok() {
        return Err(CliError::Refused(format!("program {id} is already deployed on {}", ctx.url)));
    }
    // Peak need: the buffer and the program data exist at the same time.
    let need = super::rent_exempt(ctx, deploy::buffer_len(bytes.len())).await?
        + super::rent_exempt(ctx, deploy::programdata_len(bytes.len())).await?
        + super::rent_exempt(ctx, deploy::program_account_len()).await?;
    super::require_sol(ctx, &super::me(&signer), need).await?;
    let progress = Progress::new(ctx.format);
    let sig =
        ctx.client.deploy_program_with_progress(&signer, &program, &signer, &bytes, &|step| progress.show(step)).await;
    progress.finish();
    let sig = sig?;
    Ok(super::done(
        "program deploy",
        &sig,
        json!({ "program_id": id.to_string(), "bytes": bytes.len() }),
        &format!("program {id} deployed ({} bytes); upgrade authority {}", bytes.len(), super::me(&signer)),
    ))
}
