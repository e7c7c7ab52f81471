use gpu_escrow_sdk::SdkError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or files: nothing was sent.
    #[error("{0}")]
    Input(String),
    /// A check before sending failed (balances, states): nothing was sent.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Sdk(#[from] SdkError),
}
