//! `gpu-escrow agent`: the provider's side of every rental, unattended.
//!
//! One process per provider wallet. It notices new Funded rentals on the served listings
//! (WebSocket subscription, polling as the fallback), runs the provider's provision command,
//! seals the connection details to the renter and activates (or declines, refunding the
//! renter at once); keeps SLA rentals alive with batched heartbeats; claims by policy;
//! finalizes its own expired rentals; and runs the teardown command once per ended rental.
//!
//! All money decisions come from the chain on every tick ([`schedule`]); the journal only
//! remembers local side effects (provisioned, torn down), so a restart never activates or
//! tears down twice and never leaves a funded rental unanswered. SIGTERM/SIGINT drain:
//! no new provisioning, in-flight commands finish and are answered, then it exits.
mod config;
mod journal;
mod log;
mod provision;
mod schedule;
mod watch;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gpu_escrow_sdk::access::{self, ConnectionDetails};
use gpu_escrow_sdk::accounts::{fixed_str, Rental, RentalState};
use gpu_escrow_sdk::client::{EscrowClient, Party};
use gpu_escrow_sdk::ix::{self, RentalKeys};
use gpu_escrow_sdk::{batch, Instruction, Keypair, Pubkey, Signer};
use serde_json::json;
use tokio::task::JoinSet;

use crate::args::{AgentCmd, AgentRunArgs};
use crate::context::{read_keypair, resolve_url, Context};
use crate::error::CliError;
use crate::output::{Format, Output};
use journal::{Counters, Entry, Journal, Phase};
use log::Log;
use schedule::{ClaimPolicy, Inputs, Plan};

pub async fn run(ctx: &Context, cmd: AgentCmd) -> Result<Output, CliError> {
    match cmd {
        AgentCmd::Run(a) => Agent::start(ctx, a).await?.run().await,
        AgentCmd::Status { state_dir } => status(ctx, state_dir).await,
    }
}

fn default_state_dir(provider: &Pubkey) -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".local/state")
    });
    base.join("gpu-escrow").join(format!("agent-{provider}"))
}

struct Agent {
    client: EscrowClient,
    signer: Keypair,
    me: Pubkey,
    cfg: config::AgentConfig,
    served: Option<HashSet<Pubkey>>,
    journal: Journal,
    log: Arc<Log>,
    state_dir: PathBuf,
    rpc_url: String,
    ws_url: String,
    subscribed: Arc<AtomicBool>,
    token_programs: HashMap<Pubkey, Pubkey>,
    policy: ClaimPolicy,
    last_claim: HashMap<Pubkey, i64>,
    tasks: JoinSet<(Pubkey, Result<ConnectionDetails, String>)>,
    provisioning: HashSet<Pubkey>,
    started_at: i64,
    draining: bool,
    /// The cluster's genesis hash, which the saved read floor is tied to.
    genesis_hash: String,
}

impl Agent {
    async fn start(ctx: &Context, a: AgentRunArgs) -> Result<Self, CliError> {
        let file = a.agent_config.as_deref();
        let overrides = config::Overrides {
            provision_command: a.provision,
            teardown_command: a.teardown,
            listings: a.listing,
            state_dir: a.state_dir,
            poll_interval_secs: a.poll,
            claim_every_minutes: a.claim_every,
            claim_min_amount: a.claim_min,
        };
        let cfg = config::resolve(file, config::load(file)?, overrides)?;
        let rpc_url = match &cfg.rpc_url {
            Some(u) => resolve_url(u)?,
            None => ctx.url.clone(),
        };
        let ws_url = cfg.ws_url.clone().unwrap_or_else(|| config::ws_url_for(&rpc_url));
        let signer = match &cfg.keypair {
            Some(p) => read_keypair(p)?,
            None => ctx.signer()?,
        };
        let me = signer.pubkey();
        let price = match &cfg.compute_unit_price {
            Some(p) => p.parse().map_err(CliError::Input)?,
            None => ctx.compute_unit_price,
        };
        let client = EscrowClient::new(rpc_url.clone(), ctx.commitment).with_compute_unit_price(price);
        client.ensure_program_deployed().await?;
        if client.provider(&me).await?.is_none() {
            return Err(CliError::Refused(format!(
                "wallet {me} is not a registered provider on {rpc_url}; run `{}` first",
                ctx.hint("provider register")
            )));
        }
        let served = match &cfg.listings {
            None => None,
            Some(list) => Some(
                list.iter().map(|l| crate::context::parse_pubkey(l, "listing")).collect::<Result<HashSet<_>, _>>()?,
            ),
        };
        let state_dir = cfg.state_dir.clone().unwrap_or_else(|| default_state_dir(&me));
        let journal = Journal::load(&state_dir).map_err(CliError::Input)?;
        take_lock(&state_dir)?;
        let genesis_hash = client.rpc().get_genesis_hash().await.map_err(|e| client.rpc_err(e))?.to_string();
        if let Some(slot) = journal.read_floor_on(&genesis_hash) {
            client.raise_read_floor(slot);
        }
        let started_at = client.cluster_time().await?;
        Ok(Agent {
            client,
            signer,
            me,
            cfg,
            served,
            journal,
            log: Arc::new(Log { json: ctx.format == Format::Json }),
            state_dir,
            rpc_url,
            ws_url,
            subscribed: Arc::new(AtomicBool::new(false)),
            token_programs: HashMap::new(),
            policy: ClaimPolicy::default(),
            last_claim: HashMap::new(),
            tasks: JoinSet::new(),
            provisioning: HashSet::new(),
            started_at,
            draining: false,
            genesis_hash,
        })
    }

    async fn run(mut self) -> Result<Output, CliError> {
        let (wake_tx, mut wake_rx) = tokio::sync::mpsc::channel(1);
        let watcher = watch::spawn(
            self.ws_url.clone(),
            self.me,
            self.client.commitment(),
            wake_tx,
            self.log.clone(),
            self.subscribed.clone(),
        );
        let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| CliError::Input(format!("cannot listen for SIGTERM: {e}")))?;
        self.log.action(
            "start",
            None,
            json!({ "provider": self.me.to_string(), "rpc_url": self.rpc_url, "state_dir": self.state_dir.display().to_string() }),
        );
        loop {
            let next_due = match self.tick().await {
                Ok(due) => due,
                Err(e) => {
                    self.journal.counters.failures += 1;
                    self.log.action("tick-failed", None, json!({ "error": e.to_string() }));
                    None
                }
            };
            self.write_status();
            if self.draining && self.tasks.is_empty() {
                break;
            }
            let poll = Duration::from_secs(self.cfg.poll_interval_secs);
            let sleep = match (next_due, self.client.cluster_time().await) {
                (Some(due), Ok(now)) => poll.min(Duration::from_secs(due.saturating_sub(now).max(1) as u64)),
                _ => poll,
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = wake_rx.recv() => {}
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    match done {
                        Ok((rental, result)) => self.on_provisioned(rental, result).await,
                        Err(e) => self.fail(None, "provision-task", e.to_string()),
                    }
                }
                _ = sigterm.recv() => self.drain("SIGTERM"),
                _ = tokio::signal::ctrl_c() => self.drain("SIGINT"),
            }
        }
        watcher.abort();
        release_lock(&self.state_dir);
        self.log.action("stop", None, json!({ "counters": &self.journal.counters }));
        Ok(Output::new(serde_json::Value::Null, String::new()))
    }

    fn drain(&mut self, why: &str) {
        if !self.draining {
            self.draining = true;
            self.log.action("draining", None, json!({ "signal": why, "in_flight": self.tasks.len() }));
        }
    }

    fn fail(&mut self, rental: Option<&Pubkey>, action: &str, error: String) {
        self.journal.counters.failures += 1;
        let r = rental.map(|r| r.to_string());
        self.log.action(&format!("{action}-failed"), r.as_deref(), json!({ "error": error }));
        self.save();
    }

    fn save(&mut self) {
        if let Err(e) = self.journal.save() {
            self.log.action("journal-failed", None, json!({ "error": e }));
        }
    }

    /// One look at the chain, and everything that is due.
    async fn tick(&mut self) -> Result<Option<i64>, gpu_escrow_sdk::SdkError> {
        let now = self.client.cluster_time().await?;
        let mut rentals = self.client.rentals_of(Party::Provider, &self.me).await?;
        if let Some(served) = &self.served {
            rentals.retain(|(_, r)| served.contains(&r.listing));
        }
        for (_, r) in &rentals {
            self.token_program(&r.mint).await?;
        }
        self.load_policy(&rentals).await?;
        let plan = schedule::plan(&Inputs {
            rentals: &rentals,
            now,
            journal: &self.journal,
            provisioning: &self.provisioning,
            policy: &self.policy,
            last_claim: &self.last_claim,
            started_at: self.started_at,
            draining: self.draining,
        });
        let by_key: HashMap<Pubkey, Rental> = rentals.into_iter().collect();
        if let Err(e) = self.journal.raise_read_floor(&self.genesis_hash, self.client.read_floor()) {
            self.fail(None, "journal", e);
        }
        self.carry_out(plan, &by_key, now).await
    }

    async fn carry_out(
        &mut self,
        plan: Plan,
        rentals: &HashMap<Pubkey, Rental>,
        now: i64,
    ) -> Result<Option<i64>, gpu_escrow_sdk::SdkError> {
        for k in &plan.adopt {
            let r = &rentals[k];
            let entry = Entry {
                phase: Phase::Serving,
                details: None,
                renter: r.renter.to_string(),
                listing: r.listing.to_string(),
            };
            if let Err(e) = self.journal.set(&k.to_string(), entry) {
                self.fail(Some(k), "journal", e);
            }
            self.log.action("adopt", Some(&k.to_string()), json!({ "state": "Active" }));
        }
        for k in &plan.decline {
            self.decline(k, &rentals[k], "too close to the activation deadline to provision").await;
        }
        for (k, details) in plan.activate {
            self.activate(&k, &rentals[&k], details).await;
        }
        for k in &plan.provision {
            self.start_provision(k, &rentals[k], now).await;
        }
        let heartbeats: Vec<Vec<Instruction>> =
            plan.heartbeat.iter().map(|k| vec![ix::heartbeat(&self.me, k)]).collect();
        let n = self.send_batches("heartbeat", heartbeats).await;
        self.journal.counters.heartbeats += n;

        let treasury = if plan.claim.is_empty() && plan.finalize.is_empty() && plan.resolve_expired.is_empty() {
            None
        } else {
            Some(self.client.config().await?.treasury)
        };
        if let Some(treasury) = treasury {
            let mut claims = Vec::new();
            let mut own_accounts = HashSet::new();
            for k in &plan.claim {
                let keys = self.keys(k, &rentals[k]);
                let mut group = Vec::new();
                if own_accounts.insert(keys.mint) {
                    group.push(ix::ensure_own_account(&self.me, &keys));
                }
                group.push(ix::claim(&keys, &treasury));
                claims.push(group);
            }
            let n = self.send_batches("claim", claims).await;
            self.journal.counters.claims += n;
            if n > 0 {
                for k in &plan.claim {
                    self.last_claim.insert(*k, now);
                }
            }
            let settles: Vec<Vec<Instruction>> = plan
                .finalize
                .iter()
                .map(|k| vec![ix::finalize_rental(&self.me, &self.keys(k, &rentals[k]), &treasury)])
                .chain(
                    plan.resolve_expired
                        .iter()
                        .map(|k| vec![ix::resolve_expired_dispute(&self.me, &self.keys(k, &rentals[k]), &treasury)]),
                )
                .collect();
            let n = self.send_batches("finalize", settles).await;
            self.journal.counters.finalizes += n;
        }
        for (rental, reason) in &plan.teardown {
            self.teardown(rental, reason).await;
        }
        for rental in &plan.forget {
            if let Err(e) = self.journal.forget(rental) {
                self.fail(None, "journal", e);
            }
        }
        Ok(plan.next_due)
    }

    async fn token_program(&mut self, mint: &Pubkey) -> Result<Pubkey, gpu_escrow_sdk::SdkError> {
        if let Some(tp) = self.token_programs.get(mint) {
            return Ok(*tp);
        }
        let tp = self.client.token_program_of(mint).await?;
        self.token_programs.insert(*mint, tp);
        Ok(tp)
    }

    /// Converts the claim policy's decimal minimum into base units for each mint in use.
    async fn load_policy(&mut self, rentals: &[(Pubkey, Rental)]) -> Result<(), gpu_escrow_sdk::SdkError> {
        self.policy.every_secs = self.cfg.claim_every_secs;
        let Some(min) = self.cfg.claim_min_amount.clone() else { return Ok(()) };
        for (_, r) in rentals {
            if !self.policy.min_units.contains_key(&r.mint) {
                let decimals = self.client.mint_decimals(&r.mint).await?;
                let units = crate::amount::parse(&min, decimals).map_err(gpu_escrow_sdk::SdkError::InvalidInput)?;
                self.policy.min_units.insert(r.mint, units);
            }
        }
        Ok(())
    }

    fn keys(&self, rental: &Pubkey, r: &Rental) -> RentalKeys {
        RentalKeys::from_rental(*rental, r, self.token_programs[&r.mint])
    }

    /// Packs `groups` into as few transactions as fit and sends them; returns how many
    /// groups landed. A failed batch is logged and retried on a later tick.
    async fn send_batches(&mut self, action: &str, groups: Vec<Vec<Instruction>>) -> u64 {
        let mut done = 0;
        for tx in batch::pack(groups, &self.me) {
            let count = tx.iter().filter(|i| i.program_id == gpu_escrow_sdk::PROGRAM_ID).count() as u64;
            match self.client.send(&tx, &self.signer, &[]).await {
                Ok(sig) => {
                    done += count;
                    self.log.action(action, None, json!({ "rentals": count, "signature": sig.to_string() }));
                }
                Err(e) => self.fail(None, action, e.to_string()),
            }
        }
        done
    }

    async fn start_provision(&mut self, rental: &Pubkey, r: &Rental, now: i64) {
        let window = r.activation_deadline() - now - schedule::MIN_PROVISION_WINDOW_SECS / 2;
        let timeout = Duration::from_secs(self.cfg.provision_timeout_secs.min(window.max(1) as u64));
        let env = match self.provision_env(rental, r, now).await {
            Ok(env) => env,
            Err(e) => return self.fail(Some(rental), "provision", e),
        };
        let entry = Entry {
            phase: Phase::Provisioning,
            details: None,
            renter: r.renter.to_string(),
            listing: r.listing.to_string(),
        };
        // Recorded before the command starts, so a crash mid-provision is known at restart.
        if let Err(e) = self.journal.set(&rental.to_string(), entry) {
            return self.fail(Some(rental), "provision", e);
        }
        self.provisioning.insert(*rental);
        self.log.action(
            "provision",
            Some(&rental.to_string()),
            json!({ "renter": r.renter.to_string(), "timeout_secs": timeout.as_secs() }),
        );
        let (command, key) = (self.cfg.provision_command.clone(), *rental);
        self.tasks.spawn(async move { (key, provision::provision(&command, &env, timeout).await) });
    }

    /// The rental, described for the provision command.
    async fn provision_env(&self, rental: &Pubkey, r: &Rental, now: i64) -> Result<Vec<(String, String)>, String> {
        let l = self.client.listing(&r.listing).await.map_err(|e| e.to_string())?;
        let ssh_key = match self.client.access(&self.keys(rental, r)).await {
            Ok(a) => String::from_utf8_lossy(&a.ssh_key).into_owned(),
            Err(_) => String::new(),
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
            ("SSH_KEY", ssh_key),
        ];
        Ok(vars.into_iter().map(|(k, v)| (format!("GPU_ESCROW_{k}"), v)).collect())
    }

    async fn on_provisioned(&mut self, rental: Pubkey, result: Result<ConnectionDetails, String>) {
        self.provisioning.remove(&rental);
        let name = rental.to_string();
        let r = match self.client.rental(&rental).await {
            Ok(r) => r,
            Err(e) => return self.fail(Some(&rental), "provision", format!("rental vanished after provisioning: {e}")),
        };
        match result {
            Ok(details) => {
                if let Some(e) = self.journal.rentals.get_mut(&name) {
                    e.phase = Phase::Provisioned;
                    e.details = Some(details.clone());
                }
                self.save();
                if r.state == RentalState::Funded {
                    self.activate(&rental, &r, details).await;
                }
            }
            Err(why) => {
                self.fail(Some(&rental), "provision", why);
                if r.state == RentalState::Funded {
                    self.decline(&rental, &r, "the provision command failed").await;
                }
            }
        }
    }

    async fn activate(&mut self, rental: &Pubkey, r: &Rental, details: ConnectionDetails) {
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

    async fn decline(&mut self, rental: &Pubkey, r: &Rental, why: &str) {
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
            Err(e) => self.fail(Some(rental), "decline", e.to_string()),
        }
        self.save();
    }

    async fn teardown(&mut self, rental: &str, reason: &str) {
        let Some(entry) = self.journal.rentals.get(rental).cloned() else { return };
        if let Some(command) = self.cfg.teardown_command.clone() {
            let env = vec![
                ("GPU_ESCROW_RENTAL".to_string(), rental.to_string()),
                ("GPU_ESCROW_RENTER".to_string(), entry.renter.clone()),
                ("GPU_ESCROW_LISTING".to_string(), entry.listing.clone()),
                ("GPU_ESCROW_END_REASON".to_string(), reason.to_string()),
            ];
            let timeout = Duration::from_secs(self.cfg.teardown_timeout_secs);
            if let Err(e) = provision::teardown(&command, &env, timeout).await {
                let key = rental.parse().ok();
                return self.fail(key.as_ref(), "teardown", e);
            }
        }
        self.journal.counters.teardowns += 1;
        let _ = self.journal.set_phase(rental, Phase::TornDown);
        self.log.action("teardown", Some(rental), json!({ "reason": reason }));
    }

    fn write_status(&self) {
        let count = |p: Phase| self.journal.rentals.values().filter(|e| e.phase == p).count();
        let status = json!({
            "provider": self.me.to_string(),
            "pid": std::process::id(),
            "rpc_url": self.rpc_url,
            "ws_url": self.ws_url,
            "subscription": if self.subscribed.load(Ordering::Relaxed) { "connected" } else { "polling" },
            "started_at": crate::output::iso(self.started_at),
            "updated_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "draining": self.draining,
            "provisioning": self.provisioning.len(),
            "serving": count(Phase::Serving),
            "counters": &self.journal.counters,
        });
        let path = self.state_dir.join("status.json");
        if let Err(e) = journal::write_atomic(&path, serde_json::to_string_pretty(&status).expect("json").as_bytes()) {
            self.log.action("status-failed", None, json!({ "error": e }));
        }
    }
}

fn lock_path(dir: &Path) -> PathBuf {
    dir.join("agent.pid")
}

/// One agent per state directory: two would both provision every rental.
fn take_lock(dir: &Path) -> Result<(), CliError> {
    let path = lock_path(dir);
    if let Ok(pid) = std::fs::read_to_string(&path) {
        let pid = pid.trim();
        if !pid.is_empty() && Path::new("/proc").join(pid).exists() && pid != std::process::id().to_string() {
            return Err(CliError::Refused(format!(
                "another agent (pid {pid}) is running with state dir {}; stop it first",
                dir.display()
            )));
        }
    }
    journal::write_atomic(&path, std::process::id().to_string().as_bytes()).map_err(CliError::Input)
}

fn release_lock(dir: &Path) {
    let _ = std::fs::remove_file(lock_path(dir));
}

async fn status(ctx: &Context, state_dir: Option<PathBuf>) -> Result<Output, CliError> {
    let dir = match state_dir {
        Some(d) => d,
        None => default_state_dir(&ctx.signer_pubkey()?),
    };
    let path = dir.join("status.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::Refused(format!(
            "no agent status at {} ({e}); is the agent running with this state dir?",
            path.display()
        ))
    })?;
    let mut s: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Input(format!("{} is not valid JSON: {e}", path.display())))?;
    let pid = s["pid"].as_u64().unwrap_or(0);
    let running = std::fs::read_to_string(lock_path(&dir)).is_ok_and(|p| p.trim() == pid.to_string())
        && Path::new("/proc").join(pid.to_string()).exists();
    s["running"] = json!(running);
    let c: Counters = serde_json::from_value(s["counters"].clone()).unwrap_or_default();
    let human = format!(
        "agent for provider {}: {} (pid {pid}), {}\nupdated:  {}\nserving:  {} rental(s), provisioning {}\nin total: {} served, {} activations, {} declines, {} heartbeats, {} claims, {} finalizes, {} teardowns, {} failures",
        s["provider"].as_str().unwrap_or("?"),
        if running { "running" } else { "not running" },
        s["subscription"].as_str().unwrap_or("?"),
        s["updated_at"].as_str().unwrap_or("?"),
        s["serving"],
        s["provisioning"],
        c.rentals_served,
        c.activations,
        c.declines,
        c.heartbeats,
        c.claims,
        c.finalizes,
        c.teardowns,
        c.failures,
    );
    Ok(Output::new(s, human))
}
