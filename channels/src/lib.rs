//! Channel adapters: parse what arrives, send what leaves, per-channel limits.
//!
//! - [`inbound`]: `NewInbound`, the one shape every parser produces; secret comparison.
//! - [`outbound`]: the `Sender` trait every channel implements, and its error type.
//! - [`telegram`]: Telegram through the Bot API (update parsing, the API client, sending).
//! - [`wazzup`]: WhatsApp through Wazzup24 (webhook parsing, sending).
//! - [`email`]: email (inbound parsing of raw and SendGrid posts, SMTP replies in the thread).
//! - [`console`]: the terminal channel of `crystalbay chat`.

pub mod console;
pub mod email;
pub mod inbound;
pub mod outbound;
pub mod telegram;
pub mod wazzup;

pub use inbound::{InboundKind, NewInbound};
pub use outbound::{OutgoingMessage, SendError, SendReceipt, Sender};
