//! Async RPC client on top of the pure builders: send with a fresh blockhash and safe
//! retries, confirmation at a chosen commitment, and filtered account queries.
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::accounts::{decode, fixed_bytes, Config, Listing, Provider, Rental, GPU_MODEL_LEN, REGION_LEN};
use crate::error::{SdkError, SdkResult};
use crate::ix::RentalKeys;
use crate::pda::{self, PROGRAM_ID};

/// How many fresh blockhashes `send` tries before giving up.
const SEND_ATTEMPTS: u32 = 3;
const POLL_INTERVAL: Duration = Duration::from_millis(300);

pub struct EscrowClient {
    rpc: RpcClient,
    url: String,
    commitment: CommitmentConfig,
}

/// Server-side (memcmp) and client-side filters for `listings`.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    pub mint: Option<Pubkey>,
    pub provider: Option<Pubkey>,
    /// Exact GPU model as stored (e.g. "RTX 4090").
    pub gpu_model: Option<String>,
    pub region: Option<String>,
    pub max_price_per_hour: Option<u64>,
    pub min_vram_gb: Option<u16>,
    /// Minimum average rating × 100 (e.g. 450 = 4.5 stars); unrated providers are excluded.
    pub min_rating_x100: Option<u64>,
    pub include_paused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Renter,
    Provider,
}

impl EscrowClient {
    pub fn new(url: impl Into<String>, commitment: CommitmentConfig) -> Self {
        let url = url.into();
        Self { rpc: RpcClient::new_with_commitment(url.clone(), commitment), url, commitment }
    }

    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn commitment(&self) -> CommitmentConfig {
        self.commitment
    }

    fn rpc_err(e: ClientError) -> SdkError {
        SdkError::Rpc(e.to_string())
    }

    /// Fails with `ProgramNotDeployed` when the cluster has no executable program at the id.
    pub async fn ensure_program_deployed(&self) -> SdkResult<()> {
        let acct =
            self.rpc.get_account_with_commitment(&PROGRAM_ID, self.commitment).await.map_err(Self::rpc_err)?.value;
        match acct {
            Some(a) if a.executable => Ok(()),
            _ => Err(SdkError::ProgramNotDeployed { program_id: PROGRAM_ID, url: self.url.clone() }),
        }
    }

    /// Signs with `payer` (fee payer) and `signers`, sends, and waits for `commitment`.
    ///
    /// If the blockhash expires before confirmation, the old transaction can no longer land,
    /// so re-signing with a fresh blockhash cannot execute it twice. Before each resend the
    /// old signature is checked once more, so a late confirmation is reported, not repeated.
    pub async fn send(&self, ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> SdkResult<Signature> {
        self.check_fee_balance(payer).await?;
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        for _attempt in 0..SEND_ATTEMPTS {
            let (blockhash, last_valid) =
                self.rpc.get_latest_blockhash_with_commitment(self.commitment).await.map_err(Self::rpc_err)?;
            let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, blockhash);
            let cfg = RpcSendTransactionConfig {
                preflight_commitment: Some(self.commitment.commitment),
                ..Default::default()
            };
            let sig = self.rpc.send_transaction_with_config(&tx, cfg).await.map_err(Self::send_err)?;
            if let Some(done) = self.await_signature(&sig, last_valid).await? {
                return done.map(|_| sig);
            }
        }
        Err(SdkError::Expired { attempts: SEND_ATTEMPTS })
    }

    /// Some(result) once the transaction is final at our commitment; None once it expired.
    async fn await_signature(&self, sig: &Signature, last_valid: u64) -> SdkResult<Option<SdkResult<()>>> {
        loop {
            let status = self.rpc.get_signature_statuses(&[*sig]).await.map_err(Self::rpc_err)?.value;
            if let Some(Some(st)) = status.first() {
                if let Some(err) = &st.err {
                    let logs = self.transaction_logs(sig).await;
                    return Ok(Some(Err(SdkError::from_transaction_error(err, logs))));
                }
                if st.satisfies_commitment(self.commitment) {
                    return Ok(Some(Ok(())));
                }
            }
            let height = self.rpc.get_block_height().await.map_err(Self::rpc_err)?;
            if height > last_valid {
                return Ok(None);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Logs of a landed transaction, failed or not (empty if the node no longer has it).
    async fn transaction_logs(&self, sig: &Signature) -> Vec<String> {
        use solana_transaction_status_client_types::option_serializer::OptionSerializer;
        match self.fetch_transaction(sig).await {
            Ok(tx) => match tx.transaction.meta.map(|m| m.log_messages) {
                Some(OptionSerializer::Some(logs)) => logs,
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }

    fn send_err(e: ClientError) -> SdkError {
        if let ErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
            ..
        }) = e.kind()
        {
            let logs = sim.logs.clone().unwrap_or_default();
            if let Some(err) = e.get_transaction_error() {
                return SdkError::from_transaction_error(&err, logs);
            }
        }
        if let Some(err) = e.get_transaction_error() {
            return SdkError::from_transaction_error(&err, Vec::new());
        }
        Self::rpc_err(e)
    }

    /// A cheap early check so an empty fee payer gets a clear message instead of an RPC dump.
    async fn check_fee_balance(&self, payer: &Keypair) -> SdkResult<()> {
        const MIN_FEE_LAMPORTS: u64 = 10_000;
        let have = self.rpc.get_balance(&payer.pubkey()).await.map_err(Self::rpc_err)?;
        if have < MIN_FEE_LAMPORTS {
            return Err(SdkError::InsufficientSol { payer: payer.pubkey(), have, need: MIN_FEE_LAMPORTS });
        }
        Ok(())
    }

    // ------------------------------------------------------------ reads

    pub async fn account_data(&self, address: &Pubkey) -> SdkResult<Option<(Pubkey, Vec<u8>)>> {
        let acct = self.rpc.get_account_with_commitment(address, self.commitment).await.map_err(Self::rpc_err)?.value;
        Ok(acct.map(|a| (a.owner, a.data)))
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
            ..Default::default()
        };
        let raw = self.rpc.get_program_ui_accounts_with_config(&PROGRAM_ID, cfg).await.map_err(Self::rpc_err)?;
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

    /// History queries accept `confirmed` at the least.
    fn history_commitment(&self) -> CommitmentConfig {
        if self.commitment == CommitmentConfig::processed() {
            CommitmentConfig::confirmed()
        } else {
            self.commitment
        }
    }

    /// Every signature that touched `address`, oldest first (pages through all of them).
    pub async fn signatures_for(&self, address: &Pubkey) -> SdkResult<Vec<String>> {
        use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
        const PAGE: usize = 1_000;
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let cfg = GetConfirmedSignaturesForAddress2Config {
                before,
                until: None,
                limit: Some(PAGE),
                commitment: Some(self.history_commitment()),
            };
            let page = self.rpc.get_signatures_for_address_with_config(address, cfg).await.map_err(Self::rpc_err)?;
            let n = page.len();
            before = page.last().and_then(|s| s.signature.parse().ok());
            all.extend(page.into_iter().map(|s| s.signature));
            if n < PAGE || before.is_none() {
                break;
            }
        }
        all.reverse();
        Ok(all)
    }

    async fn fetch_transaction(
        &self,
        sig: &Signature,
    ) -> Result<solana_transaction_status_client_types::EncodedConfirmedTransactionWithStatusMeta, ClientError> {
        use solana_rpc_client_api::config::RpcTransactionConfig;
        use solana_transaction_status_client_types::UiTransactionEncoding;
        let cfg = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Json),
            commitment: Some(self.history_commitment()),
            max_supported_transaction_version: Some(0),
        };
        self.rpc.get_transaction_with_config(sig, cfg).await
    }

    // ------------------------------------------------------------ receipts

    /// Logs of a successful transaction; None for failed or unknown ones.
    pub async fn successful_logs(&self, sig: &str) -> SdkResult<Option<Vec<String>>> {
        use solana_transaction_status_client_types::option_serializer::OptionSerializer;
        let sig: Signature = sig.parse().map_err(|_| SdkError::InvalidInput(format!("bad signature {sig}")))?;
        let tx = self.fetch_transaction(&sig).await.map_err(Self::rpc_err)?;
        let Some(meta) = tx.transaction.meta else { return Ok(None) };
        if meta.err.is_some() {
            return Ok(None);
        }
        Ok(match meta.log_messages {
            OptionSerializer::Some(logs) => Some(logs),
            _ => None,
        })
    }

    /// A rental's receipt, rebuilt from its transactions' events (works after closing).
    pub async fn receipt(&self, rental: &Pubkey) -> SdkResult<crate::receipts::Receipt> {
        let mut receipt = crate::receipts::Receipt::default();
        for sig in self.signatures_for(rental).await? {
            let Some(logs) = self.successful_logs(&sig).await? else { continue };
            let events: Vec<_> =
                crate::receipts::parse_logs(&logs).into_iter().filter(|e| e.rental() == *rental).collect();
            if events.is_empty() {
                continue;
            }
            events.iter().for_each(|e| receipt.apply(e));
            receipt.signatures.push(sig);
        }
        if receipt.rental.is_empty() {
            return Err(SdkError::AccountNotFound { what: "rental history for", address: *rental });
        }
        Ok(receipt)
    }

    /// Every rental `wallet` took part in (as renter or provider), open or closed, oldest first.
    pub async fn history(&self, wallet: &Pubkey) -> SdkResult<Vec<crate::receipts::Receipt>> {
        let mut rentals: Vec<Pubkey> = Vec::new();
        for party in [Party::Renter, Party::Provider] {
            rentals.extend(self.rentals_of(party, wallet).await?.into_iter().map(|(k, _)| k));
        }
        for sig in self.signatures_for(wallet).await? {
            let Some(logs) = self.successful_logs(&sig).await? else { continue };
            for e in crate::receipts::parse_logs(&logs) {
                rentals.push(e.rental());
            }
        }
        rentals.sort();
        rentals.dedup();
        let mut out = Vec::new();
        for r in rentals {
            let receipt = self.receipt(&r).await?;
            if receipt.renter == wallet.to_string() || receipt.provider == wallet.to_string() {
                out.push(receipt);
            }
        }
        out.sort_by_key(|r| r.opened_at);
        Ok(out)
    }

    // ------------------------------------------------------------ deployment

    /// Deploys `program` (the .so bytes) at `program_keypair`'s address through the
    /// upgradeable loader, with `authority` as upgrade authority. Write transactions are sent
    /// together and confirmed in bulk; missing ones are resent (writes are idempotent).
    pub async fn deploy_program(
        &self,
        payer: &Keypair,
        program_keypair: &Keypair,
        authority: &Keypair,
        program: &[u8],
    ) -> SdkResult<Signature> {
        use crate::deploy;
        let buffer = Keypair::new();
        let rent = |len| self.rpc.get_minimum_balance_for_rent_exemption(len);
        let buffer_rent = rent(deploy::buffer_len(program.len())).await.map_err(Self::rpc_err)?;
        let create =
            deploy::create_buffer(&payer.pubkey(), &buffer.pubkey(), &authority.pubkey(), buffer_rent, program.len())?;
        self.send(&create, payer, &[&buffer]).await?;

        let mut pending = deploy::writes(&buffer.pubkey(), &authority.pubkey(), program);
        for _round in 0..5 {
            if pending.is_empty() {
                break;
            }
            let (blockhash, _) =
                self.rpc.get_latest_blockhash_with_commitment(self.commitment).await.map_err(Self::rpc_err)?;
            let mut sent = Vec::with_capacity(pending.len());
            for ix in &pending {
                let tx = Transaction::new_signed_with_payer(
                    std::slice::from_ref(ix),
                    Some(&payer.pubkey()),
                    &[payer, authority],
                    blockhash,
                );
                let cfg = RpcSendTransactionConfig { skip_preflight: true, ..Default::default() };
                let sig = self.rpc.send_transaction_with_config(&tx, cfg).await.map_err(Self::send_err)?;
                sent.push((sig, ix.clone()));
            }
            // Wait until each write is confirmed or its blockhash has expired.
            let mut unconfirmed = sent;
            let last_valid = self.rpc.get_block_height().await.map_err(Self::rpc_err)? + 150;
            loop {
                let mut still = Vec::new();
                for chunk in unconfirmed.chunks(200) {
                    let sigs: Vec<Signature> = chunk.iter().map(|(s, _)| *s).collect();
                    let st = self.rpc.get_signature_statuses(&sigs).await.map_err(Self::rpc_err)?.value;
                    for ((sig, ix), status) in chunk.iter().zip(st) {
                        match status {
                            Some(s) if s.err.is_some() => {
                                return Err(SdkError::from_transaction_error(s.err.as_ref().unwrap(), vec![]));
                            }
                            Some(s) if s.satisfies_commitment(self.commitment) => {}
                            _ => still.push((*sig, ix.clone())),
                        }
                    }
                }
                unconfirmed = still;
                if unconfirmed.is_empty() || self.rpc.get_block_height().await.map_err(Self::rpc_err)? > last_valid {
                    break;
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            pending = unconfirmed.into_iter().map(|(_, ix)| ix).collect();
        }
        if !pending.is_empty() {
            return Err(SdkError::Expired { attempts: 5 });
        }
        let program_rent = rent(deploy::program_account_len()).await.map_err(Self::rpc_err)?;
        let ixs = deploy::deploy(
            &payer.pubkey(),
            &program_keypair.pubkey(),
            &buffer.pubkey(),
            &authority.pubkey(),
            program_rent,
            program.len(),
        )?;
        let sig = self.send(&ixs, payer, &[program_keypair, authority]).await?;
        self.wait_past_slot_of(&sig).await?;
        Ok(sig)
    }

    /// A program deployed in slot S can be invoked from slot S + 1; wait until then so the
    /// caller's next transaction (e.g. config init) does not fail with UnsupportedProgramId.
    async fn wait_past_slot_of(&self, sig: &Signature) -> SdkResult<()> {
        let status = self.rpc.get_signature_statuses(&[*sig]).await.map_err(Self::rpc_err)?.value;
        let Some(Some(st)) = status.first() else { return Ok(()) };
        for _ in 0..100 {
            if self.rpc.get_slot_with_commitment(self.commitment).await.map_err(Self::rpc_err)? > st.slot + 1 {
                return Ok(());
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        Ok(())
    }
}
