//! How a rental's machine is made: one interface (provision, probe, teardown, list what the
//! agent owns) over three backends, chosen per listing in the agent config:
//! - [`container`]: one docker or podman container per rental with only its slot's GPUs;
//! - [`kubernetes`]: a namespace per rental on a cluster, through the Kubernetes API;
//! - [`command`]: the provider's own provision and teardown commands.
//!
//! Every backend labels what it creates with the rental's address, so the agent can list
//! what it owns and tear down whatever belongs to a rental that has ended.
pub mod command;
pub mod container;
pub mod hostkey;
pub mod kubernetes;

use std::path::PathBuf;
use std::time::Duration;

use gpu_escrow_sdk::access::ConnectionDetails;

use super::inventory::allocator::HeldSlot;
use super::probe::{self, Health};

/// The label (or annotation) that names the rental on everything a backend creates.
pub const RENTAL_LABEL: &str = "gpu-escrow.rental";
pub const LISTING_LABEL: &str = "gpu-escrow.listing";
pub const SLOT_LABEL: &str = "gpu-escrow.slot";
/// Whose agent made it: an agent lists and reconciles only its own provider's machines, so
/// two providers (or two test agents) on one host never tear down each other's rentals.
pub const PROVIDER_LABEL: &str = "gpu-escrow.provider";

/// One rental to provision, as every backend sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub rental: String,
    pub renter: String,
    pub listing: String,
    /// The renter's published key, already checked ([`gpu_escrow_sdk::access::check_published_ssh_key`]).
    pub ssh_key: String,
    pub slot: Option<HeldSlot>,
    /// The rental described as `GPU_ESCROW_*` variables (for commands, and as labels' source).
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// A private directory for this rental's files (its host key), kept until teardown.
    pub dir: PathBuf,
}

/// What a backend made, and how the agent checks it before promising it to the renter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub details: ConnectionDetails,
    /// Where the agent itself reaches the machine's sshd (the published address may only be
    /// reachable from outside, e.g. behind NAT); None: nothing to probe.
    pub probe: Option<probe::Target>,
}

#[derive(Debug, Clone)]
pub enum Backend {
    Command(command::CommandBackend),
    Container(container::ContainerBackend),
    Kubernetes(kubernetes::KubernetesBackend),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Command(_) => "command",
            Backend::Container(_) => "container",
            Backend::Kubernetes(_) => "kubernetes",
        }
    }

    /// Whether the agent checks access before activating and health behind heartbeats.
    pub fn probes(&self) -> bool {
        match self {
            Backend::Command(c) => c.probe,
            Backend::Container(_) | Backend::Kubernetes(_) => true,
        }
    }

    pub async fn provision(&self, req: &Request) -> Result<Provisioned, String> {
        match self {
            Backend::Command(b) => b.provision(req).await,
            Backend::Container(b) => b.provision(req).await,
            Backend::Kubernetes(b) => b.provision(req).await,
        }
    }

    /// Is the rental's machine what was promised: running, with exactly its slot's GPUs, and
    /// answering on its port with the sealed host key? Told apart: observed broken versus
    /// cannot observe (the runtime's API is down).
    pub async fn probe(&self, rental: &str, slot: Option<&HeldSlot>, target: Option<&probe::Target>) -> Health {
        let observed = match self {
            Backend::Command(_) => Health::Healthy,
            Backend::Container(b) => b.observe(rental, slot).await,
            Backend::Kubernetes(b) => b.observe(rental, slot).await,
        };
        match (observed, target) {
            (Health::Healthy, Some(t)) => probe::access(t).await,
            (other, _) => other,
        }
    }

    /// Removes everything made for `rental`; succeeds when nothing is left (also when there
    /// was nothing), so it can be repeated after a crash.
    pub async fn teardown(&self, rental: &str, env: &[(String, String)]) -> Result<(), String> {
        match self {
            Backend::Command(b) => b.teardown(env).await,
            Backend::Container(b) => b.teardown(rental).await,
            Backend::Kubernetes(b) => b.teardown(rental).await,
        }
    }

    /// The rentals this backend has something running for (from its labels). Err when the
    /// runtime cannot be asked; the command backend owns nothing it can list.
    pub async fn owned(&self) -> Result<Vec<String>, String> {
        match self {
            Backend::Command(_) => Ok(Vec::new()),
            Backend::Container(b) => b.owned().await,
            Backend::Kubernetes(b) => b.owned().await,
        }
    }
}
