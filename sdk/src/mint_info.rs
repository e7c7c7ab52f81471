//! What a payment token is called. The symbol and name come from on-chain metadata: the
//! Token-2022 `TokenMetadata` extension when the mint's `MetadataPointer` points at the mint
//! itself, else the Metaplex metadata account `["metadata", program, mint]`. Also builds a
//! Token-2022 test mint that carries its own metadata.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::token_2022::spl_token_2022;
use anchor_spl::token_2022_extensions::spl_token_metadata_interface;
use spl_token_2022::extension::metadata_pointer::MetadataPointer;
use spl_token_2022::extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions};
use spl_token_metadata_interface::state::TokenMetadata;

use crate::error::{SdkError, SdkResult};

/// The Metaplex token-metadata program.
pub const METAPLEX_PROGRAM: Pubkey = Pubkey::from_str_const("metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s");
/// Metaplex caps: name 32 bytes, symbol 10 bytes.
const NAME_MAX: usize = 32;
const SYMBOL_MAX: usize = 10;

/// A mint as a client shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintInfo {
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub decimals: u8,
    /// From on-chain metadata, cleaned of control characters; `None` when there is none.
    pub symbol: Option<String>,
    pub name: Option<String>,
}

impl MintInfo {
    /// Decodes a mint account owned by `owner`, and the Metaplex metadata account's data if
    /// one exists (its owner already checked).
    pub fn decode(mint: &Pubkey, owner: &Pubkey, data: &[u8], metaplex: Option<&[u8]>) -> SdkResult<Self> {
        let is_token_2022 = *owner == anchor_spl::token_2022::ID;
        if !(is_token_2022 || *owner == anchor_spl::token::ID) || data.len() < 82 {
            return Err(SdkError::Decode(format!("{mint} is not a token mint")));
        }
        // Both token programs keep `decimals` at byte 44 of the base mint layout.
        let decimals = data[44];
        let (name, symbol) = is_token_2022
            .then(|| token_2022_metadata(mint, data))
            .flatten()
            .or_else(|| metaplex.and_then(|m| parse_metaplex(mint, m)))
            .map_or((None, None), |(n, s)| (clean(&n, NAME_MAX), clean(&s, SYMBOL_MAX)));
        Ok(MintInfo { mint: *mint, token_program: *owner, decimals, symbol, name })
    }
}

/// The Metaplex metadata address of `mint`.
pub fn metaplex_metadata_address(mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[b"metadata", METAPLEX_PROGRAM.as_ref(), mint.as_ref()], &METAPLEX_PROGRAM).0
}

/// (name, symbol) from the Token-2022 metadata extension stored in the mint itself.
pub fn token_2022_metadata(mint: &Pubkey, data: &[u8]) -> Option<(String, String)> {
    let state = StateWithExtensions::<spl_token_2022::state::Mint>::unpack(data).ok()?;
    let pointer = state.get_extension::<MetadataPointer>().ok()?;
    if Option::<Pubkey>::from(pointer.metadata_address) != Some(*mint) {
        return None;
    }
    let meta = state.get_variable_len_extension::<TokenMetadata>().ok()?;
    (meta.mint == *mint).then_some((meta.name, meta.symbol))
}

/// (name, symbol) from a Metaplex metadata account: key u8 (4 = MetadataV1), update
/// authority, mint, then name, symbol and uri as borsh strings (u32 length, zero-padded).
pub fn parse_metaplex(mint: &Pubkey, data: &[u8]) -> Option<(String, String)> {
    const METADATA_V1: u8 = 4;
    if data.first() != Some(&METADATA_V1) || data.get(33..65)? != mint.as_ref() {
        return None;
    }
    let mut rest = &data[65..];
    let mut string = || -> Option<String> {
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let bytes = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some(String::from_utf8_lossy(bytes).into_owned())
    };
    let name = string()?;
    let symbol = string()?;
    Some((name, symbol))
}

/// Printable text only: zero padding, control characters (terminal escapes) and outer
/// spaces removed, at most `max` characters; `None` when nothing is left.
fn clean(text: &str, max: usize) -> Option<String> {
    let kept: String = text.chars().filter(|c| !c.is_control()).collect();
    let kept: String = kept.trim().chars().take(max).collect();
    (!kept.is_empty()).then_some(kept)
}

/// Sizes of a Token-2022 mint with a metadata pointer to itself: the space to allocate up
/// front, and the final size once the metadata is written (which the rent must cover).
pub fn mint_with_metadata_lens(
    mint: &Pubkey,
    authority: &Pubkey,
    name: &str,
    symbol: &str,
    uri: &str,
) -> (usize, usize) {
    let base =
        ExtensionType::try_calculate_account_len::<spl_token_2022::state::Mint>(&[ExtensionType::MetadataPointer])
            .expect("a mint with one fixed-size extension has a size");
    let meta = TokenMetadata {
        update_authority: Some(*authority).try_into().expect("a non-default authority"),
        mint: *mint,
        name: name.into(),
        symbol: symbol.into(),
        uri: uri.into(),
        additional_metadata: Vec::new(),
    };
    (base, base + meta.tlv_size_of().expect("metadata has a size"))
}

/// Creates a Token-2022 mint whose metadata (name, symbol, uri) lives in the mint itself,
/// with `authority` as mint, freeze and metadata update authority. `lamports` must cover
/// the final size (see [`mint_with_metadata_lens`]). For local clusters and tests.
#[allow(clippy::too_many_arguments)]
pub fn create_mint_with_metadata(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
    name: &str,
    symbol: &str,
    uri: &str,
    lamports: u64,
) -> SdkResult<Vec<Instruction>> {
    let program = anchor_spl::token_2022::ID;
    let (space, _) = mint_with_metadata_lens(mint, authority, name, symbol, uri);
    let create = solana_system_interface::instruction::create_account(payer, mint, lamports, space as u64, &program);
    let bad = |e: anchor_lang::prelude::ProgramError| SdkError::InvalidInput(e.to_string());
    Ok(vec![
        Instruction { program_id: create.program_id, accounts: create.accounts, data: create.data },
        spl_token_2022::extension::metadata_pointer::instruction::initialize(
            &program,
            mint,
            Some(*authority),
            Some(*mint),
        )
        .map_err(bad)?,
        spl_token_2022::instruction::initialize_mint2(&program, mint, authority, Some(authority), decimals)
            .map_err(bad)?,
        spl_token_metadata_interface::instruction::initialize(
            &program,
            mint,
            authority,
            mint,
            authority,
            name.into(),
            symbol.into(),
            uri.into(),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metaplex_account(mint: &Pubkey, name: &str, symbol: &str) -> Vec<u8> {
        let mut d = vec![4u8];
        d.extend_from_slice(Pubkey::new_unique().as_ref());
        d.extend_from_slice(mint.as_ref());
        for (text, width) in [(name, 32), (symbol, 10), ("https://example.com", 200)] {
            let mut padded = text.as_bytes().to_vec();
            padded.resize(width, 0);
            d.extend_from_slice(&(width as u32).to_le_bytes());
            d.extend_from_slice(&padded);
        }
        d
    }

    #[test]
    fn metaplex_names_are_read_unpadded_and_only_for_their_mint() {
        let mint = Pubkey::new_unique();
        let data = metaplex_account(&mint, "USD Coin", "USDC");
        let info = MintInfo::decode(&mint, &anchor_spl::token::ID, &[6; 82], Some(&data)).unwrap();
        assert_eq!((info.name.as_deref(), info.symbol.as_deref(), info.decimals), (Some("USD Coin"), Some("USDC"), 6));
        assert_eq!(parse_metaplex(&Pubkey::new_unique(), &data), None, "metadata of another mint");
        assert_eq!(parse_metaplex(&mint, &data[..70]), None, "truncated");
    }

    #[test]
    fn symbols_cannot_carry_terminal_escapes() {
        assert_eq!(clean("\u{1b}[31mUSDC\u{0}\u{0}", SYMBOL_MAX).as_deref(), Some("[31mUSDC"));
        assert_eq!(clean("\u{0}\u{0}", SYMBOL_MAX), None);
        assert_eq!(clean("AVERYLONGSYMBOL", SYMBOL_MAX).as_deref(), Some("AVERYLONGS"));
    }

    #[test]
    fn not_a_mint_is_refused() {
        let mint = Pubkey::new_unique();
        assert!(MintInfo::decode(&mint, &Pubkey::new_unique(), &[0; 82], None).is_err());
        assert!(MintInfo::decode(&mint, &anchor_spl::token::ID, &[0; 10], None).is_err());
    }
}
