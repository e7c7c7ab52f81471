//! `gpu-escrow agent`: the provider's side of every rental, unattended.
//!
//! One process per provider wallet. It notices new Funded rentals on the served listings
//! (WebSocket subscription, polling as the fallback), gives each a slot of its listing
//! ([`inventory`]), has the listing's backend make the machine ([`backend`]: a container, a
//! Kubernetes namespace or the provider's command), checks it ([`probe`]), seals the
//! connection details to the renter and activates ([`lifecycle`]), or declines, refunding
//! the renter at once. It keeps SLA rentals alive with batched heartbeats while their
//! machines pass their probes ([`health`]); claims by policy; finalizes its own expired
//! rentals; takes what a vault holds for the provider because its token account could not
//! receive, and unwraps wrapped-SOL payouts ([`held`]); and tears down each ended rental
//! once, freeing its slot.
//!
//! All money decisions come from the chain on every tick ([`schedule`]); the journal only
//! remembers local side effects (slots held, provisioned, torn down), so a restart never
//! activates or tears down twice, never hands a held slot to another rental, and never
//! leaves a funded rental unanswered. SIGTERM/SIGINT drain: no new provisioning, in-flight
//! work finishes and is answered, then it exits.
mod backend;
mod config;
mod health;
mod held;
mod inventory;
mod journal;
mod lifecycle;
mod log;
mod probe;
mod provision;
mod schedule;
mod serve;
mod watch;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gpu_escrow_sdk::accounts::{Rental, RentalState};
use gpu_escrow_sdk::client::{EscrowClient, Party};
use gpu_escrow_sdk::ix::{self, RentalKeys};
use gpu_escrow_sdk::{batch, Instruction, Keypair, Pubkey, Signer};
use serde_json::json;
use tokio::task::JoinSet;

use crate::args::{AgentCmd, AgentRunArgs};
use crate::context::{read_keypair, resolve_url, Context};
use crate::error::CliError;
use crate::output::{Format, Output};
use backend::Provisioned;
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
    serving: serve::Serving,
    health: health::HealthBook,
    held: held::HeldBook,
    journal: Journal,
    log: Arc<Log>,
    state_dir: PathBuf,
    rpc_url: String,
    ws_url: String,
    subscribed: Arc<AtomicBool>,
    token_programs: HashMap<Pubkey, Pubkey>,
    policy: ClaimPolicy,
    last_claim: HashMap<Pubkey, i64>,
    tasks: JoinSet<(Pubkey, Result<Provisioned, String>)>,
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
            keep_wrapped_sol: ctx.keep_wsol,
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
        let serving = serve::Serving::build(&cfg, &client, &me).await?;
        let state_dir = cfg.state_dir.clone().unwrap_or_else(|| default_state_dir(&me));
        let journal = Journal::load(&state_dir).map_err(CliError::Input)?;
        take_lock(&state_dir)?;
        let genesis_hash = client.rpc().get_genesis_hash().await.map_err(|e| client.rpc_err(e))?.to_string();
        if let Some(saved) = journal.read_floor_on(&genesis_hash) {
            // Bounded by the cluster's slot now: a floor saved from one bad answer (a slot
            // the cluster never reached) would otherwise refuse every read for ever.
            let current = client.rpc().get_slot().await.map_err(|e| client.rpc_err(e))?;
            client.raise_read_floor(saved.min(current));
        }
        let started_at = client.cluster_time().await?;
        Ok(Agent {
            client,
            signer,
            me,
            cfg,
            serving,
            health: health::HealthBook::default(),
            held: held::HeldBook::default(),
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
            self.reconcile().await;
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
        let all = self.client.rentals_of(Party::Provider, &self.me).await?;
        // What is held for the provider is taken from any of its rentals, served or not.
        let mut rentals = all.clone();
        rentals.retain(|(_, r)| self.serving.get(&r.listing).is_some());
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
        self.carry_out(plan, &by_key, &all, now).await
    }

    async fn carry_out(
        &mut self,
        plan: Plan,
        rentals: &HashMap<Pubkey, Rental>,
        all: &[(Pubkey, Rental)],
        now: i64,
    ) -> Result<Option<i64>, gpu_escrow_sdk::SdkError> {
        for k in &plan.adopt {
            let r = &rentals[k];
            let entry = Entry::new(Phase::Serving, r.renter.to_string(), r.listing.to_string());
            if let Err(e) = self.journal.set(&k.to_string(), entry) {
                self.fail(Some(k), "journal", e);
            }
            self.log.action("adopt", Some(&k.to_string()), json!({ "state": "Active" }));
        }
        for k in &plan.decline {
            self.decline(k, &rentals[k], "too close to the activation deadline to provision").await;
        }
        for (k, details) in plan.activate {
            self.activate_after_restart(&k, &rentals[&k], details).await;
        }
        for k in &plan.provision {
            self.start_provision(k, &rentals[k], now).await;
        }
        // Rentals whose billing has stopped are finalized and torn down, not probed or repaired.
        let running: Vec<(Pubkey, &Rental)> = rentals
            .iter()
            .filter(|(k, r)| r.state == RentalState::Active && !plan.finalize.contains(k))
            .map(|(k, r)| (*k, r))
            .collect();
        let allowed = self.check_health(&running, plan.heartbeat.clone(), now).await;
        let heartbeats: Vec<Vec<Instruction>> = allowed.iter().map(|k| vec![ix::heartbeat(&self.me, k)]).collect();
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
            // The provider's account is created (idempotently) before the first payout into
            // it in each batch, as for claims: a payout into a missing account would be held.
            let mut own_accounts = HashSet::new();
            let settles: Vec<Vec<Instruction>> = plan
                .finalize
                .iter()
                .map(|k| (k, false))
                .chain(plan.resolve_expired.iter().map(|k| (k, true)))
                .map(|(k, expired_dispute)| {
                    let keys = self.keys(k, &rentals[k]);
                    let mut group = Vec::new();
                    if own_accounts.insert(keys.mint) {
                        group.push(ix::ensure_own_account(&self.me, &keys));
                    }
                    group.push(if expired_dispute {
                        ix::resolve_expired_dispute(&self.me, &keys, &treasury)
                    } else {
                        ix::finalize_rental(&self.me, &keys, &treasury)
                    });
                    group
                })
                .collect();
            let n = self.send_batches("finalize", settles).await;
            self.journal.counters.finalizes += n;
        }
        // After this round's payouts, so wrapped SOL is unwrapped once they have landed.
        self.settle_held(all, now).await;
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

    fn write_status(&self) {
        let count = |p: Phase| self.journal.rentals.values().filter(|e| e.phase == p).count();
        let slots: Vec<serde_json::Value> = self
            .serving
            .slotted()
            .into_iter()
            .map(|(listing, specs)| {
                let holders = inventory::allocator::holders(&self.journal, &listing.to_string());
                let rows: Vec<serde_json::Value> = specs
                    .iter()
                    .enumerate()
                    .map(|(i, spec)| {
                        let held = holders.iter().find(|(index, _, _)| *index == i);
                        json!({
                            "slot": i,
                            "gpus": spec.gpus,
                            "ssh_port": spec.ssh_port,
                            "held_by": held.map(|(_, r, _)| r.to_string()),
                            "since": held.map(|(_, _, h)| crate::output::iso(h.since)),
                        })
                    })
                    .collect();
                json!({ "listing": listing.to_string(), "slots": rows })
            })
            .collect();
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
            "listings": slots,
            "held": self.held.status(&self.me, &self.token_programs),
            "keep_wrapped_sol": self.cfg.keep_wrapped_sol,
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
    let mut human = format!(
        "agent for provider {}: {} (pid {pid}), {}\nupdated:  {}\nserving:  {} rental(s), provisioning {}\nin total: {} served, {} activations, {} declines, {} heartbeats, {} claims, {} finalizes, {} stops, {} teardowns, {} withdrawals, {} unwraps, {} failures",
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
        c.stops,
        c.teardowns,
        c.withdrawals,
        c.unwraps,
        c.failures,
    );
    let held: Vec<serde_json::Value> = s["held"].as_array().cloned().unwrap_or_default();
    human.push_str(&held::status_lines(&held));
    if s["keep_wrapped_sol"] == true {
        human.push_str("\nwrapped SOL: payouts stay wrapped (keep_wrapped_sol)");
    }
    for l in s["listings"].as_array().into_iter().flatten() {
        human.push_str(&format!("\nslots of listing {}:", l["listing"].as_str().unwrap_or("?")));
        for slot in l["slots"].as_array().into_iter().flatten() {
            let gpus: Vec<&str> = slot["gpus"].as_array().into_iter().flatten().filter_map(|g| g.as_str()).collect();
            let what = match slot["held_by"].as_str() {
                Some(r) => format!("held by {r} since {}", slot["since"].as_str().unwrap_or("?")),
                None => "free".into(),
            };
            human.push_str(&format!(
                "\n  {}  port {}  GPUs {}  {what}",
                slot["slot"],
                slot["ssh_port"],
                if gpus.is_empty() { "none".to_string() } else { gpus.join(",") }
            ));
        }
    }
    Ok(Output::new(s, human))
}
