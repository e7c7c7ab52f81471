//! One rental's local life: a slot assigned and recorded, the machine provisioned by its
//! listing's backend, checked (running, its GPUs, the port answering with the sealed host
//! key) before the activation deadline, then sealed and activated; or declined, so the
//! renter is refunded at once. And, once the rental ends, the teardown that frees the slot.
use std::time::{Duration, Instant};

use gpu_escrow_sdk::access::{self, check_published_ssh_key, ConnectionDetails};
use gpu_escrow_sdk::accounts::{fixed_str, Rental, RentalState};
use gpu_escrow_sdk::ix;
use gpu_escrow_sdk::Pubkey;
use serde_json::json;

use super::backend::{Backend, Provisioned, Request};
use super::inventory::allocator::{self, HeldSlot};
use super::journal::{Entry, Phase};
use super::probe::Health;
use super::{schedule, Agent};

/// Gives up checking a new machine this long before the activation deadline, so the
/// decline still lands in time.
const CHECK_MARGIN_SECS: i64 = 5;

impl Agent {
    /// The rental's own directory in the state dir (its host key, sshd files), 0700.
    pub(super) fn rental_dir(&self, rental: &str) -> std::path::PathBuf {
        self.state_dir.join("rentals").join(rental)
    }

    pub(super) async fn start_provision(&mut self, rental: &Pubkey, r: &Rental, now: i64) {
        let Some(served) = self.serving.get(&r.listing).cloned() else { return };
        let name = rental.to_string();
        let window = r.activation_deadline() - now;
        let req = match self.request(rental, r, now, window).await {
            Ok(req) => req,
            Err(Refusal::Decline(why)) => return self.decline(rental, r, &why).await,
            Err(Refusal::Retry(e)) => return self.fail(Some(rental), "provision", e),
        };
        // The slot is taken and recorded before anything is made, so a crash from here on
        // finds it held by this rental and nobody else.
        let slot = match &served.slots {
            Some(slots) => match allocator::assign(&mut self.journal, &name, &req.renter, &req.listing, slots, now) {
                Ok(Some(held)) => Some(held),
                Ok(None) => {
                    let why = format!("no free slot: all {} slot(s) of the listing are held", slots.len());
                    return self.decline(rental, r, &why).await;
                }
                Err(e) => return self.fail(Some(rental), "provision", e),
            },
            None => {
                let entry = Entry::new(Phase::Provisioning, r.renter.to_string(), r.listing.to_string());
                if let Err(e) = self.journal.set(&name, entry) {
                    return self.fail(Some(rental), "provision", e);
                }
                None
            }
        };
        if let Err(e) = self.journal.set_phase(&name, Phase::Provisioning) {
            return self.fail(Some(rental), "provision", e);
        }
        let req = Request { slot: slot.clone(), ..req };
        self.provisioning.insert(*rental);
        self.log.action(
            "provision",
            Some(&name),
            json!({
                "renter": r.renter.to_string(),
                "backend": served.backend.name(),
                "slot": slot.as_ref().map(|s| s.index),
                "gpus": slot.as_ref().map(|s| s.spec.gpus.clone()),
                "timeout_secs": req.timeout.as_secs(),
            }),
        );
        let check_until = Instant::now() + Duration::from_secs((window - CHECK_MARGIN_SECS).max(1) as u64);
        let (backend, key) = (served.backend.clone(), *rental);
        self.tasks.spawn(async move { (key, provision_and_check(&backend, &req, check_until).await) });
    }

    /// The rental described for a backend. Refuses (decline) a renter's SSH key that is not
    /// one normalised key line: it is installed as the machine's only login.
    pub(super) async fn request(&self, rental: &Pubkey, r: &Rental, now: i64, window: i64) -> Result<Request, Refusal> {
        let served = self.serving.get(&r.listing).ok_or_else(|| Refusal::Retry("the listing is not served".into()))?;
        let l = self.client.listing(&r.listing).await.map_err(|e| Refusal::Retry(e.to_string()))?;
        let published = match self.client.access(&self.keys(rental, r)).await {
            Ok(a) => a.ssh_key,
            Err(_) => Vec::new(),
        };
        let ssh_key = if published.is_empty() {
            if matches!(*served.backend, Backend::Container(_) | Backend::Kubernetes(_)) {
                return Err(Refusal::Decline("the renter published no SSH key, the machine's only login".into()));
            }
            String::new()
        } else {
            check_published_ssh_key(&published)
                .map_err(|e| Refusal::Decline(format!("the renter's SSH key cannot be installed: {e}")))?
        };
        let paid = gpu_escrow_sdk::quote::seconds_for_deposit(r.deposited, r.price_per_hour).unwrap_or(0);
        let vars = [
            ("RENTAL", rental.to_string()),
            ("RENTER", r.renter.to_string()),
            ("LISTING", r.listing.to_string()),
            ("PROVIDER", r.provider.to_string()),
            ("GPU_MODEL", fixed_str(&l.gpu_model)),
            ("GPU_COUNT", l.gpu_count.to_string()),
            ("VRAM_GB", l.vram_gb.to_string()),
            ("CPU_CORES", l.cpu_cores.to_string()),
            ("RAM_GB", l.ram_gb.to_string()),
            ("DISK_GB", l.disk_gb.to_string()),
            ("REGION", fixed_str(&l.region)),
            ("PAID_SECONDS", paid.to_string()),
            ("PAID_UNTIL", (now + paid as i64).to_string()),
            ("ACTIVATION_DEADLINE", r.activation_deadline().to_string()),
            ("HEARTBEAT_INTERVAL", r.heartbeat_interval_secs.to_string()),
            ("SSH_KEY", ssh_key.clone()),
        ];
        let provision_window = window - schedule::MIN_PROVISION_WINDOW_SECS / 2;
        Ok(Request {
            rental: rental.to_string(),
            renter: r.renter.to_string(),
            listing: r.listing.to_string(),
            ssh_key,
            slot: self.journal.rentals.get(&rental.to_string()).and_then(|e| e.slot.clone()),
            env: vars.into_iter().map(|(k, v)| (format!("GPU_ESCROW_{k}"), v)).collect(),
            timeout: Duration::from_secs(self.cfg.provision_timeout_secs.min(provision_window.max(1) as u64)),
            dir: self.rental_dir(&rental.to_string()),
        })
    }

    pub(super) async fn on_provisioned(&mut self, rental: Pubkey, result: Result<Provisioned, String>) {
        self.provisioning.remove(&rental);
        let name = rental.to_string();
        let r = match self.client.rental(&rental).await {
            Ok(r) => r,
            Err(e) => return self.fail(Some(&rental), "provision", format!("rental vanished after provisioning: {e}")),
        };
        match result {
            Ok(p) => {
                if let Some(e) = self.journal.rentals.get_mut(&name) {
                    e.phase = Phase::Provisioned;
                    e.details = Some(p.details.clone());
                    e.probe = p.probe.clone();
                }
                self.save();
                if r.state == RentalState::Funded {
                    self.activate(&rental, &r, p.details).await;
                }
            }
            Err(why) => {
                self.fail(Some(&rental), "provision", why.clone());
                if r.state == RentalState::Funded {
                    // The decline ends the rental; the next tick tears its machine down and
                    // frees the slot.
                    self.decline(&rental, &r, &why).await;
                }
            }
        }
    }

    /// Activates with details provisioned before a restart, after checking the machine is
    /// still what they describe (it may have died with the host); otherwise provisions again.
    pub(super) async fn activate_after_restart(&mut self, rental: &Pubkey, r: &Rental, details: ConnectionDetails) {
        let name = rental.to_string();
        let entry = self.journal.rentals.get(&name).cloned();
        if let (Some(served), Some(entry)) = (self.serving.get(&r.listing).cloned(), entry) {
            if served.backend.probes() {
                let health = served.backend.probe(&name, entry.slot.as_ref(), entry.probe.as_ref()).await;
                if health != Health::Healthy {
                    self.log.action(
                        "recheck-failed",
                        Some(&name),
                        json!({ "health": format!("{health:?}"), "then": "provision again" }),
                    );
                    let _ = self.journal.set_phase(&name, Phase::Provisioning);
                    return;
                }
            }
        }
        self.activate(rental, r, details).await
    }

    pub(super) async fn activate(&mut self, rental: &Pubkey, r: &Rental, details: ConnectionDetails) {
        let keys = self.keys(rental, r);
        let recipient = match self.client.access(&keys).await {
            Ok(a) => a.recipient,
            Err(e) => return self.fail(Some(rental), "activate", e.to_string()),
        };
        let sealed = match access::seal(&details, rental, &recipient, &self.signer) {
            Ok(s) => s,
            Err(e) => {
                self.fail(Some(rental), "activate", e.to_string());
                return self.decline(rental, r, "the connection details do not fit on-chain").await;
            }
        };
        match self
            .client
            .send(&[ix::activate_rental(&self.me, rental, &keys.access(), sealed)], &self.signer, &[])
            .await
        {
            Ok(sig) => {
                self.journal.counters.activations += 1;
                self.journal.counters.rentals_served += 1;
                let _ = self.journal.set_phase(&rental.to_string(), Phase::Serving);
                self.log.action("activate", Some(&rental.to_string()), json!({ "signature": sig.to_string() }));
            }
            // A program rejection is final (deadline passed, renter cancelled): the rental
            // ends and the teardown cleans up. Anything else is retried on the next tick.
            Err(e) => {
                let final_ = e.program_error_name().is_some();
                self.fail(Some(rental), "activate", e.to_string());
                if final_ {
                    self.decline(rental, r, "activation was refused").await;
                }
            }
        }
    }

    pub(super) async fn decline(&mut self, rental: &Pubkey, r: &Rental, why: &str) {
        let keys = self.keys(rental, r);
        match self.client.send(&[ix::decline_rental(&keys)], &self.signer, &[]).await {
            Ok(sig) => {
                self.journal.counters.declines += 1;
                self.log.action(
                    "decline",
                    Some(&rental.to_string()),
                    json!({ "reason": why, "signature": sig.to_string() }),
                );
            }
            Err(e) => self.fail(Some(rental), "decline", format!("{e} (declining because {why})")),
        }
        self.save();
    }

    /// Removes the rental's machine; only once the backend confirms is the slot released
    /// (phase TornDown) and the rental's files deleted. A failure keeps the slot held and is
    /// retried on the next tick.
    pub(super) async fn teardown(&mut self, rental: &str, reason: &str) {
        let Some(entry) = self.journal.rentals.get(rental).cloned() else { return };
        let listing = entry.listing.parse::<Pubkey>().ok();
        let Some(served) = listing.and_then(|l| self.serving.for_teardown(&l)).cloned() else {
            let key = rental.parse().ok();
            return self.fail(
                key.as_ref(),
                "teardown",
                format!(
                    "listing {} is no longer served by this agent's config; its machine is left as it is",
                    entry.listing
                ),
            );
        };
        let env = vec![
            ("GPU_ESCROW_RENTAL".to_string(), rental.to_string()),
            ("GPU_ESCROW_RENTER".to_string(), entry.renter.clone()),
            ("GPU_ESCROW_LISTING".to_string(), entry.listing.clone()),
            ("GPU_ESCROW_END_REASON".to_string(), reason.to_string()),
        ];
        let env: Vec<_> = env.into_iter().chain(entry.slot.iter().flat_map(|s| s.spec.env(s.index))).collect();
        if let Err(e) = served.backend.teardown(rental, &env).await {
            let key = rental.parse().ok();
            return self.fail(key.as_ref(), "teardown", e);
        }
        let _ = std::fs::remove_dir_all(self.rental_dir(rental));
        self.journal.counters.teardowns += 1;
        let _ = self.journal.set_phase(rental, Phase::TornDown);
        self.health.forget(rental);
        let freed = entry.slot.as_ref().map(|s: &HeldSlot| s.index);
        self.log.action("teardown", Some(rental), json!({ "reason": reason, "slot_freed": freed }));
    }
}

/// Why a rental is not provisioned now.
pub(super) enum Refusal {
    /// Never: decline, with this reason.
    Decline(String),
    /// Not this tick (an RPC read failed): try again.
    Retry(String),
}

/// Provisions, then (for backends that probe) checks the machine until it is what will be
/// promised or `until` passes; a machine that never passes the checks is an error, so the
/// rental is declined rather than billed for nothing.
async fn provision_and_check(backend: &Backend, req: &Request, until: Instant) -> Result<Provisioned, String> {
    let p = match tokio::time::timeout(req.timeout, backend.provision(req)).await {
        Err(_) => {
            return Err(format!("the {} backend did not finish within {} s", backend.name(), req.timeout.as_secs()))
        }
        Ok(r) => r?,
    };
    if !backend.probes() {
        return Ok(p);
    }
    let mut last;
    loop {
        last = backend.probe(&req.rental, req.slot.as_ref(), p.probe.as_ref()).await;
        if last == Health::Healthy {
            return Ok(p);
        }
        if Instant::now() >= until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("the machine did not pass its checks before the activation deadline: {last:?}"))
}
