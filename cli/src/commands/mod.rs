pub mod access;
pub mod activate;
pub mod admin;
pub mod claim;
pub mod dev;
pub mod dispute;
pub mod heartbeat;
pub mod listing;
pub mod market;
pub mod program;
pub mod provider;
pub mod receipt;
pub mod rent;
pub mod rental;
pub mod settlement;
pub mod status;
pub mod watch;

use gpu_escrow_sdk::accounts::{state_name, Rental, RentalState};
use gpu_escrow_sdk::ix::RentalKeys;
use gpu_escrow_sdk::{Instruction, Keypair, Pubkey, Signature, Signer};
use serde_json::json;

use crate::amount;
use crate::context::{parse_pubkey, Context};
use crate::error::CliError;
use crate::output::Output;

/// A payment token as shown to people.
pub struct Token {
    pub mint: Pubkey,
    pub decimals: u8,
    pub label: String,
    pub program: Pubkey,
}

impl Token {
    pub async fn load(ctx: &Context, mint: &Pubkey) -> Result<Self, CliError> {
        let program = ctx.client.token_program_of(mint).await?;
        let decimals = ctx.client.mint_decimals(mint).await?;
        Ok(Token { mint: *mint, decimals, label: amount::token_label(&mint.to_string()), program })
    }

    pub fn show(&self, units: u64) -> String {
        format!("{} {}", amount::format(units, self.decimals), self.label)
    }

    pub fn parse(&self, text: &str) -> Result<u64, CliError> {
        amount::parse(text, self.decimals).map_err(CliError::Input)
    }

    /// Amount fields for JSON: base units and the decimal string.
    pub fn json(&self, units: u64) -> serde_json::Value {
        json!({ "amount": units, "ui_amount": amount::format(units, self.decimals) })
    }
}

/// Loads a rental and its keys, requiring one of `allowed` states (named in the error).
pub async fn rental_in(ctx: &Context, text: &str, allowed: &[RentalState]) -> Result<(RentalKeys, Rental), CliError> {
    let address = parse_pubkey(text, "rental")?;
    ctx.client.ensure_program_deployed().await?;
    let (keys, r) = match ctx.client.rental_keys(&address).await {
        Err(gpu_escrow_sdk::SdkError::AccountNotFound { .. }) => {
            return Err(CliError::Refused(format!(
                "rental {address} does not exist on {} (never opened, or already closed)",
                ctx.url
            )))
        }
        other => other?,
    };
    if !allowed.is_empty() && !allowed.contains(&r.state) {
        let want: Vec<&str> = allowed.iter().map(|s| state_name(*s)).collect();
        return Err(CliError::Refused(format!(
            "rental {address} is {}; this command needs it to be {}",
            state_name(r.state),
            want.join(" or ")
        )));
    }
    Ok((keys, r))
}

/// Sends and reports one transaction as a standard output.
pub async fn send(ctx: &Context, ixs: &[Instruction], signer: &Keypair) -> Result<Signature, CliError> {
    Ok(ctx.client.send(ixs, signer, &[]).await?)
}

pub fn done(action: &str, sig: &Signature, mut fields: serde_json::Value, human_extra: &str) -> Output {
    fields["signature"] = json!(sig.to_string());
    fields["action"] = json!(action);
    let mut human = format!("{action}: ok\nsignature: {sig}");
    if !human_extra.is_empty() {
        human = format!("{human}\n{human_extra}");
    }
    Output::new(fields, human)
}

/// Refuses with a clear message when `owner` holds fewer than `need` tokens.
pub async fn require_tokens(ctx: &Context, owner: &Pubkey, token: &Token, need: u64) -> Result<(), CliError> {
    let have = ctx.client.token_balance(owner, &token.mint, &token.program).await?;
    if have < need {
        return Err(CliError::Refused(format!(
            "not enough tokens: wallet {owner} holds {}, needs {} (missing {})",
            token.show(have),
            token.show(need),
            token.show(need - have)
        )));
    }
    Ok(())
}

/// Refuses when the fee payer cannot cover `lamports` of rent plus fees.
pub async fn require_sol(ctx: &Context, payer: &Pubkey, lamports: u64) -> Result<(), CliError> {
    let need = lamports + 20_000;
    let have = ctx.client.rpc().get_balance(payer).await.map_err(rpc_err)?;
    if have < need {
        return Err(CliError::Refused(format!(
            "not enough SOL for network fees and rent: wallet {payer} has {} SOL, needs {} SOL (missing {} SOL)",
            amount::format(have, 9),
            amount::format(need, 9),
            amount::format(need - have, 9)
        )));
    }
    Ok(())
}

pub fn rpc_err(e: impl std::fmt::Display) -> CliError {
    CliError::Sdk(gpu_escrow_sdk::SdkError::Rpc(e.to_string()))
}

pub fn me(signer: &Keypair) -> Pubkey {
    signer.pubkey()
}
