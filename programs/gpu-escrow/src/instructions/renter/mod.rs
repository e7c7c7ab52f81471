pub mod rental_cancel;
pub mod rental_close;
pub mod rental_open;
pub mod rental_rate;
pub mod rental_top_up;

pub use rental_cancel::*;
pub use rental_close::*;
pub use rental_open::*;
pub use rental_rate::*;
pub use rental_top_up::*;
