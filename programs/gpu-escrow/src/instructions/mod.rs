pub mod admin;
pub mod dispute;
pub mod provider;
pub mod quote;
pub mod renter;
pub mod settle;

pub use admin::*;
pub use dispute::*;
pub use provider::*;
pub use quote::*;
pub use renter::*;
pub use settle::*;

use anchor_lang::prelude::*;

pub(crate) fn now() -> Result<i64> {
    Ok(Clock::get()?.unix_timestamp)
}
