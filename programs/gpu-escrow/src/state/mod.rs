pub mod accepted_mint;
pub mod access;
pub mod config;
pub mod listing;
pub mod provider;
pub mod rental;

pub use accepted_mint::*;
pub use access::*;
pub use config::*;
pub use listing::*;
pub use provider::*;
pub use rental::*;
