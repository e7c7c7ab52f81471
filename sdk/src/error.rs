//! One error type for the SDK. Program rejections (with the program's own error name and
//! message) are kept apart from RPC and transport failures.
use std::sync::OnceLock;

use anchor_lang::prelude::Pubkey;
use solana_transaction_error::TransactionError;

/// The program's errors, read from the committed IDL so codes, names and messages have one
/// source: the program's `errors.rs`.
const IDL_JSON: &str = include_str!("../../idls/gpu_escrow.json");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramErrorInfo {
    pub code: u32,
    pub name: String,
    pub message: String,
}

fn program_errors() -> &'static [ProgramErrorInfo] {
    static TABLE: OnceLock<Vec<ProgramErrorInfo>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let idl: serde_json::Value = serde_json::from_str(IDL_JSON).expect("committed IDL is valid JSON");
        idl["errors"]
            .as_array()
            .map(|errs| {
                errs.iter()
                    .map(|e| ProgramErrorInfo {
                        code: e["code"].as_u64().unwrap_or_default() as u32,
                        name: e["name"].as_str().unwrap_or_default().to_string(),
                        message: e["msg"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Anchor's own constraint errors that users most often meet, in plain words.
fn anchor_error(code: u32) -> Option<(&'static str, &'static str)> {
    Some(match code {
        2000 => ("ConstraintMut", "an account that must be writable was not"),
        2001 => ("ConstraintHasOne", "an account does not belong to this rental or listing"),
        2003 => ("ConstraintRaw", "an account constraint was violated"),
        2006 => ("ConstraintSeeds", "an account address does not match its expected PDA"),
        2012 => ("ConstraintAddress", "an account address is not the expected one"),
        2014 => ("ConstraintTokenMint", "a token account has the wrong mint"),
        2015 => ("ConstraintTokenOwner", "a token account belongs to the wrong wallet"),
        2021 => ("ConstraintTokenTokenProgram", "a token account belongs to a different token program"),
        2022 => ("ConstraintMintTokenProgram", "the mint belongs to a different token program"),
        2040 => ("ConstraintDuplicateMutableAccount", "the same account was passed twice where two are needed"),
        3001 => ("AccountDiscriminatorNotFound", "an account is not a gpu-escrow account"),
        3002 => ("AccountDiscriminatorMismatch", "an account has the wrong type"),
        3007 => ("AccountOwnedByWrongProgram", "an account is owned by the wrong program"),
        3012 => ("AccountNotInitialized", "a required account does not exist (not created yet, or already closed)"),
        3010 => ("AccountNotSigner", "a required signature is missing"),
        _ => return None,
    })
}

pub fn lookup_program_error(code: u32) -> Option<ProgramErrorInfo> {
    if let Some(e) = program_errors().iter().find(|e| e.code == code) {
        return Some(e.clone());
    }
    anchor_error(code).map(|(name, msg)| ProgramErrorInfo { code, name: name.into(), message: msg.into() })
}

#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The program (or a program it called) rejected the transaction; nothing was changed.
    #[error("rejected by the program: {message} ({name}, code {code})")]
    Program { code: u32, name: String, message: String, logs: Vec<String> },

    /// The transaction failed for a reason other than a program error (e.g. fees, accounts).
    #[error("transaction failed: {reason}")]
    Transaction { reason: String, logs: Vec<String> },

    #[error("the fee payer {payer} has {have} lamports of SOL, not enough for network fees and rent; fund it with at least {need} lamports")]
    InsufficientSol { payer: Pubkey, have: u64, need: u64 },

    #[error("the gpu-escrow program {program_id} is not deployed on the cluster at {url}")]
    ProgramNotDeployed { program_id: Pubkey, url: String },

    #[error("the gpu-escrow config is not initialised on the cluster at {url}; run `gpu-escrow config init` first")]
    ConfigMissing { url: String },

    #[error("{what} {address} was not found on the cluster")]
    AccountNotFound { what: &'static str, address: Pubkey },

    #[error("could not decode account: {0}")]
    Decode(String),

    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The RPC node could not be reached or did not answer as one (connection refused, DNS,
    /// timeout, HTTP error status): nothing is known about the cluster's accounts.
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },

    /// The node answered with an error; the transaction may or may not have been sent.
    #[error("RPC error: {0}")]
    Rpc(String),

    #[error("the transaction did not confirm before its blockhash expired after {attempts} attempts")]
    Expired { attempts: u32 },

    /// The transaction went out (or may have) but the node stopped answering before it
    /// confirmed: it may or may not have landed. Check `signature` before sending again.
    #[error("sent transaction {signature} to {url}, but could not confirm it: {cause}; it may or may not have landed")]
    Unconfirmed { url: String, signature: solana_signature::Signature, cause: String },
}

pub type SdkResult<T> = Result<T, SdkError>;

impl SdkError {
    /// Maps a failed transaction's error into a program error where one applies.
    pub fn from_transaction_error(err: &TransactionError, logs: Vec<String>) -> Self {
        use solana_instruction_error::InstructionError;
        if let TransactionError::InstructionError(_, InstructionError::Custom(code)) = err {
            if let Some(info) = lookup_program_error(*code) {
                return SdkError::Program { code: *code, name: info.name, message: info.message, logs };
            }
            // System program: "account already in use" is 0 for CreateAccount.
            if *code == 0 && logs.iter().any(|l| l.contains("already in use")) {
                return SdkError::Program {
                    code: 0,
                    name: "AccountAlreadyExists".into(),
                    message:
                        "the account already exists (this rental id was used, or the transaction was already processed)"
                            .into(),
                    logs,
                };
            }
            if logs.iter().any(|l| l.contains("insufficient funds")) {
                return SdkError::Program {
                    code: *code,
                    name: "InsufficientTokens".into(),
                    message: "the token account does not hold enough tokens".into(),
                    logs,
                };
            }
        }
        SdkError::Transaction { reason: err.to_string(), logs }
    }

    /// Classifies an RPC client error: network, DNS, timeout and HTTP failures become
    /// [`SdkError::Unreachable`] (naming `url`), so they are never mistaken for a missing
    /// account or program; answers from the node stay [`SdkError::Rpc`].
    pub fn from_client_error(url: &str, e: &solana_rpc_client_api::client_error::Error) -> Self {
        use solana_rpc_client_api::client_error::ErrorKind;
        let cause = match e.kind() {
            ErrorKind::Reqwest(r) if r.is_status() => match r.status() {
                Some(s) => format!("the server answered HTTP {s}"),
                None => deepest_cause(r),
            },
            ErrorKind::Reqwest(r) if r.is_timeout() => "no answer before the timeout".into(),
            ErrorKind::Reqwest(r) if r.is_decode() => {
                format!("the server answered, but not as a Solana JSON-RPC node ({})", deepest_cause(r))
            }
            ErrorKind::Reqwest(r) => deepest_cause(r),
            ErrorKind::Io(io) => io.to_string(),
            ErrorKind::Middleware(m) => m.to_string(),
            _ => return SdkError::Rpc(e.to_string()),
        };
        SdkError::Unreachable { url: url.to_string(), cause }
    }

    /// The program error name, if the program rejected the transaction.
    pub fn program_error_name(&self) -> Option<&str> {
        match self {
            SdkError::Program { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// The innermost message of an error chain ("Connection refused (os error 111)", "failed
/// to lookup address information: ..."), which says more than reqwest's "error sending
/// request for url (...)".
fn deepest_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_errors_come_from_the_idl() {
        let first = lookup_program_error(6000).expect("6000 is the first program error");
        assert_eq!(first.name, "NotAdmin");
        let paused = program_errors().iter().find(|e| e.name == "MarketPaused").unwrap();
        assert!(paused.message.contains("paused"));
        let e = SdkError::from_transaction_error(
            &TransactionError::InstructionError(0, solana_instruction_error::InstructionError::Custom(paused.code)),
            vec![],
        );
        assert_eq!(e.program_error_name(), Some("MarketPaused"));
    }

    #[test]
    fn transport_failures_name_the_url_and_node_answers_stay_rpc_errors() {
        use solana_rpc_client_api::client_error::{Error, ErrorKind};
        let refused = Error::from(ErrorKind::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)));
        let e = SdkError::from_client_error("http://127.0.0.1:1", &refused);
        assert!(matches!(e, SdkError::Unreachable { .. }), "{e:?}");
        assert!(e.to_string().starts_with("cannot reach http://127.0.0.1:1: "), "{e}");
        let answer = Error::from(ErrorKind::Custom("node is behind".into()));
        assert!(matches!(SdkError::from_client_error("http://x", &answer), SdkError::Rpc(_)));
    }
}
