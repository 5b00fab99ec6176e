//! The terminal channel of `crystalbay chat`.
//!
//! - [`inbound`]: a typed line as the engine's message.
//! - [`outbound`]: replies printed to standard output, buttons listed under them.

pub mod inbound;
pub mod outbound;

pub use outbound::ConsoleSender;
