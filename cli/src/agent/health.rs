//! Health behind heartbeats, and reconciliation with what the backends own.
//! - A running rental's machine is probed every `probe_interval_secs` and before each SLA
//!   heartbeat; a heartbeat is sent only while the probes pass (or, when the runtime cannot
//!   be observed, for at most one SLA interval since the last good probe, so an API hiccup
//!   does not end rentals en masse while a real outage still stops billing).
//! - A machine observed broken is provisioned again into the same slot (same port, same
//!   host key, same workspace); still broken after [`BROKEN_LIMIT`] probes in a row, the
//!   provider stops the rental: the renter pays for the time used and gets the rest back.
//! - At start and every [`RECONCILE_EVERY_SECS`], anything a backend labelled for a rental
//!   that holds no slot any more (ended and torn down, or never recorded) is removed.
use std::collections::HashMap;

use gpu_escrow_sdk::accounts::Rental;
use gpu_escrow_sdk::{ix, Pubkey};
use serde_json::json;

use super::journal::Phase;
use super::lifecycle::Refusal;
use super::probe::Health;
use super::Agent;

pub const BROKEN_LIMIT: u32 = 3;
pub const RECONCILE_EVERY_SECS: u64 = 60;

#[derive(Default)]
pub struct HealthBook {
    /// Cluster time of the last probe, and of the last one that passed.
    last_probe: HashMap<String, i64>,
    last_ok: HashMap<String, i64>,
    broken_in_a_row: HashMap<String, u32>,
    /// Last reconciliation (wall clock).
    pub last_reconcile: Option<std::time::Instant>,
}

impl HealthBook {
    pub fn forget(&mut self, rental: &str) {
        self.last_probe.remove(rental);
        self.last_ok.remove(rental);
        self.broken_in_a_row.remove(rental);
    }
}

impl Agent {
    /// Probes the running rentals that are due (all in `heartbeat` are due) and returns the
    /// heartbeats that may be sent.
    pub(super) async fn check_health(
        &mut self,
        running: &[(Pubkey, &Rental)],
        heartbeat: Vec<Pubkey>,
        now: i64,
    ) -> Vec<Pubkey> {
        let mut allowed = Vec::new();
        let mut stop = Vec::new();
        for (key, r) in running {
            let name = key.to_string();
            let Some(served) = self.serving.get(&r.listing).cloned() else { continue };
            let wants_heartbeat = heartbeat.contains(key);
            if !served.backend.probes() {
                if wants_heartbeat {
                    allowed.push(*key);
                }
                continue;
            }
            let Some(entry) = self.journal.rentals.get(&name).filter(|e| e.phase == Phase::Serving).cloned() else {
                continue;
            };
            let due = self.health.last_probe.get(&name).is_none_or(|t| now - t >= self.cfg.probe_interval_secs as i64);
            if !due && !wants_heartbeat {
                continue;
            }
            self.health.last_probe.insert(name.clone(), now);
            let health = served.backend.probe(&name, entry.slot.as_ref(), entry.probe.as_ref()).await;
            match health {
                Health::Healthy => {
                    self.health.last_ok.insert(name.clone(), now);
                    self.health.broken_in_a_row.remove(&name);
                    if wants_heartbeat {
                        allowed.push(*key);
                    }
                }
                Health::Unobservable(why) => {
                    let last_ok = self.health.last_ok.get(&name).copied().unwrap_or(r.last_heartbeat);
                    let grace = now - last_ok < r.heartbeat_interval_secs as i64;
                    self.log.action(
                        "health-unobservable",
                        Some(&name),
                        json!({ "error": why, "heartbeat": wants_heartbeat && grace }),
                    );
                    if wants_heartbeat && grace {
                        allowed.push(*key);
                    }
                }
                Health::Broken(why) => {
                    let n = self.health.broken_in_a_row.entry(name.clone()).or_default();
                    *n += 1;
                    let n = *n;
                    self.journal.counters.failures += 1;
                    self.log.action("health-broken", Some(&name), json!({ "error": why, "in_a_row": n }));
                    if n >= BROKEN_LIMIT {
                        stop.push((*key, (*r).clone(), why));
                    } else {
                        self.repair(key, r, now).await;
                    }
                }
            }
        }
        for (key, r, why) in stop {
            self.stop_broken(&key, &r, &why).await;
        }
        allowed
    }

    /// Provisions a broken machine again into the rental's slot (its port, host key and
    /// workspace volume are the slot's and the rental's, so the sealed details stay true).
    async fn repair(&mut self, rental: &Pubkey, r: &Rental, now: i64) {
        let Some(served) = self.serving.get(&r.listing).cloned() else { return };
        let req = match self.request(rental, r, now, i64::MAX / 2).await {
            Ok(req) => req,
            Err(Refusal::Decline(e) | Refusal::Retry(e)) => return self.fail(Some(rental), "repair", e),
        };
        match tokio::time::timeout(req.timeout, served.backend.provision(&req)).await {
            Ok(Ok(_)) => {
                self.log.action("repair", Some(&rental.to_string()), json!({ "backend": served.backend.name() }))
            }
            Ok(Err(e)) => self.fail(Some(rental), "repair", e),
            Err(_) => self.fail(Some(rental), "repair", "timed out".into()),
        }
    }

    /// The machine stayed broken: stop the rental so the renter pays only for what it had.
    async fn stop_broken(&mut self, rental: &Pubkey, r: &Rental, why: &str) {
        let treasury = match self.client.config().await {
            Ok(c) => c.treasury,
            Err(e) => return self.fail(Some(rental), "stop", e.to_string()),
        };
        let keys = self.keys(rental, r);
        // The provider's own account first (idempotent): a payout into a missing one is held.
        let ixs = [ix::ensure_own_account(&self.me, &keys), ix::stop_rental(&self.me, &keys, &treasury)];
        match self.client.send(&ixs, &self.signer, &[]).await {
            Ok(sig) => {
                self.journal.counters.stops += 1;
                self.log.action(
                    "stop",
                    Some(&rental.to_string()),
                    json!({ "reason": format!("the machine stayed broken: {why}"), "signature": sig.to_string() }),
                );
            }
            Err(e) => self.fail(Some(rental), "stop", e.to_string()),
        }
    }

    /// Tears down what a backend labelled for a rental that holds nothing any more.
    pub(super) async fn reconcile(&mut self) {
        let due = self.health.last_reconcile.is_none_or(|t| t.elapsed().as_secs() >= RECONCILE_EVERY_SECS);
        if !due {
            return;
        }
        self.health.last_reconcile = Some(std::time::Instant::now());
        for backend in self.serving.backends() {
            let owned = match backend.owned().await {
                Ok(o) => o,
                Err(e) => {
                    self.log.action("reconcile-unobservable", None, json!({ "backend": backend.name(), "error": e }));
                    continue;
                }
            };
            for rental in owned {
                let live = self.journal.rentals.get(&rental).is_some_and(|e| e.is_live());
                if live {
                    continue;
                }
                match backend.teardown(&rental, &[("GPU_ESCROW_RENTAL".into(), rental.clone())]).await {
                    Ok(()) => {
                        self.log.action("reconcile-teardown", Some(&rental), json!({ "backend": backend.name() }))
                    }
                    Err(e) => self.fail(rental.parse().ok().as_ref(), "reconcile-teardown", e),
                }
            }
        }
    }
}
