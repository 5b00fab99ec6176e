//! WhatsApp (and other messengers) through Wazzup24, API v3 (`docs/protocols/wazzup.md`).
//!
//! - [`inbound`]: parsing what Wazzup posts to us (`messages[]`, `statuses[]`, `{"test":true}`).
//! - [`outbound`]: sending (`POST /v3/message` with `crmMessageId`), failures classified.
//! - [`api`]: the account's client (key, rate limit), its channels, webhook registration.

pub mod api;
pub mod inbound;
pub mod outbound;

pub use api::{WazzupClient, WazzupError};
pub use inbound::{WazzupWebhook, WebhookError};
