//! The configured bot's Bot API client, for the sender, the receiving loop, the managers' desk
//! and `crystalbay doctor`.

use crate::config::TelegramConfig;
use anyhow::Context;
use channels::telegram::TelegramBot;
use secrecy::ExposeSecret;

/// The Bot API client of the configured bot.
pub fn api(config: &TelegramConfig) -> anyhow::Result<TelegramBot> {
    TelegramBot::new(&config.api_url, config.bot_token.expose_secret())
        .context("building the Telegram client")
}
