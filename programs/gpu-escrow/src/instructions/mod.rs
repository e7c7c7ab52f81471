pub mod admin;
pub mod dispute;
pub mod quote;
pub mod provider;
pub mod renter;
pub mod settle;

pub use admin::*;
pub use dispute::*;
pub use quote::*;
pub use provider::*;
pub use renter::*;
pub use settle::*;

use anchor_lang::prelude::*;

pub(crate) fn now() -> Result<i64> {
    Ok(Clock::get()?.unix_timestamp)
}
