//! What the agent should do now, decided from the chain (the provider's rentals and the
//! cluster clock) and the journal. Pure: no network, no clock of its own, so every rule is
//! unit-tested here and the loop in `mod.rs` only carries the plan out.
use std::collections::{HashMap, HashSet};

use gpu_escrow_sdk::access::ConnectionDetails;
use gpu_escrow_sdk::accounts::{Rental, RentalState};
use gpu_escrow_sdk::{quote, Pubkey};

use super::journal::{Journal, Phase};

/// A rental closer than this to its activation deadline is declined, not provisioned.
pub const MIN_PROVISION_WINDOW_SECS: i64 = 15;

/// When claims are due: periodically per rental, and/or once the unclaimed share is large.
#[derive(Debug, Clone, Default)]
pub struct ClaimPolicy {
    pub every_secs: Option<u64>,
    /// Base units per mint.
    pub min_units: HashMap<Pubkey, u64>,
}

#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub provision: Vec<Pubkey>,
    pub activate: Vec<(Pubkey, ConnectionDetails)>,
    pub decline: Vec<Pubkey>,
    /// Running rentals the journal does not know (its file was lost): served from now on.
    pub adopt: Vec<Pubkey>,
    pub heartbeat: Vec<Pubkey>,
    pub claim: Vec<Pubkey>,
    pub finalize: Vec<Pubkey>,
    pub resolve_expired: Vec<Pubkey>,
    pub teardown: Vec<(String, &'static str)>,
    pub forget: Vec<String>,
    /// The earliest cluster time at which something else becomes due.
    pub next_due: Option<i64>,
}

/// Heartbeat a third of the way into each SLA interval, so one missed tick never misses the SLA.
pub fn heartbeat_every(interval_secs: u32) -> i64 {
    (interval_secs as i64 / 3).max(1)
}

fn ended_reason(r: Option<&Rental>, now: i64) -> Option<&'static str> {
    let Some(r) = r else { return Some("closed") };
    match r.state {
        RentalState::Settled => Some("settled"),
        RentalState::Cancelled => Some("cancelled"),
        RentalState::Disputed => Some("disputed"),
        RentalState::Active if now >= r.meter().billing_stops_at() => Some("expired"),
        _ => None,
    }
}

pub struct Inputs<'a> {
    pub rentals: &'a [(Pubkey, Rental)],
    pub now: i64,
    pub journal: &'a Journal,
    pub provisioning: &'a HashSet<Pubkey>,
    pub policy: &'a ClaimPolicy,
    pub last_claim: &'a HashMap<Pubkey, i64>,
    /// Claims not yet done since this time count as "every N" overdue from here.
    pub started_at: i64,
    /// Draining (SIGTERM): no new provisioning.
    pub draining: bool,
}

pub fn plan(i: &Inputs) -> Plan {
    let mut p = Plan::default();
    let due = |t: i64, p: &mut Plan| p.next_due = Some(p.next_due.map_or(t, |d: i64| d.min(t)));
    let on_chain: HashMap<String, &Rental> = i.rentals.iter().map(|(k, r)| (k.to_string(), r)).collect();

    for (key, r) in i.rentals {
        let name = key.to_string();
        let phase = i.journal.phase(&name);
        match r.state {
            RentalState::Funded => {
                if i.provisioning.contains(key) {
                    continue;
                }
                let window = r.activation_deadline() - i.now;
                match phase {
                    Some(Phase::Provisioned) if window > 0 => {
                        let details = i.journal.rentals[&name].details.clone();
                        match details {
                            Some(d) => p.activate.push((*key, d)),
                            None => p.decline.push(*key),
                        }
                    }
                    _ if window < MIN_PROVISION_WINDOW_SECS => p.decline.push(*key),
                    Some(Phase::TornDown) => p.decline.push(*key),
                    _ if i.draining => {}
                    _ => p.provision.push(*key),
                }
            }
            RentalState::Active => {
                if phase.is_none() {
                    p.adopt.push(*key);
                }
                let m = r.meter();
                let stops = m.billing_stops_at();
                if i.now >= stops {
                    p.finalize.push(*key);
                    continue;
                }
                due(stops, &mut p);
                if r.heartbeat_interval_secs > 0 {
                    let next = r.last_heartbeat + heartbeat_every(r.heartbeat_interval_secs);
                    if i.now >= next {
                        p.heartbeat.push(*key);
                        due(i.now + heartbeat_every(r.heartbeat_interval_secs), &mut p);
                    } else {
                        due(next, &mut p);
                    }
                }
                if let Ok(reading) = quote::read_rental(r, i.now) {
                    if reading.claimable_provider > 0 {
                        let min = i.policy.min_units.get(&r.mint).is_some_and(|min| reading.claimable_provider >= *min);
                        let every = i.policy.every_secs.is_some_and(|e| {
                            let since = i.last_claim.get(key).copied().unwrap_or(i.started_at.max(r.activated_at));
                            i.now - since >= e as i64
                        });
                        if min || every {
                            p.claim.push(*key);
                        }
                    }
                }
            }
            RentalState::Disputed => {
                let deadline = r.dispute_opened_at.saturating_add(r.dispute_timeout_secs as i64);
                if i.now >= deadline {
                    p.resolve_expired.push(*key);
                } else {
                    due(deadline, &mut p);
                }
            }
            RentalState::Settled | RentalState::Cancelled => {}
        }
    }

    for (name, entry) in &i.journal.rentals {
        let r = on_chain.get(name).copied();
        let in_flight = i.provisioning.iter().any(|k| k.to_string() == *name);
        match entry.phase {
            Phase::TornDown if r.is_none() => p.forget.push(name.clone()),
            Phase::TornDown => {}
            _ if in_flight => {}
            _ => {
                if let Some(reason) = ended_reason(r, i.now) {
                    p.teardown.push((name.clone(), reason));
                }
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::journal::Entry;

    const T: i64 = 1_000_000;

    fn funded(opened_at: i64) -> Rental {
        Rental {
            renter: Pubkey::new_unique(),
            provider: Pubkey::new_unique(),
            listing: Pubkey::new_unique(),
            mint: Pubkey::new_unique(),
            vault: Pubkey::new_unique(),
            rental_id: 0,
            state: RentalState::Funded,
            price_per_hour: 3_600_000,
            fee_bps: 250,
            heartbeat_interval_secs: 0,
            max_rental_secs: 86_400,
            activation_timeout_secs: 600,
            dispute_timeout_secs: 3_600,
            deposited: 600_000,
            provider_paid: 0,
            fee_paid: 0,
            refunded: 0,
            opened_at,
            activated_at: 0,
            end_at: 0,
            last_heartbeat: 0,
            ended_at: 0,
            billed_seconds: 0,
            dispute_opened_by: Pubkey::default(),
            dispute_reason: 0,
            dispute_opened_at: 0,
            dispute_locked: 0,
            provider_owed: 0,
            fee_owed: 0,
            renter_owed: 0,
            bump: 255,
            vault_bump: 255,
            access_bump: 255,
            min_counted_gross: 0,
            heartbeats: 0,
            rated: false,
            swept: 0,
        }
    }

    fn active(activated_at: i64, sla: u32) -> Rental {
        let mut r = funded(activated_at - 5);
        r.state = RentalState::Active;
        r.activated_at = activated_at;
        r.last_heartbeat = activated_at;
        r.end_at = activated_at + 600;
        r.heartbeat_interval_secs = sla;
        r
    }

    struct World {
        rentals: Vec<(Pubkey, Rental)>,
        journal: Journal,
        provisioning: HashSet<Pubkey>,
        policy: ClaimPolicy,
        last_claim: HashMap<Pubkey, i64>,
    }

    impl World {
        fn new(rentals: Vec<Rental>) -> Self {
            World {
                rentals: rentals.into_iter().map(|r| (Pubkey::new_unique(), r)).collect(),
                journal: Journal::default(),
                provisioning: HashSet::new(),
                policy: ClaimPolicy::default(),
                last_claim: HashMap::new(),
            }
        }
        fn plan(&self, now: i64) -> Plan {
            plan(&Inputs {
                rentals: &self.rentals,
                now,
                journal: &self.journal,
                provisioning: &self.provisioning,
                policy: &self.policy,
                last_claim: &self.last_claim,
                started_at: T,
                draining: false,
            })
        }
        fn key(&self, i: usize) -> Pubkey {
            self.rentals[i].0
        }
        fn journal(&mut self, i: usize, phase: Phase, details: Option<ConnectionDetails>) {
            let e = Entry { details, ..Entry::new(phase, String::new(), String::new()) };
            self.journal.rentals.insert(self.key(i).to_string(), e);
        }
    }

    #[test]
    fn new_rentals_are_provisioned_once_and_late_ones_declined() {
        let mut w = World::new(vec![funded(T), funded(T - 590)]);
        let p = w.plan(T);
        assert_eq!((p.provision, p.decline), (vec![w.key(0)], vec![w.key(1)]));
        // While its command runs, a rental is not provisioned again.
        w.provisioning.insert(w.key(0));
        assert!(w.plan(T + 1).provision.is_empty());
    }

    #[test]
    fn after_a_restart_provisioned_details_are_activated_not_provisioned_again() {
        let mut w = World::new(vec![funded(T)]);
        let d = ConnectionDetails { host: Some("h".into()), ..Default::default() };
        w.journal(0, Phase::Provisioned, Some(d.clone()));
        let p = w.plan(T + 10);
        assert_eq!((p.activate, p.provision.len()), (vec![(w.key(0), d)], 0));
    }

    #[test]
    fn sla_rentals_get_heartbeats_on_schedule_and_expired_ones_are_finalized() {
        let mut w = World::new(vec![active(T, 30), active(T, 0)]);
        w.journal(0, Phase::Serving, None);
        w.journal(1, Phase::Serving, None);
        assert!(w.plan(T + 9).heartbeat.is_empty());
        assert_eq!(w.plan(T + 9).next_due, Some(T + 10));
        assert_eq!(w.plan(T + 10).heartbeat, vec![w.key(0)]);
        // Past the SLA cut: finalize and tear down, no heartbeat.
        let p = w.plan(T + 31);
        assert_eq!(
            (p.heartbeat.len(), p.finalize, p.teardown),
            (0, vec![w.key(0)], vec![(w.key(0).to_string(), "expired")])
        );
        assert_eq!(w.plan(T + 600).finalize, vec![w.key(0), w.key(1)]);
    }

    #[test]
    fn claims_follow_the_policy() {
        let mut w = World::new(vec![active(T, 0)]);
        w.journal(0, Phase::Serving, None);
        assert!(w.plan(T + 100).claim.is_empty(), "no policy, no claims");
        w.policy.every_secs = Some(60);
        assert!(w.plan(T + 59).claim.is_empty());
        assert_eq!(w.plan(T + 60).claim, vec![w.key(0)]);
        w.last_claim.insert(w.key(0), T + 60);
        assert!(w.plan(T + 100).claim.is_empty());
        w.policy = ClaimPolicy { every_secs: None, min_units: [(w.rentals[0].1.mint, 50_000)].into() };
        assert!(w.plan(T + 49).claim.is_empty(), "47_775 unclaimed is below 50_000");
        assert_eq!(w.plan(T + 52).claim, vec![w.key(0)]);
    }

    #[test]
    fn teardown_runs_once_per_ended_rental_and_never_for_a_live_one() {
        let mut w = World::new(vec![active(T, 0), funded(T)]);
        w.journal(0, Phase::Serving, None);
        assert!(w.plan(T + 10).teardown.is_empty(), "live");
        w.rentals[0].1.state = RentalState::Settled;
        assert_eq!(w.plan(T + 10).teardown, vec![(w.key(0).to_string(), "settled")]);
        w.journal(0, Phase::TornDown, None);
        assert!(w.plan(T + 11).teardown.is_empty(), "once");
        // Gone from the chain: forgotten; a provisioned rental that was closed is torn down.
        let gone = Pubkey::new_unique().to_string();
        w.journal.rentals.insert(gone.clone(), Entry::new(Phase::Serving, String::new(), String::new()));
        w.rentals.remove(0);
        let p = w.plan(T + 12);
        assert!(p.teardown.contains(&(gone, "closed")));
        assert_eq!(p.forget.len(), 1);
    }

    #[test]
    fn running_rentals_missing_from_the_journal_are_adopted() {
        let w = World::new(vec![active(T, 0)]);
        assert_eq!(w.plan(T + 1).adopt, vec![w.key(0)]);
    }
}
