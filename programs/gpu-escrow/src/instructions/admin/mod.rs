pub mod admin_transfer;
pub mod initialize_config;
pub mod mint_add;
pub mod mint_remove;
pub mod pause;
pub mod update_config;

pub use admin_transfer::*;
pub use initialize_config::*;
pub use mint_add::*;
pub use mint_remove::*;
pub use pause::*;
pub use update_config::*;
