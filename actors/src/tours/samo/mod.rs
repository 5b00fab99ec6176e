//! The SAMO-tour Online API (`export/default.php`), JSON only, as the spec
//! (`docs/protocols/samo.md`) describes it. Owned by the Tours actor alone.
//!
//! - [`client`]: the transport — request shape, proxy, timeouts, pacing, retries, logging.
//! - [`error`]: [`SamoError`], every way a call fails, with token-free texts.
//! - [`wire`]: lenient readers for every form of every payload the engine uses.

pub mod client;
pub mod error;
pub mod wire;

#[cfg(test)]
mod fuzz;

pub use client::{ClientSettings, SamoClient, SamoStatus};
pub use error::SamoError;
pub use wire::{DictRow, PriceRow, PricesPage};
