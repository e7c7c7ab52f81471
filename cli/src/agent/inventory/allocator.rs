//! Which slot a rental gets. The journal is the allocator's only state: a slot is held by
//! the live journal entry that records it (written before anything is provisioned) and is
//! free again only when that entry reaches TornDown (written after the teardown was
//! confirmed). So a crash at any step leaves every slot either held by exactly one rental
//! or free with nothing running in it, and a restart reads the same holdings back.
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::SlotSpec;
use crate::agent::journal::{Entry, Journal, Phase};

/// A slot as assigned: its index in the listing's config and a copy of what it held, so a
/// later config edit cannot make two rentals share a GPU or port (the copy keeps counting).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct HeldSlot {
    pub index: usize,
    pub spec: SlotSpec,
    /// Unix time of the assignment.
    pub since: i64,
}

/// The lowest slot of `listing` that no live rental holds and that shares no GPU or port
/// with any slot a live rental holds.
pub fn free_slot(journal: &Journal, listing: &str, slots: &[SlotSpec]) -> Option<usize> {
    let live: Vec<(&Entry, &HeldSlot)> =
        journal.rentals.values().filter(|e| e.is_live()).filter_map(|e| e.slot.as_ref().map(|s| (e, s))).collect();
    let gpus: HashSet<&str> = live.iter().flat_map(|(_, h)| h.spec.gpus.iter().map(String::as_str)).collect();
    let ports: HashSet<u16> = live.iter().flat_map(|(_, h)| h.spec.ports()).collect();
    (0..slots.len()).find(|&i| {
        let s = &slots[i];
        !live.iter().any(|(e, h)| e.listing == listing && h.index == i)
            && !s.gpus.iter().any(|g| gpus.contains(g.as_str()))
            && !s.ports().iter().any(|p| ports.contains(p))
    })
}

/// Gives `rental` a slot and records it durably before returning it. A rental that already
/// holds one keeps it (a restart re-provisions into the same GPUs, ports and host key).
/// None: every slot is held.
pub fn assign(
    journal: &mut Journal,
    rental: &str,
    renter: &str,
    listing: &str,
    slots: &[SlotSpec],
    now: i64,
) -> Result<Option<HeldSlot>, String> {
    if let Some(held) = journal.rentals.get(rental).filter(|e| e.is_live()).and_then(|e| e.slot.clone()) {
        return Ok(Some(held));
    }
    let Some(index) = free_slot(journal, listing, slots) else { return Ok(None) };
    let held = HeldSlot { index, spec: slots[index].clone(), since: now };
    let entry = Entry { slot: Some(held.clone()), ..Entry::new(Phase::Provisioning, renter.into(), listing.into()) };
    journal.set(rental, entry)?;
    Ok(Some(held))
}

/// Who holds which slot of `listing` now, for `agent status`.
pub fn holders<'a>(journal: &'a Journal, listing: &str) -> Vec<(usize, &'a str, &'a HeldSlot)> {
    let mut v: Vec<_> = journal
        .rentals
        .iter()
        .filter(|(_, e)| e.is_live() && e.listing == listing)
        .filter_map(|(k, e)| e.slot.as_ref().map(|s| (s.index, k.as_str(), s)))
        .collect();
    v.sort_by_key(|(i, _, _)| *i);
    v
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::agent::inventory::slot;

    /// xorshift64*: seeded, so a failing sequence is replayed from its seed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// The host as the agent leaves it: one machine per provisioned rental, holding the
    /// GPUs and ports of the slot it was started in.
    #[derive(Default)]
    struct Host {
        machines: BTreeMap<String, SlotSpec>,
    }

    fn config() -> Vec<(&'static str, Vec<SlotSpec>)> {
        vec![
            ("L1", vec![slot(&["GPU-0"], 2200), slot(&["GPU-1"], 2201)]),
            (
                "L2",
                vec![slot(&["GPU-2", "GPU-3"], 2202), slot(&["GPU-4", "GPU-5"], 2203), slot(&["GPU-6", "GPU-7"], 2204)],
            ),
        ]
    }

    /// Every GPU, port and slot is held by at most one live rental, and every machine on the
    /// host runs in the slot its live rental holds.
    fn check(journal: &Journal, host: &Host, step: &str) {
        let mut gpus = BTreeSet::new();
        let mut ports = BTreeSet::new();
        let mut slots = BTreeSet::new();
        for (k, e) in journal.rentals.iter().filter(|(_, e)| e.is_live()) {
            let Some(h) = &e.slot else { continue };
            assert!(slots.insert((e.listing.clone(), h.index)), "{step}: slot {} of {} held twice", h.index, e.listing);
            for g in &h.spec.gpus {
                assert!(gpus.insert(g.clone()), "{step}: {g} held twice ({k})");
            }
            for p in h.spec.ports() {
                assert!(ports.insert(p), "{step}: port {p} held twice ({k})");
            }
        }
        for (rental, spec) in &host.machines {
            let held = journal.rentals.get(rental).filter(|e| e.is_live()).and_then(|e| e.slot.as_ref());
            assert_eq!(held.map(|h| &h.spec), Some(spec), "{step}: machine of {rental} runs outside a held slot");
        }
    }

    /// Random sequences of rent, provision, activate, end, teardown and crashes between any
    /// two of those steps (a crash drops everything in memory and reloads the journal from
    /// disk; the restart reconciles the host with the journal as the agent does at start).
    #[test]
    fn no_gpu_port_or_slot_is_ever_held_twice_across_crashes() {
        let cfg = config();
        for seed in 1..=300u64 {
            let dir = tempfile::tempdir().unwrap();
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let mut journal = Journal::load(dir.path()).unwrap();
            let mut host = Host::default();
            let mut ended: BTreeSet<String> = BTreeSet::new();
            let mut next_rental = 0;
            for step in 0..120 {
                let what = format!("seed {seed} step {step}");
                match rng.below(7) {
                    // A new funded rental on a random listing.
                    0 | 1 => {
                        let (listing, slots) = &cfg[rng.below(cfg.len())];
                        let rental = format!("R{next_rental}");
                        next_rental += 1;
                        assign(&mut journal, &rental, "renter", listing, slots, step).unwrap();
                    }
                    // Provision: the machine starts in the held slot (idempotent), then the
                    // journal records it; a crash may fall in between.
                    2 => {
                        let provisioning: Vec<String> = journal
                            .rentals
                            .iter()
                            .filter(|(k, e)| e.phase == Phase::Provisioning && !ended.contains(*k))
                            .map(|(k, _)| k.clone())
                            .collect();
                        if let Some(r) = provisioning.get(rng.below(provisioning.len().max(1))) {
                            let held = journal.rentals[r].slot.clone().expect("assigned before provisioning");
                            host.machines.insert(r.clone(), held.spec);
                            if rng.below(4) != 0 {
                                journal.set_phase(r, Phase::Serving).unwrap();
                            }
                        }
                    }
                    // A rental ends on-chain (stop, expiry, decline).
                    3 => {
                        let live: Vec<String> = journal
                            .rentals
                            .iter()
                            .filter(|(k, e)| e.is_live() && !ended.contains(*k))
                            .map(|(k, _)| k.clone())
                            .collect();
                        if let Some(r) = live.get(rng.below(live.len().max(1))) {
                            ended.insert(r.clone());
                        }
                    }
                    // Teardown of an ended rental: the machine goes, then the slot is
                    // released; a crash may fall in between.
                    4 | 5 => {
                        let due: Vec<String> = ended
                            .iter()
                            .filter(|r| journal.rentals.get(*r).is_some_and(Entry::is_live))
                            .cloned()
                            .collect();
                        if let Some(r) = due.get(rng.below(due.len().max(1))) {
                            host.machines.remove(r);
                            if rng.below(4) != 0 {
                                journal.set_phase(r, Phase::TornDown).unwrap();
                            }
                        }
                    }
                    // Crash and restart: memory is lost; the journal is read back and every
                    // machine whose rental holds no slot is removed (the agent's reconcile).
                    _ => {
                        journal = Journal::load(dir.path()).unwrap();
                        host.machines.retain(|r, _| journal.rentals.get(r).is_some_and(|e| e.is_live()));
                    }
                }
                check(&journal, &host, &what);
            }
            // Everything ends and is torn down: every slot is free again, nothing runs.
            let live: Vec<String> =
                journal.rentals.iter().filter(|(_, e)| e.is_live()).map(|(k, _)| k.clone()).collect();
            for r in live {
                host.machines.remove(&r);
                journal.set_phase(&r, Phase::TornDown).unwrap();
            }
            assert!(host.machines.is_empty());
            for (listing, slots) in &cfg {
                assert!(holders(&journal, listing).is_empty());
                assert_eq!(free_slot(&journal, listing, slots), Some(0), "seed {seed}: {listing} leaked a slot");
            }
        }
    }

    #[test]
    fn a_rental_keeps_its_slot_and_a_full_listing_assigns_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::load(dir.path()).unwrap();
        let slots = [slot(&["GPU-0"], 2200), slot(&["GPU-1"], 2201)];
        let a = assign(&mut j, "A", "r", "L", &slots, 1).unwrap().unwrap();
        assert_eq!(assign(&mut j, "A", "r", "L", &slots, 2).unwrap(), Some(a.clone()), "same slot again");
        let b = assign(&mut j, "B", "r", "L", &slots, 3).unwrap().unwrap();
        assert_eq!((a.index, b.index), (0, 1));
        assert_eq!(assign(&mut j, "C", "r", "L", &slots, 4).unwrap(), None, "full");
        // Held slots survive a restart; a torn-down rental frees its slot for the next one.
        let mut j = Journal::load(dir.path()).unwrap();
        assert_eq!(holders(&j, "L").iter().map(|(i, r, _)| (*i, *r)).collect::<Vec<_>>(), [(0, "A"), (1, "B")]);
        j.set_phase("A", Phase::TornDown).unwrap();
        assert_eq!(assign(&mut j, "C", "r", "L", &slots, 5).unwrap().unwrap().index, 0);
        // A config edit that moves a held GPU into another slot cannot hand it out twice.
        let edited = [slot(&["GPU-1"], 2300), slot(&["GPU-9"], 2301)];
        assert_eq!(free_slot(&j, "L", &edited), None, "slot 0 shares GPU-1 with B, slot 1's index is held by B");
    }
}
