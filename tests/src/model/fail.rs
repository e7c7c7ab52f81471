//! A broken property ([`Fail`]), as a step or the crank and drain reports it.
use std::fmt;

/// A broken property: `key` names the invariant (shrinking keeps a sequence only if it still
/// breaks the same one), `msg` says how.
#[derive(Debug, Clone)]
pub struct Fail {
    pub key: &'static str,
    pub msg: String,
    /// The step that broke it.
    pub at: String,
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] at step `{}`: {}", self.key, self.at, self.msg)
    }
}

pub(super) fn fail(key: &'static str, msg: impl Into<String>) -> Fail {
    Fail { key, msg: msg.into(), at: String::new() }
}

pub(super) fn crank_fail(key: &'static str, msg: impl Into<String>) -> Fail {
    Fail { key, msg: msg.into(), at: "(crank and drain)".into() }
}
