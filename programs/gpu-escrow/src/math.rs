//! Settlement arithmetic: the only place in the project that computes money.
//!
//! Pure, integer, checked, and free of Anchor types so the SDK's quotes and the host
//! property tests run exactly this code. Every amount is derived from cumulative totals
//! (never by adding rounded increments), so any sequence of claims converges on the same
//! figures as one final settlement.

pub const SECONDS_PER_HOUR: u64 = 3_600;
pub const BPS_DENOMINATOR: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathError {
    /// A result does not fit its type (u64 amounts, i64 timestamps).
    Overflow,
    /// A price of zero would make every duration free and every deposit infinite.
    ZeroPrice,
    /// Recorded payouts exceed what the totals allow: the ledger is inconsistent.
    LedgerInconsistent,
    /// A fee above 10 000 bps (100 %) would take more than the amount it is taken from.
    InvalidFee,
}

pub type MathResult<T> = Result<T, MathError>;

/// A fee expressed in basis points of an amount (1 bp = 0.01 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fee {
    pub basis_points: u16,
}

impl Fee {
    pub const fn new(basis_points: u16) -> Self {
        Self { basis_points }
    }

    /// floor(amount × bps / 10 000). Never exceeds `amount` for bps ≤ 10 000.
    pub fn of(&self, amount: u64) -> MathResult<u64> {
        let fee = (amount as u128).checked_mul(self.basis_points as u128).ok_or(MathError::Overflow)?
            / BPS_DENOMINATOR as u128;
        u64::try_from(fee).map_err(|_| MathError::Overflow)
    }

    /// Splits a gross amount into (provider's share, platform fee).
    pub fn split(&self, gross: u64) -> MathResult<Split> {
        if self.basis_points as u64 > BPS_DENOMINATOR {
            return Err(MathError::InvalidFee);
        }
        let fee = self.of(gross)?;
        Ok(Split { provider: gross - fee, fee })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Split {
    pub provider: u64,
    pub fee: u64,
}

/// floor(price_per_hour × seconds / 3600): what `seconds` of use cost.
pub fn cost_of_seconds(price_per_hour: u64, seconds: u64) -> MathResult<u64> {
    let cost = (price_per_hour as u128) * (seconds as u128) / SECONDS_PER_HOUR as u128;
    u64::try_from(cost).map_err(|_| MathError::Overflow)
}

/// floor(deposit × 3600 / price_per_hour): how many whole seconds a deposit buys.
pub fn seconds_for_deposit(deposit: u64, price_per_hour: u64) -> MathResult<u64> {
    if price_per_hour == 0 {
        return Err(MathError::ZeroPrice);
    }
    let secs = (deposit as u128) * (SECONDS_PER_HOUR as u128) / price_per_hour as u128;
    u64::try_from(secs).map_err(|_| MathError::Overflow)
}

/// Deposit needed for `seconds` of use, rounded up so the deposit buys at least that long.
pub fn deposit_for_seconds(price_per_hour: u64, seconds: u64) -> MathResult<u64> {
    let num = (price_per_hour as u128) * (seconds as u128);
    let deposit = num.div_ceil(SECONDS_PER_HOUR as u128);
    u64::try_from(deposit).map_err(|_| MathError::Overflow)
}

/// end_at = activated_at + floor(deposited × 3600 / price): the paid-through time.
pub fn end_at(activated_at: i64, deposited: u64, price_per_hour: u64) -> MathResult<i64> {
    let secs = seconds_for_deposit(deposited, price_per_hour)?;
    let secs = i64::try_from(secs).map_err(|_| MathError::Overflow)?;
    activated_at.checked_add(secs).ok_or(MathError::Overflow)
}

/// Everything the settlement rules need to know about one rental, snapshotted at open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meter {
    pub price_per_hour: u64,
    pub fee_bps: u16,
    pub deposited: u64,
    pub provider_paid: u64,
    pub fee_paid: u64,
    pub refunded: u64,
    pub activated_at: i64,
    pub end_at: i64,
    pub last_heartbeat: i64,
    /// 0 means the listing has no heartbeat SLA.
    pub heartbeat_interval_secs: u32,
}

/// What settling at a moment moves, each figure a delta against what was already paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settlement {
    pub billable_seconds: u64,
    /// Gross amount earned since activation (cumulative, fee included).
    pub earned: u64,
    pub provider_delta: u64,
    pub fee_delta: u64,
    /// What goes back to the renter: everything neither earned nor refunded before.
    pub refund: u64,
}

impl Meter {
    /// The moment billing stops for lack of a heartbeat, if the rental has an SLA.
    pub fn sla_cut(&self) -> Option<i64> {
        (self.heartbeat_interval_secs > 0)
            .then(|| self.last_heartbeat.saturating_add(self.heartbeat_interval_secs as i64))
    }

    /// The moment after which no more seconds can be billed.
    pub fn billing_stops_at(&self) -> i64 {
        match self.sla_cut() {
            Some(cut) => cut.min(self.end_at),
            None => self.end_at,
        }
    }

    /// min(t, end_at, sla_cut) − activated_at, never negative.
    pub fn billable_seconds(&self, t: i64) -> u64 {
        let stop = t.min(self.billing_stops_at());
        if stop <= self.activated_at {
            0
        } else {
            // stop > activated_at, so the difference is positive and fits in u64.
            (stop as i128 - self.activated_at as i128) as u64
        }
    }

    /// min(deposited, floor(price × billable / 3600)) at time `t`.
    pub fn earned_at(&self, t: i64) -> MathResult<u64> {
        let cost = cost_of_seconds(self.price_per_hour, self.billable_seconds(t))?;
        Ok(cost.min(self.deposited))
    }

    fn fee(&self) -> Fee {
        Fee::new(self.fee_bps)
    }

    /// The provider's share and fee still owed for `earned` gross, given what was paid.
    pub fn unpaid(&self, earned: u64) -> MathResult<Split> {
        let due = self.fee().split(earned)?;
        Ok(Split {
            provider: due.provider.checked_sub(self.provider_paid).ok_or(MathError::LedgerInconsistent)?,
            fee: due.fee.checked_sub(self.fee_paid).ok_or(MathError::LedgerInconsistent)?,
        })
    }

    /// A claim at `t`: pays earned-to-date less what was already paid; refunds nothing.
    pub fn claim_at(&self, t: i64) -> MathResult<Settlement> {
        let earned = self.earned_at(t)?;
        let unpaid = self.unpaid(earned)?;
        Ok(Settlement {
            billable_seconds: self.billable_seconds(t),
            earned,
            provider_delta: unpaid.provider,
            fee_delta: unpaid.fee,
            refund: 0,
        })
    }

    /// A final settlement at `t`: pays what is earned and refunds the rest.
    pub fn settle_at(&self, t: i64) -> MathResult<Settlement> {
        let claim = self.claim_at(t)?;
        let refund = self
            .deposited
            .checked_sub(claim.earned)
            .and_then(|r| r.checked_sub(self.refunded))
            .ok_or(MathError::LedgerInconsistent)?;
        Ok(Settlement { refund, ..claim })
    }

    /// Earned but not yet paid out at `t`: what a dispute freezes.
    pub fn locked_at(&self, t: i64) -> MathResult<u64> {
        let earned = self.earned_at(t)?;
        earned
            .checked_sub(self.provider_paid)
            .and_then(|l| l.checked_sub(self.fee_paid))
            .ok_or(MathError::LedgerInconsistent)
    }

    /// Still held for the renter at `t` if the rental were stopped now.
    pub fn refundable_at(&self, t: i64) -> MathResult<u64> {
        Ok(self.settle_at(t)?.refund)
    }

    /// An arbiter's award out of a dispute's `locked` sum: `provider_amount` is added to the
    /// provider side's gross and the fee is taken on the cumulative total, exactly as a stop
    /// would; the rest of `locked` goes back to the renter.
    pub fn award(&self, locked: u64, provider_amount: u64, billable_seconds: u64) -> MathResult<Settlement> {
        let refund = locked.checked_sub(provider_amount).ok_or(MathError::Overflow)?;
        let earned = self
            .provider_paid
            .checked_add(self.fee_paid)
            .and_then(|e| e.checked_add(provider_amount))
            .ok_or(MathError::Overflow)?;
        let unpaid = self.unpaid(earned)?;
        Ok(Settlement { billable_seconds, earned, provider_delta: unpaid.provider, fee_delta: unpaid.fee, refund })
    }

    /// Seconds of paid time left at `t` (0 once billing has stopped).
    pub fn remaining_seconds(&self, t: i64) -> u64 {
        let stop = self.billing_stops_at();
        if t >= stop {
            0
        } else {
            (stop as i128 - t.max(self.activated_at) as i128) as u64
        }
    }
}

/// Renter's quote for `seconds` of use: the deposit, and how it splits if fully used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quote {
    pub seconds: u64,
    pub deposit: u64,
    pub provider: u64,
    pub fee: u64,
}

pub fn quote_seconds(price_per_hour: u64, seconds: u64, fee_bps: u16) -> MathResult<Quote> {
    if price_per_hour == 0 {
        return Err(MathError::ZeroPrice);
    }
    let deposit = deposit_for_seconds(price_per_hour, seconds)?;
    // The deposit may buy a little more than asked because of rounding up.
    let bought = seconds_for_deposit(deposit, price_per_hour)?;
    let gross = cost_of_seconds(price_per_hour, bought)?.min(deposit);
    let split = Fee::new(fee_bps).split(gross)?;
    Ok(Quote { seconds: bought, deposit, provider: split.provider, fee: split.fee })
}

pub fn quote_deposit(price_per_hour: u64, deposit: u64, fee_bps: u16) -> MathResult<Quote> {
    let seconds = seconds_for_deposit(deposit, price_per_hour)?;
    let gross = cost_of_seconds(price_per_hour, seconds)?.min(deposit);
    let split = Fee::new(fee_bps).split(gross)?;
    Ok(Quote { seconds, deposit, provider: split.provider, fee: split.fee })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(price: u64, deposited: u64, fee_bps: u16) -> Meter {
        Meter {
            price_per_hour: price,
            fee_bps,
            deposited,
            activated_at: 1_000,
            end_at: end_at(1_000, deposited, price).unwrap(),
            last_heartbeat: 1_000,
            ..Default::default()
        }
    }

    #[test]
    fn fee_rounds_down_and_never_exceeds_amount() {
        let f = Fee::new(250);
        assert_eq!(f.of(0).unwrap(), 0);
        assert_eq!(f.of(39).unwrap(), 0);
        assert_eq!(f.of(40).unwrap(), 1);
        assert_eq!(f.of(u64::MAX).unwrap(), (u64::MAX as u128 * 250 / 10_000) as u64);
        let s = Fee::new(10_000).split(77).unwrap();
        assert_eq!((s.provider, s.fee), (0, 77));
    }

    #[test]
    fn end_at_uses_floor_of_deposit_seconds() {
        assert_eq!(end_at(0, 1_000_000, 600_000).unwrap(), 6_000);
        assert_eq!(end_at(0, 7, 3_601).unwrap(), 6);
        assert_eq!(end_at(0, 1, 1).unwrap(), 3_600);
        assert_eq!(seconds_for_deposit(5, 0), Err(MathError::ZeroPrice));
        assert_eq!(end_at(i64::MAX - 10, 1, 1), Err(MathError::Overflow));
    }

    #[test]
    fn billing_starts_at_activation_and_stops_at_end() {
        let m = meter(3_600, 100, 0); // 1 unit per second, 100 s paid
        assert_eq!(m.end_at, 1_100);
        assert_eq!(m.billable_seconds(500), 0);
        assert_eq!(m.billable_seconds(1_040), 40);
        assert_eq!(m.billable_seconds(5_000), 100);
        assert_eq!(m.earned_at(5_000).unwrap(), 100);
        assert_eq!(m.remaining_seconds(1_040), 60);
        assert_eq!(m.remaining_seconds(1_200), 0);
    }

    #[test]
    fn sla_cut_stops_billing_after_missed_heartbeat() {
        let mut m = meter(3_600, 1_000, 0);
        m.heartbeat_interval_secs = 60;
        m.last_heartbeat = 1_100;
        assert_eq!(m.billing_stops_at(), 1_160);
        assert_eq!(m.billable_seconds(2_000), 160);
    }

    #[test]
    fn many_small_claims_equal_one_big_claim() {
        let base = meter(1_234_567, 9_876_543, 137);
        let end = base.end_at;
        let mut m = base;
        let mut t = base.activated_at;
        while t < end + 10 {
            t += 7;
            let c = m.claim_at(t).unwrap();
            m.provider_paid += c.provider_delta;
            m.fee_paid += c.fee_delta;
        }
        let fin = m.settle_at(t).unwrap();
        let one = base.settle_at(t).unwrap();
        assert_eq!(m.provider_paid + fin.provider_delta, one.provider_delta);
        assert_eq!(m.fee_paid + fin.fee_delta, one.fee_delta);
        assert_eq!(fin.refund, one.refund);
        assert_eq!(one.provider_delta + one.fee_delta + one.refund, base.deposited);
    }

    #[test]
    fn extreme_values_neither_overflow_nor_leak() {
        // 1 base unit per hour with a large deposit: end_at stays representable.
        let m = meter(1, 1_000_000_000, 3_000);
        let s = m.settle_at(i64::MAX).unwrap();
        assert_eq!(s.earned, 1_000_000_000);
        assert_eq!(s.provider_delta + s.fee_delta + s.refund, m.deposited);
        // u64::MAX deposit at u64::MAX per hour: exactly one hour.
        let m = meter(u64::MAX, u64::MAX, 3_000);
        assert_eq!(m.end_at - m.activated_at, 3_600);
        let half = m.settle_at(m.activated_at + 1_800).unwrap();
        assert_eq!(half.earned, u64::MAX / 2);
        assert_eq!(half.provider_delta + half.fee_delta + half.refund, u64::MAX);
        // u64::MAX deposit at 1 per hour would run past i64 time: reported, not wrapped.
        assert_eq!(end_at(0, u64::MAX, 1), Err(MathError::Overflow));
    }

    #[test]
    fn dispute_award_takes_the_fee_on_the_cumulative_total() {
        let mut m = meter(3_600, 10_000, 500);
        m.provider_paid = 95; // a claim of 100 gross: 95 + fee 5
        m.fee_paid = 5;
        let a = m.award(1_000, 600, 700).unwrap();
        // Cumulative gross 700: fee 35 in all, 30 of it still due; provider 665 in all.
        assert_eq!((a.provider_delta, a.fee_delta, a.refund, a.earned), (570, 30, 400, 700));
        assert_eq!(m.award(10, 11, 0), Err(MathError::Overflow));
    }

    #[test]
    fn an_expired_dispute_pays_exactly_what_a_stop_at_that_moment_would() {
        // Fee 137 bps on awkward amounts: awarding each slice separately would round twice.
        let base = meter(1_234_567, 9_876_543, 137);
        for (claim_at, dispute_at) in [(1_000 + 7, 1_000 + 13), (1_000 + 101, 1_000 + 3_333), (1_000, 1_000 + 1)] {
            let mut m = base;
            let c = m.claim_at(claim_at).unwrap();
            m.provider_paid += c.provider_delta;
            m.fee_paid += c.fee_delta;
            let stop = m.settle_at(dispute_at).unwrap();
            let locked = m.locked_at(dispute_at).unwrap();
            let award = m.award(locked, locked, stop.billable_seconds).unwrap();
            assert_eq!((award.provider_delta, award.fee_delta), (stop.provider_delta, stop.fee_delta));
        }
    }

    #[test]
    fn a_fee_above_100_percent_is_an_error_not_a_panic() {
        assert_eq!(Fee::new(10_001).split(100), Err(MathError::InvalidFee));
        assert_eq!(quote_seconds(3_600, 60, u16::MAX), Err(MathError::InvalidFee));
        assert_eq!(Fee::new(10_000).split(100).unwrap(), Split { provider: 0, fee: 100 });
    }

    #[test]
    fn quotes_cover_the_requested_time() {
        let q = quote_seconds(600_000, 3_600 * 2, 250).unwrap();
        assert_eq!(q.deposit, 1_200_000);
        assert_eq!(q.seconds, 7_200);
        assert_eq!(q.fee, 30_000);
        assert_eq!(q.provider, 1_170_000);
        let q = quote_seconds(7, 1, 0).unwrap();
        assert_eq!(q.deposit, 1);
        assert!(q.seconds >= 1);
    }
}
