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
    Delivered(OwedDelivered),
    Rated(RentalRated),
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
            EscrowEvent::Delivered(e) => e.rental,
            EscrowEvent::Rated(e) => e.rental,
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
    try_event!(OwedDelivered, Delivered);
    try_event!(RentalRated, Rated);
    try_event!(RentalClosed, Closed);
    None
}

/// Rental events in a transaction's log lines (`Program data: <base64>`), in order: only
/// those this program emitted. Any program can print our event layout, so each data line is
/// attributed to the program whose frame it stands in, followed through the runtime's
/// `Program <id> invoke [n]` and `Program <id> success|failed` lines; a line in another
/// program's frame (or after the runtime truncated the logs, where frames can no longer be
/// followed) is not ours.
pub fn parse_logs(logs: &[String]) -> Vec<EscrowEvent> {
    let ours = crate::PROGRAM_ID.to_string();
    let mut frames: Vec<&str> = Vec::new();
    let mut events = Vec::new();
    for line in logs {
        if line.starts_with("Log truncated") {
            break;
        }
        let Some(rest) = line.strip_prefix("Program ") else { continue };
        if let Some(b64) = rest.strip_prefix("data: ") {
            if frames.last() == Some(&ours.as_str()) {
                let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok();
                events.extend(bytes.and_then(|b| parse_one(&b)));
            }
            continue;
        }
        let mut words = rest.split_whitespace();
        match (words.next(), words.next()) {
            (Some(id), Some("invoke")) => frames.push(id),
            (Some(_), Some("success" | "failed:")) => {
                frames.pop();
            }
            _ => {}
        }
    }
    events
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
            EscrowEvent::Withdrawn(e) => {
                self.swept += e.surplus;
                self.held = e.provider_owed + e.fee_owed + e.renter_owed;
            }
            EscrowEvent::Delivered(e) => {
                self.swept += e.surplus;
                self.held = e.provider_owed + e.fee_owed + e.renter_owed;
            }
            EscrowEvent::Rated(e) => self.rating = Some(e.rating),
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
                self.swept = e.swept;
                if e.rating > 0 {
                    self.rating = Some(e.rating);
                }
                self.state = format!("{} (closed)", if e.settled { "Settled" } else { "Cancelled" });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_line(e: &impl anchor_lang::Event) -> String {
        format!("Program data: {}", base64::engine::general_purpose::STANDARD.encode(e.data()))
    }

    #[test]
    fn data_lines_count_only_in_this_programs_frames() {
        let ours = crate::PROGRAM_ID.to_string();
        let token = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
        let other = "F1oorGpuEscrowBench1111111111111111111111111";
        let e = RentalCancelled {
            rental: Pubkey::new_unique(),
            by: Pubkey::new_unique(),
            refunded: 5,
            declined: false,
            no_show: false,
            swept: 0,
            renter_owed: 0,
        };
        let logs: Vec<String> = vec![
            format!("Program {other} invoke [1]"),
            data_line(&e),
            format!("Program {other} success"),
            format!("Program {ours} invoke [1]"),
            format!("Program {token} invoke [2]"),
            data_line(&e),
            format!("Program {token} success"),
            data_line(&e),
            format!("Program {other} invoke [2]"),
            data_line(&e),
            format!("Program {other} failed: custom program error: 0x1"),
            format!("Program {ours} consumed 100 of 200000 compute units"),
            format!("Program {ours} success"),
            data_line(&e),
            "Log truncated".into(),
        ];
        let found = parse_logs(&logs);
        assert_eq!(found.len(), 1, "one line stands in this program's own frame");
        assert_eq!(found[0].rental(), e.rental);
    }
}
