//! Reads never go back in time. A public endpoint is usually a load balancer in front of
//! several nodes, and a node that has not caught up answers an account read with the state
//! of an older slot: a rental just opened reads as missing, one just activated as Funded,
//! and a provider's agent could take a live rental for a closed one and tear it down.
//!
//! So each client remembers the highest slot it has seen at its commitment (from the context
//! of account reads, and from the status of its own transactions once they reach that
//! commitment) and asks every later account read for at least that slot (`minContextSlot`).
//! A node behind it answers with error -32016 instead of old state, and the transport
//! retries that like any other transient failure, when another node (or the same one, a
//! moment later) can answer.
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_rpc_client_api::request::RpcRequest;

/// The JSON-RPC error of a node that has not reached the requested `minContextSlot`.
pub const NODE_BEHIND: i64 = solana_rpc_client_api::custom_error::JSON_RPC_SERVER_ERROR_MIN_CONTEXT_SLOT_NOT_REACHED;

pub struct ReadFloor {
    slot: AtomicU64,
    commitment: CommitmentLevel,
}

impl ReadFloor {
    pub fn new(commitment: CommitmentConfig) -> Self {
        ReadFloor { slot: AtomicU64::new(0), commitment: commitment.commitment }
    }

    pub fn slot(&self) -> u64 {
        self.slot.load(Ordering::Relaxed)
    }

    /// Raises the floor to `slot` (e.g. one a long-running process saw before a restart).
    pub fn raise(&self, slot: u64) {
        self.slot.fetch_max(slot, Ordering::Relaxed);
    }

    /// `params` with `minContextSlot` set, for requests that read state: account reads, and
    /// simulations (a simulation on old state misjudges compute or fails for a missing
    /// account).
    pub fn constrain(&self, request: RpcRequest, mut params: Value) -> Value {
        let floor = self.slot();
        if floor == 0 || !reads_state(request) {
            return params;
        }
        if let Some(args) = params.as_array_mut() {
            if args.len() < 2 {
                args.push(Value::Object(Default::default()));
            }
            // The client's own config objects carry `"minContextSlot": null` when unset.
            if let Some(slot) = args[1].as_object_mut().map(|c| c.entry("minContextSlot").or_insert(Value::Null)) {
                if slot.is_null() {
                    *slot = floor.into();
                }
            }
        }
        params
    }

    /// Raises the floor to what `result` shows the cluster has reached.
    pub fn observe(&self, request: RpcRequest, result: &Value) {
        let seen = match request {
            _ if reads_state(request) => result["context"]["slot"].as_u64(),
            RpcRequest::GetSignatureStatuses => result["value"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["confirmationStatus"].as_str().and_then(level).is_some_and(|l| l >= self.rank()))
                .filter_map(|s| s["slot"].as_u64())
                .max(),
            _ => None,
        };
        if let Some(slot) = seen {
            self.raise(slot);
        }
    }

    fn rank(&self) -> u8 {
        match self.commitment {
            CommitmentLevel::Processed => 0,
            CommitmentLevel::Confirmed => 1,
            CommitmentLevel::Finalized => 2,
        }
    }
}

fn level(status: &str) -> Option<u8> {
    match status {
        "processed" => Some(0),
        "confirmed" => Some(1),
        "finalized" => Some(2),
        _ => None,
    }
}

fn reads_state(request: RpcRequest) -> bool {
    matches!(
        request,
        RpcRequest::GetAccountInfo
            | RpcRequest::GetMultipleAccounts
            | RpcRequest::GetProgramAccounts
            | RpcRequest::SimulateTransaction
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn account_reads_ask_for_the_highest_slot_seen_and_nothing_else_does() {
        let f = ReadFloor::new(CommitmentConfig::confirmed());
        let read = json!([["A"], {"commitment": "confirmed", "minContextSlot": null}]);
        assert_eq!(f.constrain(RpcRequest::GetMultipleAccounts, read.clone()), read, "nothing seen yet");
        f.observe(RpcRequest::GetMultipleAccounts, &json!({"context": {"slot": 90}, "value": [null]}));
        f.observe(RpcRequest::GetProgramAccounts, &json!({"context": {"slot": 80}, "value": []}));
        assert_eq!(f.slot(), 90, "never lowered");
        assert_eq!(
            f.constrain(RpcRequest::GetMultipleAccounts, read),
            json!([["A"], {"commitment": "confirmed", "minContextSlot": 90}])
        );
        assert_eq!(f.constrain(RpcRequest::GetAccountInfo, json!(["A"])), json!(["A", {"minContextSlot": 90}]));
        let asked = json!(["P", {"minContextSlot": 95}]);
        assert_eq!(f.constrain(RpcRequest::GetProgramAccounts, asked.clone()), asked, "a caller's own floor stays");
        let send = json!(["tx", {"encoding": "base64"}]);
        assert_eq!(f.constrain(RpcRequest::SendTransaction, send.clone()), send);
        assert_eq!(f.constrain(RpcRequest::SimulateTransaction, send)[1]["minContextSlot"], 90);
    }

    #[test]
    fn the_rpc_clients_own_config_objects_are_constrained() {
        use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
        let f = ReadFloor::new(CommitmentConfig::confirmed());
        f.observe(RpcRequest::GetMultipleAccounts, &json!({"context": {"slot": 7}, "value": []}));
        let program = json!(["P", RpcProgramAccountsConfig { with_context: Some(true), ..Default::default() }]);
        let multiple = json!([["A"], RpcAccountInfoConfig::default()]);
        for (request, params) in
            [(RpcRequest::GetProgramAccounts, program), (RpcRequest::GetMultipleAccounts, multiple)]
        {
            assert_eq!(f.constrain(request, params)[1]["minContextSlot"], 7, "{request}");
        }
    }

    #[test]
    fn a_transaction_raises_the_floor_once_it_reaches_the_clients_commitment() {
        let f = ReadFloor::new(CommitmentConfig::confirmed());
        let status = |slot: u64, level: &str| json!({"context": {"slot": 999}, "value": [null, {"slot": slot, "confirmationStatus": level}]});
        f.observe(RpcRequest::GetSignatureStatuses, &status(120, "processed"));
        assert_eq!(f.slot(), 0, "a processed transaction may still be rolled back");
        f.observe(RpcRequest::GetSignatureStatuses, &status(121, "confirmed"));
        assert_eq!(f.slot(), 121, "its slot, not the node's processed tip");
        let finalized = ReadFloor::new(CommitmentConfig::finalized());
        finalized.observe(RpcRequest::GetSignatureStatuses, &status(121, "confirmed"));
        assert_eq!(finalized.slot(), 0, "a finalized reader would wait for the root to pass it");
    }
}
