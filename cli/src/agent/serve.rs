//! Which listings the agent serves, and with what: a backend and slots per `[[serve]]`
//! listing, or the flag-configured provision command for every listing (no slots). Built
//! once at start, after checking that what the chain advertises is what this host has: each
//! served listing is the provider's, its on-chain capacity equals its number of slots, and
//! every slot's GPUs are on this host and of the advertised model and VRAM.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use gpu_escrow_sdk::accounts::fixed_str;
use gpu_escrow_sdk::client::EscrowClient;
use gpu_escrow_sdk::Pubkey;

use super::backend::command::CommandBackend;
use super::backend::container::ContainerBackend;
use super::backend::kubernetes::KubernetesBackend;
use super::backend::Backend;
use super::config::{AgentConfig, BackendKind, Serve};
use super::inventory::{gpus, SlotSpec};
use crate::context::parse_pubkey;
use crate::error::CliError;

/// How one listing is served.
#[derive(Debug, Clone)]
pub struct Served {
    pub backend: Arc<Backend>,
    /// None: the flag-configured command, without slots (capacity is not checked).
    pub slots: Option<Vec<SlotSpec>>,
}

pub struct Serving {
    by_listing: HashMap<Pubkey, Served>,
    /// For every listing of the provider (or those named with --listing) when no
    /// `[[serve]]` is configured.
    fallback: Option<(Served, Option<HashSet<Pubkey>>)>,
}

impl Serving {
    pub async fn build(cfg: &AgentConfig, client: &EscrowClient, me: &Pubkey) -> Result<Self, CliError> {
        let teardown_timeout = Duration::from_secs(cfg.teardown_timeout_secs);
        if cfg.serve.is_empty() {
            let command = cfg.provision_command.clone().expect("resolve requires a command without [[serve]]");
            let backend = Backend::Command(CommandBackend {
                provision: command,
                teardown: cfg.teardown_command.clone(),
                teardown_timeout,
                probe: false,
                probe_host: None,
            });
            let only = match &cfg.listings {
                None => None,
                Some(list) => Some(list.iter().map(|l| parse_pubkey(l, "listing")).collect::<Result<HashSet<_>, _>>()?),
            };
            let served = Served { backend: Arc::new(backend), slots: None };
            return Ok(Serving { by_listing: HashMap::new(), fallback: Some((served, only)) });
        }
        let needs_gpus = cfg.serve.iter().any(|s| s.slots.iter().any(|slot| !slot.gpus.is_empty()));
        let inventory = if needs_gpus {
            gpus::inventory(gpus::discover().await, &cfg.gpus).map_err(CliError::Refused)?
        } else {
            Vec::new()
        };
        let mut by_listing = HashMap::new();
        for s in &cfg.serve {
            let listing = parse_pubkey(&s.listing, "listing")?;
            check_listing(client, me, &listing, s, &inventory).await?;
            let backend = make_backend(s, teardown_timeout, me).await?;
            by_listing.insert(listing, Served { backend: Arc::new(backend), slots: Some(s.slots.clone()) });
        }
        if by_listing.values().any(|s| s.backend.probes()) {
            require_tool("ssh-keyscan")?;
            require_tool("ssh-keygen")?;
        }
        Ok(Serving { by_listing, fallback: None })
    }

    pub fn get(&self, listing: &Pubkey) -> Option<&Served> {
        self.by_listing.get(listing).or(match &self.fallback {
            Some((served, None)) => Some(served),
            Some((served, Some(only))) if only.contains(listing) => Some(served),
            _ => None,
        })
    }

    /// What tears a rental of `listing` down: its backend, or the flag-configured command
    /// even for a listing no longer named with --listing (it was served once).
    pub fn for_teardown(&self, listing: &Pubkey) -> Option<&Served> {
        self.by_listing.get(listing).or(self.fallback.as_ref().map(|(s, _)| s))
    }

    /// Every distinct backend, for reconciliation.
    pub fn backends(&self) -> Vec<Arc<Backend>> {
        self.by_listing.values().chain(self.fallback.iter().map(|(s, _)| s)).map(|s| s.backend.clone()).collect()
    }

    /// The slot-served listings, for `agent status`.
    pub fn slotted(&self) -> Vec<(Pubkey, &[SlotSpec])> {
        let mut v: Vec<_> =
            self.by_listing.iter().filter_map(|(k, s)| s.slots.as_deref().map(|slots| (*k, slots))).collect();
        v.sort_by_key(|(k, _)| k.to_string());
        v
    }
}

async fn check_listing(
    client: &EscrowClient,
    me: &Pubkey,
    listing: &Pubkey,
    s: &Serve,
    inventory: &[gpus::Gpu],
) -> Result<(), CliError> {
    let l = client.listing(listing).await.map_err(|e| CliError::Refused(format!("served listing {listing}: {e}")))?;
    if l.provider != *me {
        return Err(CliError::Refused(format!("listing {listing} belongs to provider {}, not to {me}", l.provider)));
    }
    if l.capacity as usize != s.slots.len() {
        return Err(CliError::Refused(format!(
            "listing {listing} has capacity {} on-chain but {} slot(s) in the agent config; make them equal \
             (`gpu-escrow listing update {listing} --capacity {}`, or declare {} slots)",
            l.capacity,
            s.slots.len(),
            s.slots.len(),
            l.capacity
        )));
    }
    let model = fixed_str(&l.gpu_model);
    let ad = gpus::Advertised { gpu_model: &model, gpu_count: l.gpu_count, vram_gb: l.vram_gb };
    gpus::check_listing(&listing.to_string(), &ad, &s.slots, inventory).map_err(CliError::Refused)
}

async fn make_backend(s: &Serve, teardown_timeout: Duration, me: &Pubkey) -> Result<Backend, CliError> {
    let host = s.host.clone().unwrap_or_default();
    Ok(match s.backend {
        BackendKind::Container => {
            let b = ContainerBackend {
                cfg: s.container.clone().expect("checked"),
                public_host: host,
                provider: me.to_string(),
            };
            b.ensure_firewall().await.map_err(|e| CliError::Refused(format!("listing {}: {e}", s.listing)))?;
            Backend::Container(b)
        }
        BackendKind::Kubernetes => Backend::Kubernetes(
            KubernetesBackend::connect(s.kubernetes.clone().expect("checked"), host, me.to_string())
                .await
                .map_err(|e| CliError::Refused(format!("listing {}: {e}", s.listing)))?,
        ),
        BackendKind::Command => {
            let c = s.command.clone().expect("checked");
            Backend::Command(CommandBackend {
                provision: c.provision,
                teardown: c.teardown,
                teardown_timeout,
                probe: c.probe,
                probe_host: c.probe_host,
            })
        }
    })
}

fn require_tool(name: &str) -> Result<(), CliError> {
    let found =
        std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()));
    if found {
        Ok(())
    } else {
        Err(CliError::Refused(format!(
            "{name} is not on PATH; the agent checks each machine's SSH host key with it (apt-get install openssh-client)"
        )))
    }
}
