//! WhatsApp (and other messengers) through Wazzup24, API v3 (`docs/protocols/wazzup.md`).
//!
//! - [`webhook`]: parsing what Wazzup posts to us (`messages[]`, `statuses[]`, `{"test":true}`).
//! - [`client`]: sending (`POST /v3/message` with `crmMessageId`), channels, webhook registration.

pub mod client;
pub mod webhook;

pub use client::WazzupClient;
pub use webhook::{WazzupWebhook, WebhookError};
