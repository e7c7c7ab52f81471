//! Every token movement goes through these helpers: transfer_checked (works for SPL Token
//! and Token-2022 alike) and vault closing, each a no-op for zero amounts.
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::{
    extension::{
        default_account_state::DefaultAccountState, transfer_fee::TransferFeeConfig, transfer_hook::TransferHook,
        BaseStateWithExtensions, ExtensionType, StateWithExtensions,
    },
    state::{AccountState, Mint as MintState},
};
use anchor_spl::token_interface::{
    close_account, transfer_checked, CloseAccount, Mint, TokenAccount, TokenInterface, TransferChecked,
};

use crate::errors::EscrowError;

/// Moves `amount` out of a vault whose authority is the rental PDA.
pub fn pay_from_vault<'info>(
    token_program: &Interface<'info, TokenInterface>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    to: &InterfaceAccount<'info, TokenAccount>,
    authority: AccountInfo<'info>,
    signer: &[&[&[u8]]],
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let accounts = TransferChecked {
        from: vault.to_account_info(),
        mint: mint.to_account_info(),
        to: to.to_account_info(),
        authority,
    };
    transfer_checked(CpiContext::new_with_signer(token_program.key(), accounts, signer), amount, mint.decimals)
}

/// Moves `amount` from a wallet's token account into a vault; `owner` signs the transaction.
pub fn deposit_to_vault<'info>(
    token_program: &Interface<'info, TokenInterface>,
    from: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    owner: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let accounts = TransferChecked {
        from: from.to_account_info(),
        mint: mint.to_account_info(),
        to: vault.to_account_info(),
        authority: owner,
    };
    transfer_checked(CpiContext::new(token_program.key(), accounts), amount, mint.decimals)
}

/// Closes an emptied vault, returning its rent lamports to `destination`.
pub fn close_vault<'info>(
    token_program: &Interface<'info, TokenInterface>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    destination: AccountInfo<'info>,
    authority: AccountInfo<'info>,
    signer: &[&[&[u8]]],
) -> Result<()> {
    let accounts = CloseAccount { account: vault.to_account_info(), destination, authority };
    close_account(CpiContext::new_with_signer(token_program.key(), accounts, signer))
}

/// Closes a vault after its payouts. Anyone can send tokens to a token account, so a vault
/// may hold more than the escrow recorded; that surplus goes to the renter instead of
/// blocking the close (a stuck escrow would be worse than a stray gift).
pub fn sweep_and_close<'info>(
    token_program: &Interface<'info, TokenInterface>,
    vault: &mut Box<InterfaceAccount<'info, TokenAccount>>,
    mint: &InterfaceAccount<'info, Mint>,
    renter_token: &InterfaceAccount<'info, TokenAccount>,
    renter: AccountInfo<'info>,
    authority: AccountInfo<'info>,
    signer: &[&[&[u8]]],
) -> Result<()> {
    vault.reload()?;
    let surplus = vault.amount;
    pay_from_vault(token_program, vault, mint, renter_token, authority.clone(), signer, surplus)?;
    close_vault(token_program, vault, renter, authority, signer)
}

/// Rejects Token-2022 mints whose extensions could take, block or shrink escrowed funds.
pub fn check_mint_extensions(mint: &AccountInfo) -> Result<()> {
    if *mint.owner != anchor_spl::token_2022::ID {
        return Ok(());
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)?;
    for ext in state.get_extension_types()? {
        match ext {
            ExtensionType::PermanentDelegate => return err!(EscrowError::MintHasPermanentDelegate),
            ExtensionType::NonTransferable => return err!(EscrowError::MintNonTransferable),
            ExtensionType::Pausable => return err!(EscrowError::MintPausable),
            ExtensionType::TransferHook => {
                let hook = state.get_extension::<TransferHook>()?;
                if Option::<Pubkey>::from(hook.program_id).is_some() {
                    return err!(EscrowError::MintHasTransferHook);
                }
            }
            ExtensionType::TransferFeeConfig => {
                let cfg = state.get_extension::<TransferFeeConfig>()?;
                let charges = |f: &anchor_spl::token_2022::spl_token_2022::extension::transfer_fee::TransferFee| {
                    u16::from(f.transfer_fee_basis_points) > 0 && u64::from(f.maximum_fee) > 0
                };
                if charges(&cfg.older_transfer_fee) || charges(&cfg.newer_transfer_fee) {
                    return err!(EscrowError::MintHasTransferFee);
                }
            }
            ExtensionType::DefaultAccountState => {
                let d = state.get_extension::<DefaultAccountState>()?;
                if d.state == AccountState::Frozen as u8 {
                    return err!(EscrowError::MintDefaultFrozen);
                }
            }
            _ => {}
        }
    }
    Ok(())
}
