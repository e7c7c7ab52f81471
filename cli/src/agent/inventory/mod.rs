//! What this host can sell: its GPUs (keyed by UUID, never by index: NVML indexes can change
//! across reboots) and, per listing, the slots it serves rentals from. A slot is a fixed set
//! of GPUs, host ports and a CPU/memory/disk share; a listing's on-chain capacity must equal
//! its number of slots, and no GPU or port may belong to two slots.
pub mod allocator;
pub mod gpus;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use gpus::Gpu;

/// One slot as the provider declares it in `agent.toml` (`[[serve.slots]]`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlotSpec {
    /// GPU UUIDs (`GPU-…`, or `MIG-…` for a MIG instance) that only this slot's rental sees.
    #[serde(default)]
    pub gpus: Vec<String>,
    /// Host port published to the machine's sshd.
    pub ssh_port: u16,
    /// Host port published to Jupyter, when the listing offers it.
    #[serde(default)]
    pub jupyter_port: Option<u16>,
    /// CPU share, e.g. 8 or 7.5.
    pub cpus: f64,
    pub memory_gb: u32,
    /// The rental's workspace size (enforced where the runtime's storage can enforce it).
    #[serde(default)]
    pub disk_gb: Option<u32>,
    /// Process limit (a fork bomb stays inside the slot).
    #[serde(default = "default_pids")]
    pub pids: u32,
    /// /dev/shm size (PyTorch data loaders need more than the runtimes' 64 MB default).
    #[serde(default = "default_shm_gb")]
    pub shm_gb: u32,
}

fn default_pids() -> u32 {
    4_096
}

fn default_shm_gb() -> u32 {
    1
}

impl SlotSpec {
    /// Every host port this slot publishes.
    pub fn ports(&self) -> Vec<u16> {
        std::iter::once(self.ssh_port).chain(self.jupyter_port).collect()
    }

    /// The slot as environment variables for provision commands.
    pub fn env(&self, index: usize) -> Vec<(String, String)> {
        let vars = [
            ("SLOT", index.to_string()),
            ("SLOT_GPUS", self.gpus.join(",")),
            ("SLOT_SSH_PORT", self.ssh_port.to_string()),
            ("SLOT_JUPYTER_PORT", self.jupyter_port.map(|p| p.to_string()).unwrap_or_default()),
            ("SLOT_CPUS", self.cpus.to_string()),
            ("SLOT_MEMORY_GB", self.memory_gb.to_string()),
            ("SLOT_DISK_GB", self.disk_gb.map(|d| d.to_string()).unwrap_or_default()),
            ("SLOT_PIDS", self.pids.to_string()),
            ("SLOT_SHM_GB", self.shm_gb.to_string()),
        ];
        vars.into_iter().map(|(k, v)| (format!("GPU_ESCROW_{k}"), v)).collect()
    }
}

/// Checks the declared slots of every listing together: each slot has sane limits, and no
/// GPU or port appears twice anywhere (two slots sharing one would hand it to two rentals).
pub fn check_slots<'a>(listings: impl IntoIterator<Item = (&'a str, &'a [SlotSpec])>) -> Result<(), String> {
    let mut gpu_owner: HashMap<&str, String> = HashMap::new();
    let mut port_owner: HashMap<u16, String> = HashMap::new();
    for (listing, slots) in listings {
        if slots.is_empty() {
            return Err(format!("listing {listing} declares no slots"));
        }
        for (i, s) in slots.iter().enumerate() {
            let here = format!("listing {listing} slot {i}");
            if !(s.cpus > 0.0 && s.cpus.is_finite()) || s.memory_gb == 0 || s.pids == 0 {
                return Err(format!("{here}: cpus, memory_gb and pids must be positive"));
            }
            if s.ssh_port == 0 || s.jupyter_port == Some(0) {
                return Err(format!("{here}: port 0 cannot be published"));
            }
            for g in &s.gpus {
                if let Some(other) = gpu_owner.insert(g, here.clone()) {
                    return Err(format!("GPU {g} is in both {other} and {here}"));
                }
            }
            for p in s.ports() {
                if let Some(other) = port_owner.insert(p, here.clone()) {
                    return Err(format!("port {p} is in both {other} and {here}"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) fn slot(gpus: &[&str], ssh_port: u16) -> SlotSpec {
    SlotSpec {
        gpus: gpus.iter().map(|g| g.to_string()).collect(),
        ssh_port,
        jupyter_port: None,
        cpus: 4.0,
        memory_gb: 16,
        disk_gb: None,
        pids: 4_096,
        shm_gb: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_gpu_or_port_may_belong_to_two_slots() {
        let a = [slot(&["GPU-a"], 2201), slot(&["GPU-b"], 2202)];
        let b = [slot(&["GPU-c"], 2203)];
        assert!(check_slots([("L1", &a[..]), ("L2", &b[..])]).is_ok());
        let shared_gpu = [slot(&["GPU-a"], 2204)];
        let e = check_slots([("L1", &a[..]), ("L2", &shared_gpu[..])]).unwrap_err();
        assert!(e.contains("GPU GPU-a is in both listing L1 slot 0 and listing L2 slot 0"), "{e}");
        let mut jupyter = slot(&["GPU-d"], 2205);
        jupyter.jupyter_port = Some(2202);
        let e = check_slots([("L1", &a[..]), ("L2", &[jupyter][..])]).unwrap_err();
        assert!(e.contains("port 2202"), "{e}");
        assert!(check_slots([("L1", &[][..])]).unwrap_err().contains("no slots"));
        let mut zero = slot(&[], 2206);
        zero.memory_gb = 0;
        assert!(check_slots([("L1", &[zero][..])]).is_err());
    }
}
