/// The rental to act on from [`rental_for`], or return its "already done" report.
macro_rules! ready_or_done {
    ($ready:expr) => {
        match $ready {
            $crate::commands::Ready::Go(found) => *found,
            $crate::commands::Ready::Already(done) => return Ok(done),
        }
    };
}

pub mod access;
pub mod activate;
pub mod admin;
pub mod claim;
pub mod dev;
pub mod dispute;
pub mod heartbeat;
pub mod held;
pub mod listing;
pub mod market;
pub mod program;
pub mod provider;
pub mod receipt;
pub mod rent;
pub mod rental;
pub mod settlement;
pub mod sol;
pub mod status;
pub mod watch;

use gpu_escrow_sdk::accounts::{state_name, Rental, RentalState};
use gpu_escrow_sdk::client::Sent;
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
    /// From on-chain metadata or the known mints; `None` when neither names it.
    pub symbol: Option<String>,
    /// What amounts are shown with: the symbol, else `tok:` and the mint's first characters.
    pub label: String,
    pub program: Pubkey,
}

impl Token {
    pub async fn load(ctx: &Context, mint: &Pubkey) -> Result<Self, CliError> {
        let info = ctx.client.mint_info(mint).await?;
        let text = mint.to_string();
        Ok(Token {
            mint: *mint,
            decimals: info.decimals,
            symbol: amount::token_symbol(&text, info.symbol.as_deref()),
            label: amount::token_label(&text, info.symbol.as_deref()),
            program: info.token_program,
        })
    }

    /// Wrapped SOL, which renters pay from their SOL and payees get back as SOL.
    pub fn is_sol(&self) -> bool {
        self.mint == gpu_escrow_sdk::ix::NATIVE_MINT
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

/// A rental a command can act on, or one already where the command would leave it.
pub enum Ready {
    Go(Box<(RentalKeys, Rental)>),
    /// Nothing to send: reported as success, so re-running a command whose transaction
    /// landed unconfirmed (or that someone else's transaction finished) is safe.
    Already(Output),
}

/// As [`rental_in`], except that a rental already in one of `leaves` (the states `action`
/// ends in) is reported as done instead of refused.
pub async fn rental_for(
    ctx: &Context,
    text: &str,
    action: &str,
    allowed: &[RentalState],
    leaves: &[RentalState],
) -> Result<Ready, CliError> {
    let (keys, r) = rental_in(ctx, text, &[]).await?;
    if leaves.contains(&r.state) {
        let state = state_name(r.state);
        return Ok(Ready::Already(Output::new(
            json!({ "action": action, "rental": keys.rental.to_string(), "state": state, "already_done": true }),
            format!("{action}: rental {} is already {state}; nothing was sent", keys.rental),
        )));
    }
    let (keys, r) = check_state(keys, r, allowed)?;
    Ok(Ready::Go(Box::new((keys, r))))
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
    check_state(keys, r, allowed)
}

fn check_state(keys: RentalKeys, r: Rental, allowed: &[RentalState]) -> Result<(RentalKeys, Rental), CliError> {
    if !allowed.is_empty() && !allowed.contains(&r.state) {
        let want: Vec<&str> = allowed.iter().map(|s| state_name(*s)).collect();
        return Err(CliError::Refused(format!(
            "rental {} is {}; this command needs it to be {}",
            keys.rental,
            state_name(r.state),
            want.join(" or ")
        )));
    }
    Ok((keys, r))
}

/// Sends and reports one transaction as a standard output.
/// Sends one transaction (compute limit from simulation, the chosen priority fee).
pub async fn send(ctx: &Context, ixs: &[Instruction], signer: &Keypair) -> Result<Sent, CliError> {
    Ok(ctx.client.send_tx(ixs, signer, &[], |_, _| {}).await?)
}

/// A transaction that landed: its signature and, when we sent it, what it cost.
pub trait Landed: std::fmt::Display {
    fn fee_lamports(&self) -> Option<u64>;
}

impl Landed for Signature {
    fn fee_lamports(&self) -> Option<u64> {
        None
    }
}

impl Landed for Sent {
    fn fee_lamports(&self) -> Option<u64> {
        Some(self.fee_lamports)
    }
}

pub fn done(action: &str, sig: &impl Landed, mut fields: serde_json::Value, human_extra: &str) -> Output {
    fields["signature"] = json!(sig.to_string());
    fields["action"] = json!(action);
    let mut human = format!("{action}: ok\nsignature: {sig}");
    if let Some(fee) = sig.fee_lamports() {
        fields["fee_lamports"] = json!(fee);
        human.push_str(&format!("\nfee:       {fee} lamports ({} SOL)", amount::format(fee, 9)));
    }
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
    let need = lamports + ctx.fee_allowance();
    let have = ctx.client.rpc().get_balance(payer).await.map_err(rpc_err(ctx))?;
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

/// Maps an RPC client error, naming the cluster when it cannot be reached.
pub fn rpc_err(ctx: &Context) -> impl Fn(solana_rpc_client_api::client_error::Error) -> CliError + '_ {
    |e| CliError::Sdk(ctx.client.rpc_err(e))
}

/// Lamports an account of `len` bytes must hold to be rent-exempt (returned when closed).
pub async fn rent_exempt(ctx: &Context, len: usize) -> Result<u64, CliError> {
    ctx.client.rpc().get_minimum_balance_for_rent_exemption(len).await.map_err(rpc_err(ctx))
}

pub fn me(signer: &Keypair) -> Pubkey {
    signer.pubkey()
}
