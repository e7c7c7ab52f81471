//! Receipts rebuilt from the program's events, so they survive the rental account's closing:
//! start and end, seconds billed, price, paid to provider, fee, refund, token, and every
//! transaction signature, for expense and tax records.
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;
use gpu_escrow::events::*;

/// One program event decoded from a transaction's logs.
pub enum EscrowEvent {
    Opened(RentalOpened),
    ToppedUp(RentalToppedUp),
    Activated(RentalActivated),
    Cancelled(RentalCancelled),
    Heartbeat(HeartbeatRecorded),
    Claimed(Claimed),
    Settled(RentalSettled),
    Dispute(DisputeOpened),
    Withdrawn(Withdrawn),
    Closed(RentalClosed),
}

impl EscrowEvent {
    pub fn rental(&self) -> Pubkey {
        match self {
            EscrowEvent::Opened(e) => e.rental,
            EscrowEvent::ToppedUp(e) => e.rental,
            EscrowEvent::Activated(e) => e.rental,
            EscrowEvent::Cancelled(e) => e.rental,
            EscrowEvent::Heartbeat(e) => e.rental,
            EscrowEvent::Claimed(e) => e.rental,
            EscrowEvent::Settled(e) => e.rental,
            EscrowEvent::Dispute(e) => e.rental,
            EscrowEvent::Withdrawn(e) => e.rental,
            EscrowEvent::Closed(e) => e.rental,
        }
    }
}

fn parse_one(data: &[u8]) -> Option<EscrowEvent> {
    if data.len() < 8 {
        return None;
    }
    let (disc, mut body) = data.split_at(8);
    macro_rules! try_event {
        ($ty:ty, $variant:ident) => {
            if disc == <$ty>::DISCRIMINATOR {
                return <$ty>::deserialize(&mut body).ok().map(EscrowEvent::$variant);
            }
        };
    }
    try_event!(RentalOpened, Opened);
    try_event!(RentalToppedUp, ToppedUp);
    try_event!(RentalActivated, Activated);
    try_event!(RentalCancelled, Cancelled);
    try_event!(HeartbeatRecorded, Heartbeat);
    try_event!(Claimed, Claimed);
    try_event!(RentalSettled, Settled);
    try_event!(DisputeOpened, Dispute);
    try_event!(Withdrawn, Withdrawn);
    try_event!(RentalClosed, Closed);
    None
}

/// Rental events in a transaction's log lines (`Program data: <base64>`), in order.
pub fn parse_logs(logs: &[String]) -> Vec<EscrowEvent> {
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok())
        .filter_map(|bytes| parse_one(&bytes))
        .collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    pub rental: String,
    pub listing: String,
    pub renter: String,
    pub provider: String,
    pub mint: String,
    pub state: String,
    pub price_per_hour: u64,
    pub fee_bps: u16,
    pub deposited: u64,
    pub opened_at: i64,
    pub activated_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub billed_seconds: u64,
    pub provider_paid: u64,
    pub fee_paid: u64,
    pub refunded: u64,
    pub dispute_locked: u64,
    /// Tokens others sent to the vault, returned to the renter.
    pub swept: u64,
    /// Still held in the vault for payees whose accounts could not receive.
    pub held: u64,
    pub rating: Option<u8>,
    pub signatures: Vec<String>,
}

impl Receipt {
    /// Folds one rental's events (oldest first) into its receipt. The closing event carries
    /// the complete final ledger, so a receipt is right even if other transactions' logs
    /// were truncated (anyone cranking a permissionless instruction could pad them).
    pub fn apply(&mut self, event: &EscrowEvent) {
        match event {
            EscrowEvent::Opened(e) => {
                self.rental = e.rental.to_string();
                self.listing = e.listing.to_string();
                self.renter = e.renter.to_string();
                self.provider = e.provider.to_string();
                self.mint = e.mint.to_string();
                self.price_per_hour = e.price_per_hour;
                self.fee_bps = e.fee_bps;
                self.deposited = e.deposited;
                self.opened_at = e.opened_at;
                self.state = "Funded".into();
            }
            EscrowEvent::ToppedUp(e) => self.deposited = e.deposited,
            EscrowEvent::Activated(e) => {
                self.activated_at = Some(e.activated_at);
                self.state = "Active".into();
            }
            EscrowEvent::Cancelled(e) => {
                self.refunded += e.refunded;
                self.swept += e.swept;
                self.held = e.renter_owed;
                self.state = "Cancelled".into();
            }
            EscrowEvent::Heartbeat(_) => {}
            EscrowEvent::Claimed(e) => {
                self.provider_paid = e.provider_paid;
                self.fee_paid = e.fee_paid;
                self.held = e.provider_owed + e.fee_owed;
            }
            EscrowEvent::Dispute(e) => {
                self.refunded += e.refund_amount;
                self.dispute_locked = e.locked;
                self.ended_at = Some(e.at);
                self.held = e.renter_owed;
                self.state = "Disputed".into();
            }
            EscrowEvent::Settled(e) => {
                self.renter = e.renter.to_string();
                self.provider = e.provider.to_string();
                self.mint = e.mint.to_string();
                self.provider_paid = e.provider_paid;
                self.fee_paid = e.fee_paid;
                self.refunded = e.refunded;
                self.billed_seconds = e.billed_seconds;
                self.ended_at = Some(e.ended_at);
                self.dispute_locked = 0;
                self.swept += e.swept;
                self.held = e.provider_owed + e.fee_owed + e.renter_owed;
                self.state = "Settled".into();
            }
            EscrowEvent::Withdrawn(e) => self.held = self.held.saturating_sub(e.amount),
            EscrowEvent::Closed(e) => {
                self.rental = e.rental.to_string();
                self.listing = e.listing.to_string();
                self.renter = e.renter.to_string();
                self.provider = e.provider.to_string();
                self.mint = e.mint.to_string();
                self.price_per_hour = e.price_per_hour;
                self.fee_bps = e.fee_bps;
                self.deposited = e.deposited;
                self.provider_paid = e.provider_paid;
                self.fee_paid = e.fee_paid;
                self.refunded = e.refunded;
                self.billed_seconds = e.billed_seconds;
                self.opened_at = e.opened_at;
                self.activated_at = (e.activated_at != 0).then_some(e.activated_at);
                self.ended_at = Some(e.ended_at);
                self.dispute_locked = 0;
                self.held = 0;
                self.rating = (e.rating > 0).then_some(e.rating);
                self.state = format!("{} (closed)", if e.settled { "Settled" } else { "Cancelled" });
            }
        }
    }
}
