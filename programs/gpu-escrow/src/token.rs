//! Every token movement goes through here: deposits into a vault, payouts out of it (each a
//! no-op for zero amounts), vault creation and closing, and the checks on mints and payees.
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::{
    extension::{
        confidential_transfer::ConfidentialTransferAccount, default_account_state::DefaultAccountState,
        memo_transfer::MemoTransfer, mint_close_authority::MintCloseAuthority, permanent_delegate::PermanentDelegate,
        transfer_fee::TransferFeeConfig, transfer_hook::TransferHook, BaseStateWithExtensions, ExtensionType,
        StateWithExtensions,
    },
    state::{Account as TokenAccountState, AccountState, Mint as MintState},
};
use anchor_spl::token_interface::{
    close_account, initialize_account3, transfer_checked, CloseAccount, InitializeAccount3, Mint, TokenAccount,
    TokenInterface, TransferChecked,
};

use crate::create::create_pda_account;
use crate::errors::EscrowError;

/// A rental's vault, ready to pay out with the rental PDA's signature.
pub struct Vault<'a, 'info> {
    pub token_program: &'a Interface<'info, TokenInterface>,
    pub vault: &'a InterfaceAccount<'info, TokenAccount>,
    pub mint: &'a InterfaceAccount<'info, Mint>,
    /// The rental PDA: the vault's token authority.
    pub authority: AccountInfo<'info>,
    pub signer: &'a [&'a [&'a [u8]]],
    /// Who signed the instruction. A payee may name any account of its own; for anyone
    /// else's share the caller must pass that payee's canonical account.
    pub caller: Pubkey,
}

impl<'info> Vault<'_, 'info> {
    /// Moves `amount` out of the vault to `to` (a no-op for zero).
    pub fn pay(&self, to: &AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let accounts = TransferChecked {
            from: self.vault.to_account_info(),
            mint: self.mint.to_account_info(),
            to: to.clone(),
            authority: self.authority.clone(),
        };
        transfer_checked(
            CpiContext::new_with_signer(self.token_program.key(), accounts, self.signer),
            amount,
            self.mint.decimals,
        )
    }

    /// Pays `amount` to `owner` through `to` if that account can receive it now, and returns
    /// what could not be delivered (0 or `amount`), which stays in the vault as owed. Nobody
    /// can block another party's payout by freezing, closing or misconfiguring an account.
    ///
    /// Unless `owner` itself signed, `to` must be its canonical account (the associated token
    /// account): otherwise whoever settles could pass a closed or foreign account and park
    /// the other party's share. So a share is held only when the account the payee is known
    /// by truly cannot receive. The derivation (1,500 CU per bump tried) runs only for a
    /// non-zero share of someone other than the caller.
    pub fn pay_or_hold(&self, to: &AccountInfo<'info>, owner: &Pubkey, amount: u64) -> Result<u64> {
        if amount == 0 {
            return Ok(0);
        }
        if *owner != self.caller {
            let canonical = canonical_token_account(owner, &self.mint.key(), &self.token_program.key());
            require_keys_eq!(to.key(), canonical, EscrowError::NotCanonicalPayeeAccount);
        }
        if !can_receive(to, &self.mint.key(), owner, &self.token_program.key()) {
            return Ok(amount);
        }
        self.pay(to, amount)?;
        Ok(0)
    }

    /// Delivers a payee's `new` share together with whatever was already held for it, or, if
    /// its account cannot receive, adds `new` to what stays held (`owed`).
    pub fn pay_share(&self, to: &AccountInfo<'info>, owner: &Pubkey, new: u64, owed: &mut u64) -> Result<()> {
        let total = new.checked_add(*owed).ok_or(EscrowError::AmountOverflow)?;
        *owed = self.pay_or_hold(to, owner, total)?;
        Ok(())
    }

    /// Closes the (empty) vault, returning its rent lamports to `destination`.
    pub fn close(&self, destination: AccountInfo<'info>) -> Result<()> {
        let accounts =
            CloseAccount { account: self.vault.to_account_info(), destination, authority: self.authority.clone() };
        close_account(CpiContext::new_with_signer(self.token_program.key(), accounts, self.signer))
    }
}

/// `owner`'s associated token account for `mint` under `token_program`: the one account
/// every wallet and client knows a payee by.
pub fn canonical_token_account(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    let seeds: &[&[u8]] = &[owner.as_ref(), token_program.as_ref(), mint.as_ref()];
    Pubkey::find_program_address(seeds, &anchor_spl::associated_token::ID).0
}

/// Moves `amount` from a wallet's token account into a vault; `owner` signs the transaction.
pub fn deposit_to_vault<'info>(
    token_program: &Interface<'info, TokenInterface>,
    from: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    vault: AccountInfo<'info>,
    owner: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let accounts =
        TransferChecked { from: from.to_account_info(), mint: mint.to_account_info(), to: vault, authority: owner };
    transfer_checked(CpiContext::new(token_program.key(), accounts), amount, mint.decimals)
}

/// The raw token amount held by a token account (both token programs keep it at bytes 64..72).
pub fn token_amount(account: &AccountInfo) -> Result<u64> {
    let data = account.try_borrow_data()?;
    let bytes: [u8; 8] = data.get(64..72).and_then(|b| b.try_into().ok()).ok_or(EscrowError::LedgerInconsistent)?;
    Ok(u64::from_le_bytes(bytes))
}

/// Creates a rental's vault: a token account of `mint` at the PDA signed for by
/// `vault_seeds`, whose token authority is the rental PDA.
pub fn create_vault<'info>(
    payer: AccountInfo<'info>,
    vault: AccountInfo<'info>,
    mint: &InterfaceAccount<'info, Mint>,
    rental: AccountInfo<'info>,
    token_program: &Interface<'info, TokenInterface>,
    vault_seeds: &[&[u8]],
) -> Result<()> {
    let mint_info = mint.to_account_info();
    let space = token_account_space(&mint_info)?;
    create_pda_account(payer, vault.clone(), space, &token_program.key(), vault_seeds)?;
    let accounts = InitializeAccount3 { account: vault, mint: mint_info, authority: rental };
    initialize_account3(CpiContext::new(token_program.key(), accounts))
}

/// Size of a token account for `mint`, with the account extensions the mint requires.
fn token_account_space(mint: &AccountInfo) -> Result<usize> {
    if *mint.owner != anchor_spl::token_2022::ID {
        return Ok(anchor_spl::token::TokenAccount::LEN);
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)?;
    let required = ExtensionType::get_required_init_account_extensions(&state.get_extension_types()?);
    Ok(ExtensionType::try_calculate_account_len::<TokenAccountState>(&required)?)
}

/// Whether a transfer of `mint` to `account` for `owner` would succeed right now: a live,
/// unfrozen token account of that mint and owner that takes plain transfers without a memo.
pub fn can_receive(account: &AccountInfo, mint: &Pubkey, owner: &Pubkey, token_program: &Pubkey) -> bool {
    if account.owner != token_program || !account.is_writable {
        return false;
    }
    let Ok(data) = account.try_borrow_data() else { return false };
    let Ok(state) = StateWithExtensions::<TokenAccountState>::unpack(&data) else { return false };
    let base = &state.base;
    if base.mint != *mint || base.owner != *owner || base.state != AccountState::Initialized {
        return false;
    }
    if let Ok(memo) = state.get_extension::<MemoTransfer>() {
        if bool::from(memo.require_incoming_transfer_memos) {
            return false;
        }
    }
    if let Ok(ct) = state.get_extension::<ConfidentialTransferAccount>() {
        if !bool::from(ct.allow_non_confidential_credits) {
            return false;
        }
    }
    true
}

/// Refuses Token-2022 mints with any extension whose authority could, now or later, take,
/// shrink or block escrowed funds. Every extension is classified; anything not explicitly
/// accepted is refused (SECURITY.md has the table and the reasons).
pub fn check_mint_extensions(mint: &AccountInfo) -> Result<()> {
    if *mint.owner != anchor_spl::token_2022::ID {
        return Ok(());
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)?;
    for ext in state.get_extension_types()? {
        match ext {
            ExtensionType::PermanentDelegate => {
                let d = state.get_extension::<PermanentDelegate>()?;
                if Option::<Pubkey>::from(d.delegate).is_some() {
                    return err!(EscrowError::MintHasPermanentDelegate);
                }
            }
            ExtensionType::NonTransferable => return err!(EscrowError::MintNonTransferable),
            ExtensionType::Pausable => return err!(EscrowError::MintPausable),
            ExtensionType::TransferHook => {
                // Accepted only if no hook program is set and nobody can ever set one.
                let hook = state.get_extension::<TransferHook>()?;
                if Option::<Pubkey>::from(hook.program_id).is_some() || Option::<Pubkey>::from(hook.authority).is_some()
                {
                    return err!(EscrowError::MintHasTransferHook);
                }
            }
            ExtensionType::TransferFeeConfig => {
                // Accepted only if both fees are zero and nobody can ever change them.
                let cfg = state.get_extension::<TransferFeeConfig>()?;
                let charges = |f: &anchor_spl::token_2022::spl_token_2022::extension::transfer_fee::TransferFee| {
                    u16::from(f.transfer_fee_basis_points) > 0 && u64::from(f.maximum_fee) > 0
                };
                let can_change = Option::<Pubkey>::from(cfg.transfer_fee_config_authority).is_some();
                if charges(&cfg.older_transfer_fee) || charges(&cfg.newer_transfer_fee) || can_change {
                    return err!(EscrowError::MintHasTransferFee);
                }
            }
            ExtensionType::MintCloseAuthority => {
                let c = state.get_extension::<MintCloseAuthority>()?;
                if Option::<Pubkey>::from(c.close_authority).is_some() {
                    return err!(EscrowError::MintHasCloseAuthority);
                }
            }
            ExtensionType::DefaultAccountState => {
                let d = state.get_extension::<DefaultAccountState>()?;
                if d.state == AccountState::Frozen as u8 {
                    return err!(EscrowError::MintDefaultFrozen);
                }
            }
            // Raw amounts and transfers of public balances are untouched by these.
            ExtensionType::ConfidentialTransferMint
            | ExtensionType::ConfidentialTransferFeeConfig
            | ExtensionType::ConfidentialMintBurn
            | ExtensionType::InterestBearingConfig
            | ExtensionType::ScaledUiAmount
            | ExtensionType::MetadataPointer
            | ExtensionType::TokenMetadata
            | ExtensionType::GroupPointer
            | ExtensionType::TokenGroup
            | ExtensionType::GroupMemberPointer
            | ExtensionType::TokenGroupMember => {}
            _ => return err!(EscrowError::MintExtensionNotAllowed),
        }
    }
    Ok(())
}
