//! The provider's own tooling: a provision command that prints the connection details as
//! JSON (or exits non-zero to decline) and a teardown command, each given the rental and,
//! when the listing is served from slots, the slot (`GPU_ESCROW_SLOT_*`) in its environment.
use std::time::Duration;

use gpu_escrow_sdk::access::ConnectionDetails;

use super::{Provisioned, Request};
use crate::agent::inventory::allocator::HeldSlot;
use crate::agent::probe::Target;
use crate::agent::provision;

#[derive(Debug, Clone)]
pub struct CommandBackend {
    pub provision: String,
    pub teardown: Option<String>,
    pub teardown_timeout: Duration,
    /// Check TCP and the host key before activating, and health behind heartbeats. Off only
    /// for the flag-configured agent without slots (its details may name a host the agent
    /// cannot reach).
    pub probe: bool,
    /// Where the agent reaches the machine [default: the host in the details].
    pub probe_host: Option<String>,
}

impl CommandBackend {
    pub async fn provision(&self, req: &Request) -> Result<Provisioned, String> {
        let mut env = req.env.clone();
        if let Some(s) = &req.slot {
            env.extend(s.spec.env(s.index));
        }
        let details = provision::provision(&self.provision, &env, req.timeout).await?;
        validate(&details, req.slot.as_ref())?;
        let probe = match (&details.host, self.probe) {
            (Some(host), true) => Some(Target {
                host: self.probe_host.clone().unwrap_or_else(|| host.clone()),
                port: details.port.unwrap_or(22),
                host_key: details.host_key.clone(),
            }),
            _ => None,
        };
        Ok(Provisioned { details, probe })
    }

    pub async fn teardown(&self, env: &[(String, String)]) -> Result<(), String> {
        match &self.teardown {
            Some(command) => provision::teardown(command, env, self.teardown_timeout).await,
            None => Ok(()),
        }
    }
}

/// The command's output, checked like every backend's: the details' own rules (names, not
/// options; a real host key line; no control characters: `ConnectionDetails::validate`), and
/// the slot's port when a slot is held (a command that answers with another port would hand
/// out what another rental holds).
pub fn validate(d: &ConnectionDetails, slot: Option<&HeldSlot>) -> Result<(), String> {
    d.validate().map_err(|e| e.to_string())?;
    if let (Some(s), Some(_)) = (slot, &d.host) {
        let port = d.port.unwrap_or(22);
        if port != s.spec.ssh_port {
            return Err(format!(
                "the details give port {port} but the rental's slot publishes port {}",
                s.spec.ssh_port
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::inventory::slot;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    fn held() -> HeldSlot {
        HeldSlot { index: 0, spec: slot(&["GPU-a"], 2201), since: 0 }
    }

    fn details(port: u16) -> ConnectionDetails {
        ConnectionDetails {
            host: Some("203.0.113.7".into()),
            port: Some(port),
            user: Some("root".into()),
            host_key: Some(KEY.into()),
            ..Default::default()
        }
    }

    #[test]
    fn command_output_is_checked_against_the_slot() {
        assert!(validate(&details(2201), Some(&held())).is_ok());
        assert!(validate(&details(2202), Some(&held())).unwrap_err().contains("slot publishes port 2201"));
        assert!(validate(&details(2202), None).is_ok(), "no slot, no port rule");
        let spaced = ConnectionDetails { user: Some("root -oProxyCommand=x".into()), ..details(2201) };
        assert!(validate(&spaced, Some(&held())).unwrap_err().contains("user"));
        let bad_key = ConnectionDetails { host_key: Some(format!("{KEY} comment")), ..details(2201) };
        assert!(validate(&bad_key, Some(&held())).unwrap_err().contains("host_key"));
    }

    #[tokio::test]
    async fn the_command_sees_its_slot() {
        let dir = tempfile::tempdir().unwrap();
        let b = CommandBackend {
            provision: r#"printf '{"host":"127.0.0.1","port":%s,"note":"%s %s"}' "$GPU_ESCROW_SLOT_SSH_PORT" "$GPU_ESCROW_SLOT_GPUS" "$GPU_ESCROW_RENTAL""#
                .into(),
            teardown: None,
            teardown_timeout: Duration::from_secs(5),
            probe: true,
            probe_host: None,
        };
        let req = Request {
            rental: "R1".into(),
            renter: "renter".into(),
            listing: "L".into(),
            ssh_key: KEY.into(),
            slot: Some(held()),
            env: vec![("GPU_ESCROW_RENTAL".into(), "R1".into())],
            timeout: Duration::from_secs(5),
            dir: dir.path().into(),
        };
        let p = b.provision(&req).await.unwrap();
        assert_eq!(p.details.note.as_deref(), Some("GPU-a R1"));
        assert_eq!(p.probe, Some(Target { host: "127.0.0.1".into(), port: 2201, host_key: None }));
    }
}
