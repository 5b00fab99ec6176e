//! The channels as the binary runs them: one module per channel, each with its webhook route
//! (`router()`) and its sender built from the configuration; Telegram also has its receiving
//! loop (long polling or webhook registration). What a channel's messages look like and how
//! they are sent is the `channels` crate's; here they are wired to the engine.
//!
//! - [`telegram`]: `POST /webhooks/telegram`, the Bot API client, and the poller.
//! - [`wazzup`]: `POST /webhooks/wazzup/{secret}` (WhatsApp, Instagram, … through Wazzup24).
//! - [`email`]: `POST /webhooks/email/{secret}` and the SMTP sender.
//! - [`managers`]: the managers' desk — escalations announced in their Telegram chat and by
//!   email, and what managers do there.

pub mod email;
pub mod managers;
pub mod telegram;
pub mod wazzup;
