//! WhatsApp (and other messengers) through Wazzup24, API v3 (`docs/protocols/wazzup.md`).
//!
//! - [`inbound`]: parsing what Wazzup posts to us (`messages[]`, `statuses[]`, `{"test":true}`).
//! - [`api`]: sending (`POST /v3/message` with `crmMessageId`), channels, webhook registration.

pub mod api;
pub mod inbound;

pub use api::WazzupClient;
pub use inbound::{WazzupWebhook, WebhookError};
