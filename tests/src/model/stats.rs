//! Statistics of one sequence ([`Stats`]), and optionally how each kind of operation ended.
use super::op::Op;

/// Statistics of one sequence.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub ops: u64,
    pub txs: u64,
    pub ok: u64,
    pub rejected: u64,
    pub rentals: u64,
    /// When enabled: how many times each kind of operation ended how ("ok" or the error).
    pub coverage: Option<std::collections::BTreeMap<(&'static str, String), u64>>,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.ops += o.ops;
        self.txs += o.txs;
        self.ok += o.ok;
        self.rejected += o.rejected;
        self.rentals += o.rentals;
        if let (Some(mine), Some(theirs)) = (&mut self.coverage, &o.coverage) {
            for (k, v) in theirs {
                *mine.entry(k.clone()).or_default() += v;
            }
        }
    }

    pub(super) fn count(&mut self, op: &Op, outcome: &str) {
        if let Some(c) = &mut self.coverage {
            *c.entry((op.kind(), outcome.to_string())).or_default() += 1;
        }
    }
}
