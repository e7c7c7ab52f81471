//! Quotes, computed by the program's own settlement module (never re-implemented here).
pub use gpu_escrow::math::{
    cost_of_seconds, deposit_for_seconds, quote_deposit, quote_seconds, seconds_for_deposit, Fee, MathError, Meter,
    Quote, Settlement,
};

use gpu_escrow::instructions::RentalTerms;
use gpu_escrow::state::{Config, Listing, Rental, RentalState};

/// The terms a renter is quoted on `listing` under `config`; `open_rental` carries them and
/// fails with `TermsChanged` if any changed before it landed.
pub fn terms(listing: &Listing, config: &Config) -> RentalTerms {
    RentalTerms {
        price_per_hour: listing.price_per_hour,
        heartbeat_interval_secs: listing.heartbeat_interval_secs,
        fee_bps: config.fee_bps,
        activation_timeout_secs: config.activation_timeout_secs,
        dispute_timeout_secs: config.dispute_timeout_secs,
        max_rental_secs: listing.max_rental_secs,
    }
}

/// A rental's meter read at a moment: what is earned, claimable and refundable now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RentalReading {
    pub at: i64,
    pub billable_seconds: u64,
    pub earned: u64,
    /// Provider share not yet claimed.
    pub claimable_provider: u64,
    /// Fee not yet paid to the treasury.
    pub claimable_fee: u64,
    /// What the renter would get back if the rental ended now.
    pub refundable: u64,
    pub remaining_seconds: u64,
}

/// Reads the meter of a rental at time `t` (unix seconds), using the on-chain formulas.
pub fn read_rental(r: &Rental, t: i64) -> Result<RentalReading, MathError> {
    let m = r.meter();
    match r.state {
        RentalState::Active => {
            let s = m.settle_at(t)?;
            Ok(RentalReading {
                at: t,
                billable_seconds: s.billable_seconds,
                earned: s.earned,
                claimable_provider: s.provider_delta,
                claimable_fee: s.fee_delta,
                refundable: s.refund,
                remaining_seconds: m.remaining_seconds(t),
            })
        }
        RentalState::Funded => Ok(RentalReading {
            at: t,
            billable_seconds: 0,
            earned: 0,
            claimable_provider: 0,
            claimable_fee: 0,
            refundable: r.deposited,
            remaining_seconds: seconds_for_deposit(r.deposited, r.price_per_hour)?,
        }),
        // Ended or frozen: the figures are the recorded totals.
        _ => Ok(RentalReading {
            at: t,
            billable_seconds: r.billed_seconds,
            earned: r.provider_paid + r.fee_paid + if r.state == RentalState::Disputed { r.dispute_locked } else { 0 },
            claimable_provider: 0,
            claimable_fee: 0,
            refundable: 0,
            remaining_seconds: 0,
        }),
    }
}
