pub mod claim;
pub mod heartbeat;
pub mod listing_close;
pub mod listing_create;
pub mod listing_pause;
pub mod listing_update;
pub mod provider_register;
pub mod rental_activate;

pub use claim::*;
pub use heartbeat::*;
pub use listing_close::*;
pub use listing_create::*;
pub use listing_pause::*;
pub use listing_update::*;
pub use provider_register::*;
pub use rental_activate::*;
