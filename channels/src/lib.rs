//! Channel adapters: parse what arrives, send what leaves, per-channel limits.
//!
//! - [`outbound`]: the `Sender` trait every channel implements, and its error type.
//! - [`console`]: the terminal channel of `crystalbay chat`.

pub mod console;
pub mod outbound;

pub use outbound::{OutgoingMessage, SendError, SendReceipt, Sender};
