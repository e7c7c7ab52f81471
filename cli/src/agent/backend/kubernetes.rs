//! For providers who outgrow one host: each rental gets a namespace of its own on a
//! Kubernetes cluster, through the API server (the `kube` client, server-side apply):
//! - a Secret with the renter's key, the per-rental host key and the sshd config;
//! - a Pod limited to the slot's GPU count (`nvidia.com/gpu`, or a MIG profile's resource),
//!   CPU, memory, ephemeral storage and /dev/shm, unprivileged, without a service-account
//!   token or service links;
//! - a NetworkPolicy: sshd (and Jupyter) reachable from anywhere, egress to the internet but
//!   not to private ranges (the cluster, its nodes, the provider's networks);
//! - a NodePort Service on the slot's port.
//!
//! Everything carries the rental's label; teardown deletes the namespace. The device plugin
//! chooses which of a node's GPUs the Pod gets, so here a slot fixes the count, not UUIDs.
use std::collections::BTreeMap;
use std::path::PathBuf;

use gpu_escrow_sdk::access::ConnectionDetails;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::Client;
use serde::Deserialize;
use serde_json::json;

use super::container::{sshd_config, MOUNT};
use super::{hostkey, Provisioned, Request, LISTING_LABEL, PROVIDER_LABEL, RENTAL_LABEL, SLOT_LABEL};
use crate::agent::inventory::allocator::HeldSlot;
use crate::agent::probe::{Health, Target};

/// `[serve.kubernetes]` in the agent config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesConfig {
    /// [default: $KUBECONFIG or ~/.kube/config, else the in-cluster service account]
    #[serde(default)]
    pub kubeconfig: Option<PathBuf>,
    #[serde(default)]
    pub context: Option<String>,
    pub image: String,
    #[serde(default = "default_user")]
    pub user: String,
    /// The extended resource a slot's GPUs are counted in, e.g. a MIG profile's
    /// `nvidia.com/mig-1g.10gb` [default: nvidia.com/gpu].
    #[serde(default = "default_gpu_resource")]
    pub gpu_resource: String,
    /// e.g. "nvidia" where the GPU runtime is a RuntimeClass.
    #[serde(default)]
    pub runtime_class: Option<String>,
    /// Pins rentals to nodes, e.g. { "kubernetes.io/hostname" = "gpu-node-1" }.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// Resolvers for the Pod (cluster DNS lives in a private range the policy blocks).
    #[serde(default = "default_dns")]
    pub dns: Vec<String>,
    /// Egress the rental may not reach.
    #[serde(default = "default_blocked")]
    pub blocked_networks: Vec<String>,
    /// Where the agent reaches node ports [default: the public host].
    #[serde(default)]
    pub probe_host: Option<String>,
}

fn default_user() -> String {
    "root".into()
}
fn default_gpu_resource() -> String {
    "nvidia.com/gpu".into()
}
fn default_dns() -> Vec<String> {
    vec!["1.1.1.1".into(), "8.8.8.8".into()]
}
/// RFC 1918, carrier-grade NAT and link-local (cloud metadata endpoints live there).
pub fn default_blocked() -> Vec<String> {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"].map(String::from).to_vec()
}

/// The ports Kubernetes hands out as node ports by default.
pub const NODE_PORTS: std::ops::RangeInclusive<u16> = 30_000..=32_767;

#[derive(Clone)]
pub struct KubernetesBackend {
    pub cfg: KubernetesConfig,
    pub public_host: String,
    pub provider: String,
    client: Client,
}

impl std::fmt::Debug for KubernetesBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubernetesBackend").field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

/// A DNS-1123 name for the rental's namespace: lowercase hex of the address's first 20
/// bytes (base58 has capitals, and the whole address in hex would pass the 63-byte limit).
pub fn namespace(rental: &str) -> String {
    let bytes = rental.parse::<gpu_escrow_sdk::Pubkey>().map(|k| k.to_bytes()).unwrap_or_default();
    let hex: String = bytes[..20].iter().map(|b| format!("{b:02x}")).collect();
    format!("gpu-escrow-{hex}")
}

/// What the agent creates for one rental, as data.
#[derive(Debug, Clone)]
pub struct Objects {
    pub namespace: Namespace,
    pub secret: Secret,
    pub policy: NetworkPolicy,
    pub pod: Pod,
    pub service: Service,
}

/// The rental's files for the Secret.
pub struct Keys {
    pub authorized_keys: String,
    pub host_key: String,
    pub host_key_pub: String,
}

const NAME: &str = "machine";

/// Who asks for the objects: the provider, for the labels.
pub struct Owner<'a> {
    pub provider: &'a str,
    pub rental: &'a str,
    pub listing: &'a str,
}

pub fn objects(cfg: &KubernetesConfig, owner: &Owner, slot: &HeldSlot, keys: &Keys) -> Objects {
    let Owner { provider, rental, listing } = *owner;
    let ns = namespace(rental);
    let labels = json!({
        PROVIDER_LABEL: provider, RENTAL_LABEL: rental, LISTING_LABEL: listing, SLOT_LABEL: slot.index.to_string()
    });
    let meta = |name: &str| json!({ "name": name, "namespace": ns, "labels": labels });
    let s = &slot.spec;
    let mut limits = json!({
        "cpu": s.cpus.to_string(),
        "memory": format!("{}Gi", s.memory_gb),
    });
    if let Some(disk) = s.disk_gb {
        limits["ephemeral-storage"] = json!(format!("{disk}Gi"));
    }
    if !s.gpus.is_empty() {
        limits[cfg.gpu_resource.as_str()] = json!(s.gpus.len().to_string());
    }
    // Only sshd: this backend starts no Jupyter (renters forward ports over ssh).
    let ports = vec![json!({ "name": "ssh", "port": 22, "targetPort": 22, "nodePort": s.ssh_port, "protocol": "TCP" })];
    let ingress_ports = vec![json!({ "port": 22, "protocol": "TCP" })];
    let sshd = sshd_config(&cfg.user);
    let data: BTreeMap<&str, &str> = [
        ("authorized_keys", keys.authorized_keys.as_str()),
        (hostkey::KEY_FILE, keys.host_key.as_str()),
        ("ssh_host_ed25519_key.pub", keys.host_key_pub.as_str()),
        ("sshd_config", sshd.as_str()),
    ]
    .into();
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": meta(NAME),
        "spec": {
            "restartPolicy": "Always",
            "automountServiceAccountToken": false,
            "enableServiceLinks": false,
            "hostNetwork": false, "hostPID": false, "hostIPC": false,
            "runtimeClassName": cfg.runtime_class,
            "nodeSelector": cfg.node_selector,
            "dnsPolicy": "None",
            "dnsConfig": { "nameservers": cfg.dns },
            "containers": [{
                "name": NAME,
                "image": cfg.image,
                "command": pod_command(),
                "ports": [{ "containerPort": 22, "name": "ssh" }],
                "resources": { "limits": limits, "requests": limits },
                "securityContext": {
                    "privileged": false,
                    "allowPrivilegeEscalation": false,
                    "capabilities": { "drop": ["NET_RAW"] }
                },
                "volumeMounts": [
                    { "name": "keys", "mountPath": SECRET_MOUNT, "readOnly": true },
                    { "name": "workspace", "mountPath": "/workspace" },
                    { "name": "shm", "mountPath": "/dev/shm" }
                ]
            }],
            "volumes": [
                { "name": "keys", "secret": { "secretName": "keys", "defaultMode": 0o600 } },
                { "name": "workspace", "emptyDir": { "sizeLimit": s.disk_gb.map(|d| format!("{d}Gi")) } },
                { "name": "shm", "emptyDir": { "medium": "Memory", "sizeLimit": format!("{}Gi", s.shm_gb) } }
            ]
        }
    });
    Objects {
        namespace: from(
            json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": ns, "labels": labels } }),
        ),
        secret: from(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": meta("keys"), "type": "Opaque", "stringData": data
        })),
        policy: from(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta("isolate"),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{ "ports": ingress_ports }],
                "egress": [{ "to": [{ "ipBlock": { "cidr": "0.0.0.0/0", "except": cfg.blocked_networks } }] }]
            }
        })),
        pod: from(pod),
        service: from(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": meta(NAME),
            "spec": { "type": "NodePort", "selector": { RENTAL_LABEL: rental }, "ports": ports }
        })),
    }
}

/// Where the Secret is mounted. Secret volumes are symlinks in a world-writable directory,
/// which sshd's StrictModes refuses, so the Pod copies the files into a root-owned 0755
/// directory with 0600 files first, then runs sshd with the same config as a container.
const SECRET_MOUNT: &str = "/etc/gpu-escrow";

pub fn pod_command() -> Vec<String> {
    let script = format!(
        "mkdir -p /run/sshd {MOUNT} && cp {SECRET_MOUNT}/* {MOUNT}/ && chmod 600 {MOUNT}/* && \
         exec /usr/sbin/sshd -D -e -f {MOUNT}/sshd_config"
    );
    vec!["/bin/sh".into(), "-c".into(), script]
}

fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("the objects' shape is fixed and tested")
}

/// A 404 from the API server: the object is not there.
fn absent(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

impl KubernetesBackend {
    pub async fn connect(cfg: KubernetesConfig, public_host: String, provider: String) -> Result<Self, String> {
        let options = kube::config::KubeConfigOptions { context: cfg.context.clone(), ..Default::default() };
        let config = match &cfg.kubeconfig {
            Some(path) => {
                let kc = kube::config::Kubeconfig::read_from(path)
                    .map_err(|e| format!("kubeconfig {}: {e}", path.display()))?;
                kube::Config::from_custom_kubeconfig(kc, &options).await.map_err(|e| e.to_string())?
            }
            None => kube::Config::infer().await.map_err(|e| format!("no Kubernetes config found: {e}"))?,
        };
        let client = Client::try_from(config).map_err(|e| format!("Kubernetes client: {e}"))?;
        Ok(KubernetesBackend { cfg, public_host, provider, client })
    }

    pub async fn provision(&self, req: &Request) -> Result<Provisioned, String> {
        let slot = req.slot.as_ref().ok_or("the kubernetes backend serves listings from slots; none was assigned")?;
        let (key_path, host_key) = hostkey::ensure(&req.dir).await?;
        let read = |p: PathBuf| std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()));
        let keys = Keys {
            authorized_keys: format!("{}\n", req.ssh_key),
            host_key: read(key_path.clone())?,
            host_key_pub: read(key_path.with_extension("pub"))?,
        };
        let owner = Owner { provider: &self.provider, rental: &req.rental, listing: &req.listing };
        let o = objects(&self.cfg, &owner, slot, &keys);
        let ns = namespace(&req.rental);
        let apply = PatchParams::apply("gpu-escrow-agent").force();
        let err = |what: &'static str| move |e: kube::Error| format!("cannot apply the rental's {what}: {e}");
        Api::<Namespace>::all(self.client.clone())
            .patch(&ns, &apply, &Patch::Apply(&o.namespace))
            .await
            .map_err(err("namespace"))?;
        Api::<Secret>::namespaced(self.client.clone(), &ns)
            .patch("keys", &apply, &Patch::Apply(&o.secret))
            .await
            .map_err(err("secret"))?;
        Api::<NetworkPolicy>::namespaced(self.client.clone(), &ns)
            .patch("isolate", &apply, &Patch::Apply(&o.policy))
            .await
            .map_err(err("network policy"))?;
        Api::<Pod>::namespaced(self.client.clone(), &ns)
            .patch(NAME, &apply, &Patch::Apply(&o.pod))
            .await
            .map_err(err("pod"))?;
        Api::<Service>::namespaced(self.client.clone(), &ns)
            .patch(NAME, &apply, &Patch::Apply(&o.service))
            .await
            .map_err(err("service"))?;
        let details = ConnectionDetails {
            host: Some(self.public_host.clone()),
            port: Some(slot.spec.ssh_port),
            user: Some(self.cfg.user.clone()),
            host_key: Some(host_key.clone()),
            note: Some(format!("namespace {ns}, workspace at /workspace")),
            ..Default::default()
        };
        let host = self.cfg.probe_host.clone().unwrap_or_else(|| self.public_host.clone());
        Ok(Provisioned { details, probe: Some(Target { host, port: slot.spec.ssh_port, host_key: Some(host_key) }) })
    }

    pub async fn observe(&self, rental: &str, _slot: Option<&HeldSlot>) -> Health {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &namespace(rental));
        match pods.get(NAME).await {
            Err(e) if absent(&e) => Health::Broken(format!("pod {NAME} in {} is gone", namespace(rental))),
            Err(e) => Health::Unobservable(format!("the Kubernetes API did not answer: {e}")),
            Ok(p) => {
                let status = p.status.unwrap_or_default();
                let ready = status.container_statuses.unwrap_or_default().iter().all(|c| c.ready);
                match status.phase.as_deref() {
                    Some("Running") if ready => Health::Healthy,
                    phase => Health::Broken(format!("pod is {} (ready: {ready})", phase.unwrap_or("unknown"))),
                }
            }
        }
    }

    pub async fn teardown(&self, rental: &str) -> Result<(), String> {
        match Api::<Namespace>::all(self.client.clone()).delete(&namespace(rental), &DeleteParams::foreground()).await {
            Ok(_) => Ok(()),
            Err(e) if absent(&e) => Ok(()),
            Err(e) => Err(format!("cannot delete namespace {}: {e}", namespace(rental))),
        }
    }

    pub async fn owned(&self) -> Result<Vec<String>, String> {
        let list = Api::<Namespace>::all(self.client.clone())
            .list(&ListParams::default().labels(&format!("{PROVIDER_LABEL}={}", self.provider)))
            .await
            .map_err(|e| format!("cannot list namespaces: {e}"))?;
        Ok(list.items.into_iter().filter_map(|n| n.metadata.labels?.remove(RENTAL_LABEL)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::inventory::slot;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    const RENTAL: &str = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";

    fn cfg() -> KubernetesConfig {
        toml::from_str("image = \"registry.example/gpu-sshd:1\"\nruntime_class = \"nvidia\"").unwrap()
    }

    fn keys() -> Keys {
        Keys {
            authorized_keys: "ssh-ed25519 AAAA\n".into(),
            host_key: "PRIVATE".into(),
            host_key_pub: "ssh-ed25519 BBBB".into(),
        }
    }

    #[test]
    fn a_rental_gets_a_labelled_namespace_with_a_limited_pod_and_its_node_port() {
        let mut s = slot(&["GPU-a", "GPU-b"], 30_022);
        s.disk_gb = Some(100);
        s.shm_gb = 8;
        let owner = Owner { provider: "P", rental: RENTAL, listing: "L1" };
        let o = objects(&cfg(), &owner, &HeldSlot { index: 2, spec: s, since: 0 }, &keys());
        let ns = namespace(RENTAL);
        assert!(ns.len() <= 63 && ns.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{ns}");
        assert_eq!(o.namespace.metadata.name.as_deref(), Some(ns.as_str()));
        for labels in [
            &o.namespace.metadata.labels,
            &o.pod.metadata.labels,
            &o.service.metadata.labels,
            &o.secret.metadata.labels,
        ] {
            let l = labels.as_ref().unwrap();
            assert_eq!(
                (l[RENTAL_LABEL].as_str(), l[LISTING_LABEL].as_str(), l[SLOT_LABEL].as_str()),
                (RENTAL, "L1", "2")
            );
            assert_eq!(l[PROVIDER_LABEL], "P");
        }
        let spec = o.pod.spec.as_ref().unwrap();
        let c = &spec.containers[0];
        let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
        let q = |v: &str| Quantity(v.into());
        assert_eq!(limits["nvidia.com/gpu"], q("2"));
        assert_eq!((limits["cpu"].clone(), limits["memory"].clone()), (q("4"), q("16Gi")));
        assert_eq!(limits["ephemeral-storage"], q("100Gi"));
        assert_eq!(spec.automount_service_account_token, Some(false));
        assert_eq!((spec.host_network, spec.host_pid, spec.host_ipc), (Some(false), Some(false), Some(false)));
        assert_eq!(spec.runtime_class_name.as_deref(), Some("nvidia"));
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!((sc.privileged, sc.allow_privilege_escalation), (Some(false), Some(false)));
        let shm = spec.volumes.as_ref().unwrap().iter().find(|v| v.name == "shm").unwrap();
        assert_eq!(shm.empty_dir.as_ref().unwrap().size_limit, Some(q("8Gi")));

        let svc = o.service.spec.as_ref().unwrap();
        assert_eq!(svc.type_.as_deref(), Some("NodePort"));
        let ports = svc.ports.as_ref().unwrap();
        assert_eq!((ports.len(), ports[0].node_port, ports[0].port), (1, Some(30_022), 22));
        assert_eq!(svc.selector.as_ref().unwrap()[RENTAL_LABEL], RENTAL);

        let p = o.policy.spec.as_ref().unwrap();
        let egress = p.egress.as_ref().unwrap()[0].to.as_ref().unwrap()[0].ip_block.as_ref().unwrap();
        assert_eq!(egress.cidr, "0.0.0.0/0");
        assert!(egress.except.as_ref().unwrap().contains(&"10.0.0.0/8".to_string()));
        assert_eq!(p.policy_types.as_ref().unwrap(), &["Ingress", "Egress"]);
        let script = c.command.as_ref().unwrap().last().unwrap().clone();
        assert!(
            script.starts_with("mkdir -p /run/sshd /run/gpu-escrow && cp /etc/gpu-escrow/* /run/gpu-escrow/")
                && script.ends_with("exec /usr/sbin/sshd -D -e -f /run/gpu-escrow/sshd_config"),
            "sshd reads root-owned copies, not the Secret's symlinks: {script}"
        );
        let data = o.secret.string_data.as_ref().unwrap();
        assert_eq!(
            (data["authorized_keys"].as_str(), data["ssh_host_ed25519_key"].as_str()),
            ("ssh-ed25519 AAAA\n", "PRIVATE")
        );
    }

    #[test]
    fn a_mig_profile_is_counted_in_its_own_resource_and_a_cpu_slot_asks_for_no_gpu() {
        let mig = KubernetesConfig { gpu_resource: "nvidia.com/mig-1g.10gb".into(), ..cfg() };
        let owner = Owner { provider: "P", rental: RENTAL, listing: "L" };
        let o = objects(&mig, &owner, &HeldSlot { index: 0, spec: slot(&["MIG-a"], 30_001), since: 0 }, &keys());
        let limits = o.pod.spec.unwrap().containers[0].resources.clone().unwrap().limits.unwrap();
        assert_eq!(limits["nvidia.com/mig-1g.10gb"].0, "1");
        assert!(!limits.contains_key("nvidia.com/gpu"));
        let o = objects(&cfg(), &owner, &HeldSlot { index: 0, spec: slot(&[], 30_001), since: 0 }, &keys());
        assert!(!o.pod.spec.unwrap().containers[0]
            .resources
            .clone()
            .unwrap()
            .limits
            .unwrap()
            .contains_key("nvidia.com/gpu"));
    }
}
