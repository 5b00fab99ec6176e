//! Telegram through the Bot API, on `teloxide-core` (its types, `Bot` and `Requester`; not its
//! dispatcher or webhook listener: our webhook and poller store an update before confirming it,
//! and recognise a redelivered one).
//!
//! - [`inbound`]: parsing an `Update` (webhook body or `getUpdates` item) and deciding what it
//!   is: a customer's message, a manager's action, or something not for the bot.
//! - [`api`]: the Bot API calls the engine makes, their failures classified, the token never
//!   in an error or a log.
//! - [`outbound`]: sending replies with inline keyboards, paced per chat and overall.

pub mod api;
pub mod inbound;
pub mod outbound;

pub use api::{Refusal, TelegramBot, TelegramError};
pub use inbound::{Incoming, ManagerButton, ManagerUpdate, UpdateError};
pub use outbound::TelegramSender;
/// A Telegram update, as teloxide-core reads it.
pub use teloxide_core::types::Update;
