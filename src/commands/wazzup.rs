//! `crystalbay wazzup …`: operator commands for the Wazzup24 account.
//!
//! - `register-webhook` points the account's webhook at `{PUBLIC_URL}/webhooks/wazzup/{secret}`
//!   (`PATCH /v3/webhooks`, messages and statuses).
//! - `channels` lists the account's channels and whether each can send.

use crate::config::Config;
use anyhow::{Context, bail};
use channels::wazzup::WazzupClient;
use secrecy::ExposeSecret;

fn client(config: &Config) -> anyhow::Result<WazzupClient> {
    let Some(w) = &config.wazzup else {
        bail!("Wazzup is not configured: set WAZZUP_API_KEY (and WAZZUP_WEBHOOK_SECRET)");
    };
    WazzupClient::new(&w.api_url, w.api_key.expose_secret()).context("building the Wazzup client")
}

/// The webhook address Wazzup should call, with our secret in the path.
pub fn webhook_uri(config: &Config) -> anyhow::Result<String> {
    let Some(public) = &config.public_url else {
        bail!("PUBLIC_URL is not set: Wazzup needs the engine's public https address");
    };
    let Some(secret) = config
        .wazzup
        .as_ref()
        .and_then(|w| w.webhook_secret.as_ref())
    else {
        bail!("WAZZUP_WEBHOOK_SECRET is not set: the webhook address must carry a secret");
    };
    Ok(format!(
        "{}/webhooks/wazzup/{}",
        public.trim_end_matches('/'),
        secret.expose_secret()
    ))
}

/// Registers the webhook; prints what was done without the secret.
pub async fn register_webhook(config: &Config) -> anyhow::Result<()> {
    let client = client(config)?;
    let uri = webhook_uri(config)?;
    client
        .register_webhook(&uri)
        .await
        .map_err(|e| anyhow::anyhow!("Wazzup refused the webhook: {e}"))?;
    let shown = uri.rsplit_once('/').map_or(uri.as_str(), |(base, _)| base);
    println!("Wazzup webhook registered: {shown}/… (messages and statuses)");
    Ok(())
}

/// Prints the account's channels, one per line.
pub async fn list_channels(config: &Config) -> anyhow::Result<()> {
    let client = client(config)?;
    let channels = client
        .channels()
        .await
        .map_err(|e| anyhow::anyhow!("could not list Wazzup channels: {e}"))?;
    if channels.is_empty() {
        println!("no channels on this Wazzup account");
    }
    for c in channels {
        let ready = if c.state == "active" {
            "can send"
        } else {
            "cannot send"
        };
        println!(
            "{}  {:<10} {:<14} {:<18} {ready}{}",
            c.channel_id,
            c.transport,
            c.plain_id.as_deref().unwrap_or("-"),
            c.state,
            c.name.map(|n| format!("  ({n})")).unwrap_or_default()
        );
    }
    Ok(())
}
