//! Checks that what the agent is about to promise (or keeps billing for) is real: the
//! machine's port accepts TCP and offers exactly the host key sealed to the renter.
//! [`Health`] tells "observed broken" from "cannot observe", so a runtime or API hiccup is
//! never mistaken for a dead machine.
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::process::Command;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Healthy,
    /// Observed and not as promised (container gone, wrong GPUs, port closed, other host key).
    Broken(String),
    /// Could not look (the runtime's API did not answer): neither healthy nor broken.
    Unobservable(String),
}

/// Where the agent reaches a machine's sshd, and the host key it must offer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// `type base64`, as sealed into the details; None: only TCP is checked.
    pub host_key: Option<String>,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn access(t: &Target) -> Health {
    let addr = format!("{}:{}", t.host, t.port);
    // Only definite answers count as broken: a refused connection, a wrong host key. A
    // connection or banner that does not come in time may be a machine under load, so it
    // is "cannot observe", which never ends a rental by itself.
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&addr)).await {
        Err(_) => return Health::Unobservable(format!("{addr} did not answer within 3 s")),
        Ok(Err(e)) => return Health::Broken(format!("{addr} refused the connection: {e}")),
        Ok(Ok(_)) => {}
    }
    let Some(expected) = &t.host_key else { return Health::Healthy };
    let kind = expected.split_whitespace().next().unwrap_or("ssh-ed25519");
    let out = Command::new("ssh-keyscan")
        .args(["-T", "5", "-p", &t.port.to_string(), "-t", key_type_flag(kind), &t.host])
        .kill_on_drop(true)
        .output()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(e) => return Health::Unobservable(format!("cannot run ssh-keyscan (install openssh-client): {e}")),
    };
    let offered = offered_keys(&String::from_utf8_lossy(&out.stdout));
    if offered.is_empty() {
        return Health::Unobservable(format!("{addr} offered no {kind} host key within 5 s"));
    }
    if offered.iter().any(|k| k == expected.trim()) {
        Health::Healthy
    } else {
        Health::Broken(format!("{addr} offers host key {} instead of the sealed one", offered[0]))
    }
}

/// `ssh-keyscan -t` takes short names for the common key types.
fn key_type_flag(kind: &str) -> &str {
    match kind {
        "ssh-ed25519" => "ed25519",
        "ssh-rsa" => "rsa",
        k if k.starts_with("ecdsa-") => "ecdsa",
        k => k,
    }
}

/// The `type base64` keys in ssh-keyscan's output (`host type base64` lines; `#` comments).
pub fn offered_keys(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_host, kind, body) = (f.next()?, f.next()?, f.next()?);
            Some(format!("{kind} {body}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyscan_output_is_read_as_type_and_body() {
        let out = "# 127.0.0.1:2201 SSH-2.0-OpenSSH_9.2p1 Debian-2\n[127.0.0.1]:2201 ssh-ed25519 AAAAC3Nz\n";
        assert_eq!(offered_keys(out), vec!["ssh-ed25519 AAAAC3Nz".to_string()]);
        assert!(offered_keys("# only a banner\n").is_empty());
        assert_eq!(key_type_flag("ecdsa-sha2-nistp256"), "ecdsa");
    }

    #[tokio::test]
    async fn a_closed_port_is_broken_and_an_open_one_without_a_key_is_healthy() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Target { host: "127.0.0.1".into(), port, host_key: None };
        assert_eq!(access(&open).await, Health::Healthy);
        drop(listener);
        match access(&open).await {
            Health::Broken(why) => assert!(why.contains("refused"), "{why}"),
            other => panic!("a closed port is {other:?}"),
        }
    }
}
