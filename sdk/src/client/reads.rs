//! Reading accounts: single fetches decoded with the program's own types, and filtered
//! queries (memcmp on the node, the rest here).
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};

use super::{EscrowClient, ListingFilter, Party};
use crate::accounts::{
    decode, fixed_bytes, Config, Listing, Provider, Rental, RentalAccess, GPU_MODEL_LEN, REGION_LEN,
};
use crate::error::{SdkError, SdkResult};
use crate::ix::RentalKeys;
use crate::mint_info::{self, MintInfo};
use crate::pda::{self, PROGRAM_ID};

/// An account as the node returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAccount {
    pub owner: Pubkey,
    pub lamports: u64,
    pub data: Vec<u8>,
    pub executable: bool,
}

impl EscrowClient {
    /// Several accounts in one request, `None` for each that does not exist. Transport
    /// failures stay [`SdkError::Unreachable`] (the single-account RPC call would report them
    /// as "AccountNotFound").
    pub async fn accounts(&self, addresses: &[Pubkey]) -> SdkResult<Vec<Option<RawAccount>>> {
        let found = self
            .rpc
            .get_multiple_accounts_with_commitment(addresses, self.commitment)
            .await
            .map_err(|e| self.rpc_err(e))?
            .value;
        Ok(found
            .into_iter()
            .map(|a| {
                a.map(|a| RawAccount { owner: a.owner, lamports: a.lamports, data: a.data, executable: a.executable })
            })
            .collect())
    }

    pub async fn account_data(&self, address: &Pubkey) -> SdkResult<Option<(Pubkey, Vec<u8>)>> {
        Ok(self.accounts(&[*address]).await?.pop().flatten().map(|a| (a.owner, a.data)))
    }

    /// A mint's token program, decimals, and symbol and name from its on-chain metadata
    /// (Token-2022's own extension, else a Metaplex metadata account), in one request.
    pub async fn mint_info(&self, mint: &Pubkey) -> SdkResult<MintInfo> {
        let mut found = self.accounts(&[*mint, mint_info::metaplex_metadata_address(mint)]).await?;
        let metaplex = found.pop().flatten();
        let Some(account) = found.pop().flatten() else {
            return Err(SdkError::AccountNotFound { what: "mint", address: *mint });
        };
        let metaplex = metaplex.filter(|m| m.owner == mint_info::METAPLEX_PROGRAM).map(|m| m.data);
        MintInfo::decode(mint, &account.owner, &account.data, metaplex.as_deref())
    }

    async fn fetch<T: AccountDeserialize>(&self, what: &'static str, address: &Pubkey) -> SdkResult<T> {
        match self.account_data(address).await? {
            Some((owner, data)) if owner == PROGRAM_ID => decode(&data),
            Some(_) => Err(SdkError::Decode(format!("{address} is not a gpu-escrow {what}"))),
            None => Err(SdkError::AccountNotFound { what, address: *address }),
        }
    }

    pub async fn config(&self) -> SdkResult<Config> {
        match self.fetch::<Config>("config", &pda::config()).await {
            Err(SdkError::AccountNotFound { .. }) => {
                self.ensure_program_deployed().await?;
                Err(SdkError::ConfigMissing { url: self.url.clone() })
            }
            other => other,
        }
    }

    pub async fn provider(&self, authority: &Pubkey) -> SdkResult<Option<Provider>> {
        match self.fetch::<Provider>("provider", &pda::provider(authority)).await {
            Ok(p) => Ok(Some(p)),
            Err(SdkError::AccountNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn listing(&self, address: &Pubkey) -> SdkResult<Listing> {
        self.fetch("listing", address).await
    }

    pub async fn rental(&self, address: &Pubkey) -> SdkResult<Rental> {
        self.fetch("rental", address).await
    }

    /// A rental's access account (`keys.access`): the renter's SSH key and recipient key,
    /// and the sealed connection details once the provider has activated it.
    pub async fn access(&self, keys: &RentalKeys) -> SdkResult<RentalAccess> {
        self.fetch("rental access", &keys.access()).await
    }

    /// The token program that owns `mint` (SPL Token or Token-2022).
    pub async fn token_program_of(&self, mint: &Pubkey) -> SdkResult<Pubkey> {
        match self.account_data(mint).await? {
            Some((owner, _)) => Ok(owner),
            None => Err(SdkError::AccountNotFound { what: "mint", address: *mint }),
        }
    }

    pub async fn mint_decimals(&self, mint: &Pubkey) -> SdkResult<u8> {
        match self.account_data(mint).await? {
            // Both token programs keep `decimals` at byte 44 of the base mint layout.
            Some((_, data)) if data.len() >= 82 => Ok(data[44]),
            Some(_) => Err(SdkError::Decode(format!("{mint} is not a token mint"))),
            None => Err(SdkError::AccountNotFound { what: "mint", address: *mint }),
        }
    }

    /// Balance of `owner`'s associated token account (0 when it does not exist).
    pub async fn token_balance(&self, owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> SdkResult<u64> {
        match self.account_data(&pda::ata(owner, mint, token_program)).await? {
            Some((_, data)) if data.len() >= 72 => Ok(u64::from_le_bytes(data[64..72].try_into().expect("8 bytes"))),
            _ => Ok(0),
        }
    }

    pub async fn rental_keys(&self, rental: &Pubkey) -> SdkResult<(RentalKeys, Rental)> {
        let r = self.rental(rental).await?;
        let tp = self.token_program_of(&r.mint).await?;
        Ok((RentalKeys::from_rental(*rental, &r, tp), r))
    }

    /// The cluster's current unix time, from the Clock sysvar (what the program sees).
    pub async fn cluster_time(&self) -> SdkResult<i64> {
        let clock = solana_sdk_ids::sysvar::clock::ID;
        let (_, data) = self
            .account_data(&clock)
            .await?
            .ok_or(SdkError::AccountNotFound { what: "clock sysvar", address: clock })?;
        // Clock layout: slot u64, epoch_start_timestamp i64, epoch u64, leader_schedule_epoch u64, unix_timestamp i64.
        Ok(i64::from_le_bytes(data[32..40].try_into().map_err(|_| SdkError::Decode("clock".into()))?))
    }

    async fn program_accounts<T: AccountDeserialize + Discriminator>(
        &self,
        mut filters: Vec<RpcFilterType>,
    ) -> SdkResult<Vec<(Pubkey, T)>> {
        filters.insert(0, RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, T::DISCRIMINATOR.to_vec())));
        let cfg = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(self.commitment),
                ..Default::default()
            },
            // The answer's slot keeps later reads from going back before it (`read_floor`).
            with_context: Some(true),
            ..Default::default()
        };
        let raw = self.rpc.get_program_ui_accounts_with_config(&PROGRAM_ID, cfg).await.map_err(|e| self.rpc_err(e))?;
        raw.into_iter()
            .map(|(k, a)| {
                let data = a.data.decode().ok_or_else(|| SdkError::Decode(format!("account {k}: undecodable data")))?;
                decode::<T>(&data).map(|t| (k, t))
            })
            .collect()
    }

    /// Listings matching `f`, cheapest first. Mint, provider, GPU model and region are
    /// filtered by the RPC node; price, VRAM and rating here.
    pub async fn listings(&self, f: &ListingFilter) -> SdkResult<Vec<(Pubkey, Listing)>> {
        let mut filters = Vec::new();
        if let Some(m) = f.mint {
            filters.push(RpcFilterType::Memcmp(Memcmp::new_raw_bytes(Listing::MINT_OFFSET, m.to_bytes().to_vec())));
        }
        if let Some(p) = f.provider {
            filters.push(RpcFilterType::Memcmp(Memcmp::new_raw_bytes(Listing::PROVIDER_OFFSET, p.to_bytes().to_vec())));
        }
        if let Some(g) = &f.gpu_model {
            let bytes = fixed_bytes::<GPU_MODEL_LEN>(g)
                .ok_or_else(|| SdkError::InvalidInput(format!("GPU model longer than {GPU_MODEL_LEN} bytes")))?;
            filters.push(RpcFilterType::Memcmp(Memcmp::new_raw_bytes(Listing::GPU_MODEL_OFFSET, bytes.to_vec())));
        }
        if let Some(r) = &f.region {
            let bytes = fixed_bytes::<REGION_LEN>(r)
                .ok_or_else(|| SdkError::InvalidInput(format!("region longer than {REGION_LEN} bytes")))?;
            filters.push(RpcFilterType::Memcmp(Memcmp::new_raw_bytes(Listing::REGION_OFFSET, bytes.to_vec())));
        }
        let mut out = Vec::new();
        for (k, l) in self.program_accounts::<Listing>(filters).await? {
            if (!f.include_paused && l.paused)
                || f.max_price_per_hour.is_some_and(|p| l.price_per_hour > p)
                || f.min_vram_gb.is_some_and(|v| l.vram_gb < v)
            {
                continue;
            }
            if let Some(min) = f.min_rating_x100 {
                let rating = self.provider(&l.provider).await?.and_then(|p| p.rating_x100());
                if rating.is_none_or(|r| r < min) {
                    continue;
                }
            }
            out.push((k, l));
        }
        out.sort_by_key(|(k, l)| (l.price_per_hour, *k));
        Ok(out)
    }

    /// Rentals where `who` is the renter or the provider, newest first.
    pub async fn rentals_of(&self, party: Party, who: &Pubkey) -> SdkResult<Vec<(Pubkey, Rental)>> {
        let offset = match party {
            Party::Renter => Rental::RENTER_OFFSET,
            Party::Provider => Rental::PROVIDER_OFFSET,
        };
        let filters = vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(offset, who.to_bytes().to_vec()))];
        let mut out = self.program_accounts::<Rental>(filters).await?;
        out.sort_by_key(|(k, r)| (std::cmp::Reverse(r.opened_at), *k));
        Ok(out)
    }
}
