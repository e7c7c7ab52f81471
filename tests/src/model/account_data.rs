//! Raw account data: token balances and the memo-transfer extension read from token accounts,
//! the program's accounts serialized as the chain holds them and decoded for messages.
use anchor_lang::AccountSerialize;
use anchor_spl::token_2022::spl_token_2022 as t22;
use gpu_escrow_sdk::accounts::{self, Config, Listing, Provider, Rental};

pub(super) fn token_amount(data: &[u8]) -> u64 {
    if data.len() >= 72 {
        u64::from_le_bytes(data[64..72].try_into().unwrap())
    } else {
        0
    }
}

pub(super) fn memo_required(data: &[u8]) -> bool {
    use t22::extension::{memo_transfer::MemoTransfer, BaseStateWithExtensions, StateWithExtensions};
    StateWithExtensions::<t22::state::Account>::unpack(data)
        .ok()
        .and_then(|s| s.get_extension::<MemoTransfer>().ok().map(|m| bool::from(m.require_incoming_transfer_memos)))
        .unwrap_or(false)
}

pub(super) fn serialize<T: AccountSerialize>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    v.try_serialize(&mut out).expect("serialize");
    out
}

pub(super) fn describe(data: Option<&[u8]>) -> String {
    match data {
        None => "absent".into(),
        Some(d) => {
            if let Ok(r) = accounts::decode::<Rental>(d) {
                format!("{r:#?}")
            } else if let Ok(l) = accounts::decode::<Listing>(d) {
                format!("{l:#?}")
            } else if let Ok(p) = accounts::decode::<Provider>(d) {
                format!("{p:#?}")
            } else if let Ok(c) = accounts::decode::<Config>(d) {
                format!("{c:#?}")
            } else {
                format!("{} bytes", d.len())
            }
        }
    }
}
