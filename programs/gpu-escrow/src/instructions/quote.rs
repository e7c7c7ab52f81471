use anchor_lang::prelude::*;

use crate::math;

/// A read-only price quote computed by the on-chain settlement math; clients simulate it.
/// It also lets tests prove the deployed binary's 128-bit arithmetic against the host's.
#[derive(Accounts)]
pub struct GetQuote {}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteResult {
    pub seconds: u64,
    pub deposit: u64,
    pub provider: u64,
    pub fee: u64,
}

impl From<math::Quote> for QuoteResult {
    fn from(q: math::Quote) -> Self {
        Self { seconds: q.seconds, deposit: q.deposit, provider: q.provider, fee: q.fee }
    }
}

/// How the renter sizes a rental: by duration or by deposit.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuoteBy {
    Seconds(u64),
    Deposit(u64),
}

impl GetQuote {
    pub fn handle(price_per_hour: u64, by: QuoteBy, fee_bps: u16) -> Result<QuoteResult> {
        let q = match by {
            QuoteBy::Seconds(s) => math::quote_seconds(price_per_hour, s, fee_bps)?,
            QuoteBy::Deposit(d) => math::quote_deposit(price_per_hour, d, fee_bps)?,
        };
        Ok(q.into())
    }
}
