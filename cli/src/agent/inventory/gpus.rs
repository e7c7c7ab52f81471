//! The host's GPUs: discovered with `nvidia-smi` where it exists, otherwise as declared in
//! the agent config (`[[gpus]]`), and checked against what each listing advertises.
use serde::{Deserialize, Serialize};

use super::SlotSpec;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    /// `GPU-…` (or `MIG-…`): stable across reboots, unlike the index.
    pub uuid: String,
    /// As the driver names it, e.g. `NVIDIA GeForce RTX 4090`.
    pub name: String,
    pub memory_mib: u64,
    #[serde(default)]
    pub pci_bus_id: Option<String>,
}

pub const NVIDIA_SMI_QUERY: &str = "--query-gpu=uuid,pci.bus_id,name,memory.total";

/// Parses `nvidia-smi --query-gpu=uuid,pci.bus_id,name,memory.total --format=csv,noheader,nounits`.
pub fn parse_nvidia_smi(csv: &str) -> Result<Vec<Gpu>, String> {
    csv.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let [uuid, bus, name, mem] = f[..] else {
                return Err(format!("nvidia-smi printed an unexpected line: {line}"));
            };
            let memory_mib = mem.parse().map_err(|_| format!("nvidia-smi printed memory {mem:?} for {uuid}"))?;
            Ok(Gpu { uuid: uuid.into(), name: name.into(), memory_mib, pci_bus_id: Some(bus.into()) })
        })
        .collect()
}

/// The GPUs `nvidia-smi` reports, or None when it is not installed (a host without NVIDIA
/// drivers, as in tests: the config must then declare the GPUs).
pub async fn discover() -> Option<Result<Vec<Gpu>, String>> {
    let out = tokio::process::Command::new("nvidia-smi")
        .args([NVIDIA_SMI_QUERY, "--format=csv,noheader,nounits"])
        .output()
        .await;
    match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(Err(format!("cannot run nvidia-smi: {e}"))),
        Ok(o) if !o.status.success() => {
            Some(Err(format!("nvidia-smi failed ({}): {}", o.status, String::from_utf8_lossy(&o.stderr).trim())))
        }
        Ok(o) => Some(parse_nvidia_smi(&String::from_utf8_lossy(&o.stdout))),
    }
}

/// Which GPUs the agent serves from: the discovered ones when the host has a driver (a
/// declared GPU it does not report is an error: the config drifted from the hardware),
/// otherwise the declared ones.
pub fn inventory(discovered: Option<Result<Vec<Gpu>, String>>, declared: &[Gpu]) -> Result<Vec<Gpu>, String> {
    match discovered {
        None => Ok(declared.to_vec()),
        Some(Err(e)) => Err(e),
        Some(Ok(found)) => {
            for d in declared {
                if !found.iter().any(|g| g.uuid == d.uuid) {
                    return Err(format!("GPU {} is declared in the config but nvidia-smi does not report it", d.uuid));
                }
            }
            Ok(found)
        }
    }
}

/// What a listing advertises, as the checks need it.
pub struct Advertised<'a> {
    pub gpu_model: &'a str,
    pub gpu_count: u8,
    pub vram_gb: u16,
}

/// Every slot of a listing must hold exactly the advertised number of GPUs, each on this
/// host, of the advertised model (the listing's model within the driver's name, ignoring
/// case: "RTX 4090" in "NVIDIA GeForce RTX 4090") and with at least the advertised VRAM.
pub fn check_listing(listing: &str, ad: &Advertised, slots: &[SlotSpec], gpus: &[Gpu]) -> Result<(), String> {
    let model = ad.gpu_model.to_lowercase();
    for (i, s) in slots.iter().enumerate() {
        if s.gpus.len() != ad.gpu_count as usize {
            return Err(format!(
                "listing {listing} advertises {} GPU(s) per rental but slot {i} holds {}",
                ad.gpu_count,
                s.gpus.len()
            ));
        }
        for uuid in &s.gpus {
            let g = gpus
                .iter()
                .find(|g| &g.uuid == uuid)
                .ok_or_else(|| format!("listing {listing} slot {i}: GPU {uuid} is not on this host"))?;
            if !g.name.to_lowercase().contains(&model) {
                return Err(format!(
                    "listing {listing} advertises {} but slot {i}'s GPU {uuid} is a {}",
                    ad.gpu_model, g.name
                ));
            }
            // Drivers report a little less than the marketed size (24,564 MiB on a 24 GB card).
            let gb = (g.memory_mib + 512) / 1024;
            if gb < ad.vram_gb as u64 {
                return Err(format!(
                    "listing {listing} advertises {} GB of VRAM but slot {i}'s GPU {uuid} has {} MiB",
                    ad.vram_gb, g.memory_mib
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::inventory::slot;

    fn gpu(uuid: &str, name: &str, mib: u64) -> Gpu {
        Gpu { uuid: uuid.into(), name: name.into(), memory_mib: mib, pci_bus_id: None }
    }

    #[test]
    fn nvidia_smi_output_is_read_by_uuid() {
        let csv = "GPU-1d3c, 00000000:01:00.0, NVIDIA GeForce RTX 4090, 24564\n\
                   GPU-77aa, 00000000:02:00.0, NVIDIA GeForce RTX 4090, 24564\n";
        let g = parse_nvidia_smi(csv).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!((g[1].uuid.as_str(), g[1].memory_mib), ("GPU-77aa", 24_564));
        assert_eq!(g[0].pci_bus_id.as_deref(), Some("00000000:01:00.0"));
        assert!(parse_nvidia_smi("GPU-1, x").is_err());
        assert!(parse_nvidia_smi("GPU-1, b, n, lots").is_err());
    }

    #[test]
    fn the_inventory_prefers_the_driver_and_refuses_drift() {
        let declared = [gpu("GPU-a", "NVIDIA GeForce RTX 4090", 24_564)];
        assert_eq!(inventory(None, &declared).unwrap(), declared);
        let found =
            vec![gpu("GPU-a", "NVIDIA GeForce RTX 4090", 24_564), gpu("GPU-b", "NVIDIA GeForce RTX 4090", 24_564)];
        assert_eq!(inventory(Some(Ok(found.clone())), &declared).unwrap(), found);
        let e = inventory(Some(Ok(found[1..].to_vec())), &declared).unwrap_err();
        assert!(e.contains("GPU-a is declared"), "{e}");
        assert!(inventory(Some(Err("driver gone".into())), &declared).is_err());
    }

    #[test]
    fn a_listing_must_match_the_gpus_of_every_slot() {
        let gpus = [gpu("GPU-a", "NVIDIA GeForce RTX 4090", 24_564), gpu("GPU-b", "NVIDIA A100-SXM4-40GB", 40_960)];
        let ad = Advertised { gpu_model: "RTX 4090", gpu_count: 1, vram_gb: 24 };
        assert!(check_listing("L", &ad, &[slot(&["GPU-a"], 2201)], &gpus).is_ok());
        let e = check_listing("L", &ad, &[slot(&["GPU-b"], 2201)], &gpus).unwrap_err();
        assert!(e.contains("is a NVIDIA A100"), "{e}");
        let e = check_listing("L", &ad, &[slot(&["GPU-z"], 2201)], &gpus).unwrap_err();
        assert!(e.contains("not on this host"), "{e}");
        let e = check_listing("L", &ad, &[slot(&["GPU-a", "GPU-b"], 2201)], &gpus).unwrap_err();
        assert!(e.contains("advertises 1 GPU(s) per rental but slot 0 holds 2"), "{e}");
        let big = Advertised { gpu_model: "RTX 4090", gpu_count: 1, vram_gb: 48 };
        assert!(check_listing("L", &big, &[slot(&["GPU-a"], 2201)], &gpus).unwrap_err().contains("VRAM"));
    }
}
