pub mod deliver_owed;
pub mod finalize;
pub mod rental_stop;
pub mod settle_accounts;
pub mod withdraw_owed;

pub use deliver_owed::*;
pub use settle_accounts::*;
pub use withdraw_owed::*;
