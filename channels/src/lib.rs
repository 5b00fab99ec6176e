//! Channel adapters: parse what arrives, send what leaves, per-channel limits.
//!
//! - [`inbound`]: `NewInbound`, the one shape every parser produces; secret comparison.
//! - [`outbound`]: the `Sender` trait every channel implements, and its error type.
//!
//! Every channel has the same shape, `<name>/{inbound.rs, outbound.rs, api.rs}`: what arrives
//! parsed into `NewInbound` (once: the kind and its data), the channel's `Sender`, and the
//! client of its service (set-up, account calls, failures classified).
//!
//! - [`telegram`]: Telegram through the Bot API (update parsing, sending, the API client).
//! - [`wazzup`]: WhatsApp, Instagram and other messengers through Wazzup24 (webhook parsing,
//!   sending, the account's client).
//! - [`email`]: email (inbound parsing of raw and SendGrid posts, replies in the thread, SMTP).
//! - [`console`]: the terminal channel of `crystalbay chat` (no service, so no `api.rs`).

pub mod console;
pub mod email;
pub mod inbound;
pub mod outbound;
pub mod telegram;
pub mod wazzup;

pub use inbound::{InboundKind, NewInbound};
pub use outbound::{Delivery, OutgoingMessage, SendError, SendReceipt, Sender};
