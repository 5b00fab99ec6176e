//! Telegram through the Bot API.
//!
//! - [`update`]: parsing an `Update` (webhook body or `getUpdates` item) into an inbound
//!   message, or recognising it as not for the bot.
//! - [`api`]: the Bot API client (`getMe`, `setWebhook`, `deleteWebhook`, `getUpdates`,
//!   `sendMessage`, `answerCallbackQuery`); the token never reaches a log.
//! - [`sender`]: sending replies with inline keyboards, paced per chat and overall.

pub mod api;
pub mod sender;
pub mod update;

pub use api::{ApiError, TelegramApi};
pub use sender::TelegramSender;
pub use update::{Incoming, ManagerButton, ManagerUpdate, Update, UpdateError};
