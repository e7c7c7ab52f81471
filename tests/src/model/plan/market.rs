//! Planning the market's setup: the providers' listing updates, pauses and closes, and the
//! admin's pause, mints and config.
use gpu_escrow::{accounts as acc, instruction as args};
use gpu_escrow_sdk::accounts::{Config, ListingParams};
use gpu_escrow_sdk::ix;

use super::{Plan, ANI};
use crate::model::fixtures::{ADMIN, P0, P1, STRANGER};
use crate::model::runner::Runner;
use crate::model::state::Expected;
use crate::model::world::program_ix;

pub(super) enum ListingAction {
    Update(ListingParams),
    Pause(bool),
    Close,
}

impl Runner<'_> {
    pub(super) fn plan_listing(&self, li: usize, by_owner: bool, action: ListingAction) -> Plan {
        let ml = &self.m.listings[li];
        let caller = if by_owner {
            ml.provider
        } else if ml.provider == P0 {
            P1
        } else {
            P0
        };
        let c = &self.pk(caller);
        let ix = match &action {
            ListingAction::Update(p) => ix::update_listing(c, &ml.key, p.clone()),
            ListingAction::Pause(paused) => ix::set_listing_paused(c, &ml.key, *paused),
            ListingAction::Close => ix::close_listing(c, &ml.key),
        };
        let prediction = (|| {
            let mut e: Vec<&'static str> = Vec::new();
            if !ml.exists {
                e.push(ANI);
            }
            if caller != ml.provider {
                e.push("NotProvider");
            }
            match &action {
                ListingAction::Update(p) => {
                    if p.price_per_hour == 0 {
                        e.push("ZeroPrice");
                    }
                    if p.gpu_count == 0 {
                        e.push("ZeroGpuCount");
                    }
                    if p.capacity == 0 {
                        e.push("ZeroCapacity");
                    }
                    if p.min_rental_secs == 0 || p.min_rental_secs > p.max_rental_secs {
                        e.push("InvalidRentalWindow");
                    }
                    if p.capacity < ml.l.active_rentals {
                        e.push("ListingHasRentals");
                    }
                }
                ListingAction::Pause(_) => {}
                ListingAction::Close => {
                    // Disputed rentals gave their slot back but must still settle first.
                    if ml.l.active_rentals != 0 || ml.l.disputed_rentals != 0 {
                        e.push("ListingHasRentals");
                    }
                }
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            let nl = &mut n.listings[li];
            let mut expected = Expected::None;
            match action {
                ListingAction::Update(p) => {
                    expected = Expected::ListingUpdated(p.clone());
                    let l = &mut nl.l;
                    l.price_per_hour = p.price_per_hour;
                    l.gpu_model = p.gpu_model;
                    l.region = p.region;
                    l.gpu_count = p.gpu_count;
                    l.vram_gb = p.vram_gb;
                    l.cpu_cores = p.cpu_cores;
                    l.ram_gb = p.ram_gb;
                    l.disk_gb = p.disk_gb;
                    l.min_rental_secs = p.min_rental_secs;
                    l.max_rental_secs = p.max_rental_secs;
                    l.heartbeat_interval_secs = p.heartbeat_interval_secs;
                    l.capacity = p.capacity;
                }
                ListingAction::Pause(paused) => nl.l.paused = paused,
                ListingAction::Close => nl.exists = false,
            }
            Ok((n, expected))
        })();
        self.program_plan(vec![ix], caller, prediction)
    }

    pub(super) fn plan_set_paused(&self, by_admin: bool, paused: bool) -> Plan {
        let caller = if by_admin { ADMIN } else { STRANGER };
        let ix =
            program_ix(acc::SetPaused { admin: self.pk(caller), config: self.w.config }, args::SetPaused { paused });
        let prediction = if by_admin {
            let mut n = self.m.clone();
            n.config.paused = paused;
            Ok((n, Expected::None))
        } else {
            Err(vec!["NotAdmin"])
        };
        self.program_plan(vec![ix], caller, prediction)
    }

    pub(super) fn plan_mint_accepted(&self, mint: usize, accepted: bool, min_rated_gross: u64) -> Plan {
        let (admin, key) = (self.pk(ADMIN), self.w.accepted_mints[mint]);
        let ix = if accepted {
            let accounts = acc::AddMint {
                admin,
                config: self.w.config,
                mint: self.w.mints[mint],
                accepted_mint: key,
                token_program: self.w.tps[mint],
                system_program: anchor_lang::system_program::ID,
            };
            program_ix(accounts, args::AddMint { args: ix::AddMintArgs { min_rated_gross } })
        } else {
            program_ix(acc::RemoveMint { admin, config: self.w.config, accepted_mint: key }, args::RemoveMint {})
        };
        let prediction = match (accepted, self.m.accepted[mint].is_some()) {
            (true, true) => Err(vec!["AccountAlreadyExists"]),
            (false, false) => Err(vec![ANI]),
            _ => {
                let mut n = self.m.clone();
                n.accepted[mint] = accepted.then(|| {
                    let mut a = self.w.initial.accepted[mint].clone().expect("accepted at first");
                    a.min_rated_gross = min_rated_gross;
                    a
                });
                Ok((n, Expected::None))
            }
        };
        self.program_plan(vec![ix], ADMIN, prediction)
    }

    pub(super) fn plan_config(
        &self,
        fee_bps: Option<u16>,
        activation_timeout: Option<u32>,
        dispute_timeout: Option<u32>,
        treasury: Option<usize>,
        arbiter: Option<usize>,
    ) -> Plan {
        let update = ix::UpdateConfigArgs {
            arbiter: arbiter.map(|a| self.pk(a)),
            treasury: treasury.map(|t| self.pk(t)),
            fee_bps,
            activation_timeout_secs: activation_timeout,
            dispute_timeout_secs: dispute_timeout,
        };
        let ix = program_ix(
            acc::UpdateConfig { admin: self.pk(ADMIN), config: self.w.config },
            args::UpdateConfig { args: update.clone() },
        );
        let prediction = (|| {
            let mut e = Vec::new();
            if fee_bps.is_some_and(|f| f > Config::MAX_FEE_BPS) {
                e.push("FeeTooHigh");
            }
            if [activation_timeout, dispute_timeout].into_iter().flatten().any(|t| !Config::valid_timeout(t)) {
                e.push("InvalidTimeout");
            }
            if !e.is_empty() {
                return Err(e);
            }
            let mut n = self.m.clone();
            let c = &mut n.config;
            if let Some(v) = update.arbiter {
                c.arbiter = v;
            }
            if let Some(v) = update.treasury {
                c.treasury = v;
            }
            if let Some(v) = fee_bps {
                c.fee_bps = v;
            }
            if let Some(v) = activation_timeout {
                c.activation_timeout_secs = v;
            }
            if let Some(v) = dispute_timeout {
                c.dispute_timeout_secs = v;
            }
            Ok((n, Expected::None))
        })();
        self.program_plan(vec![ix], ADMIN, prediction)
    }
}
