//! The HTTP server: health and readiness, channel webhooks (and, later, the admin API), merged
//! into one router on one port.

mod email;
mod health;
mod telegram;
mod wazzup;

use crate::config::Config;
use actors::Engine;
use axum::Router;
use secrecy::SecretString;
use std::sync::Arc;

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub wazzup_secret: Option<Arc<SecretString>>,
    /// Set in Telegram webhook mode (by `app`, which starts Telegram).
    pub telegram: Option<Arc<crate::telegram::Webhook>>,
    /// What admins may change at run time (set by `app`; `None` when a test replaced the dialog).
    pub live: Option<crate::app::LiveSettings>,
    /// Set when inbound email is on (`EMAIL_WEBHOOK_SECRET`).
    pub email: Option<Arc<email::EmailWebhook>>,
}

impl AppState {
    pub fn new(engine: Engine, config: &Config) -> Self {
        Self {
            engine,
            wazzup_secret: config
                .wazzup
                .as_ref()
                .and_then(|w| w.webhook_secret.clone())
                .map(Arc::new),
            telegram: None,
            live: None,
            email: config.email.as_ref().and_then(email_webhook).map(Arc::new),
        }
    }
}

/// The inbound email route's settings, when its secret is set.
fn email_webhook(config: &crate::config::EmailConfig) -> Option<email::EmailWebhook> {
    let own_addresses = [&config.from, &config.managers_email]
        .into_iter()
        .flatten()
        .map(|a| a.to_lowercase())
        .collect();
    Some(email::EmailWebhook {
        secret: config.webhook_secret.clone()?,
        own_addresses,
    })
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(wazzup::router())
        .merge(telegram::router())
        .merge(email::router())
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
