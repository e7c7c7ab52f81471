pub mod dispute_open;
pub mod dispute_resolve;
pub mod dispute_resolve_expired;

pub use dispute_open::*;
