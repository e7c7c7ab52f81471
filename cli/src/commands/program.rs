//! Program deployment through the upgradeable loader, to any cluster.
use gpu_escrow_sdk::deploy;
use serde_json::json;

use crate::args::ProgramCmd;
use crate::context::{read_keypair, Context};
use crate::error::CliError;
use crate::output::Output;

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
    let rpc = ctx.client.rpc();
    let rent = |len| rpc.get_minimum_balance_for_rent_exemption(len);
    let need = rent(deploy::buffer_len(bytes.len())).await.map_err(super::rpc_err)?
        + rent(deploy::programdata_len(bytes.len())).await.map_err(super::rpc_err)?
        + rent(deploy::program_account_len()).await.map_err(super::rpc_err)?;
    super::require_sol(ctx, &super::me(&signer), need).await?;
    let sig = ctx.client.deploy_program(&signer, &program, &signer, &bytes).await?;
    Ok(super::done(
        "program deploy",
        &sig,
        json!({ "program_id": id.to_string(), "bytes": bytes.len() }),
        &format!("program {id} deployed ({} bytes); upgrade authority {}", bytes.len(), super::me(&signer)),
    ))
}
