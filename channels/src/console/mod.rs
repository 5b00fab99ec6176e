//! The terminal channel of `crystalbay chat`.
//!
//! - [`outbound`]: replies printed to standard output, buttons listed under them.

pub mod outbound;

pub use outbound::ConsoleSender;
