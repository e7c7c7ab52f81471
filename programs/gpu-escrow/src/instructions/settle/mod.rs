pub mod finalize;
pub mod rental_stop;
pub mod settle_accounts;

pub use settle_accounts::*;
