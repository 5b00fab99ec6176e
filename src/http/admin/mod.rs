//! The admin API under `/admin`, on the same server as the webhooks. Admins tune what the bot
//! says without a redeploy; managers and engineers on call see what it is doing and take chats.
//!
//! - [`auth`]: bearer tokens with roles (admin, manager), constant-time comparison, a rate
//!   limit per token; the token's name is recorded with every change.
//! - [`error`]: the one error shape `{"error": {"code", "message"}}` and JSON extractors that
//!   answer in it.
//! - [`prompts`]: versioned templates, FAQ and LLM prompts, put in force at once (admin).
//! - [`conversations`]: list, read, take over, write, release (manager).
//! - [`escalations`]: list, claim, resolve (manager).
//! - [`leads`]: the lead list as JSON or Excel-friendly CSV (manager).
//! - [`crm`]: the CRM outbox, and retrying a command (admin).
//! - [`outbox`]: replies waiting for delivery or given up, and sending them again (admin).
//! - [`parked`]: customer messages parked after failing for good, and retrying them (admin).
//! - [`status`]: integrations, database, queues, each channel's outbox, outages (admin).
//! - [`openapi`]: `GET /admin/openapi.json`, the description of all of the above, generated
//!   from the handlers (it says how a new route is declared).

pub mod auth;
mod conversations;
mod crm;
pub mod error;
mod escalations;
mod leads;
pub mod openapi;
mod outbox;
mod parked;
mod prompts;
mod schemas;
pub mod status;

use crate::config::Config;
use crate::http::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;

/// The largest request body accepted (a FAQ of 256 KiB, JSON-escaped, fits).
const MAX_BODY: usize = 1024 * 1024;

/// What the admin routes share.
pub struct Admin {
    pub tokens: auth::Tokens,
    pub configured: status::Configured,
    /// Held while a document changes: changes are made one at a time.
    pub changes: tokio::sync::Mutex<()>,
    /// The `doctor` checks of every configured service, re-run in the background (started
    /// by `app` with [`crate::commands::doctor::Checks::start`]).
    pub checks: crate::commands::doctor::Checks,
}

impl Admin {
    pub fn new(config: &Config) -> Self {
        Self {
            tokens: auth::Tokens::new(config.admin_tokens.clone(), config.admin_rate_per_minute),
            configured: status::Configured::from(config),
            changes: tokio::sync::Mutex::new(()),
            checks: crate::commands::doctor::Checks::default(),
        }
    }
}

/// Every admin route with its description (see [`openapi`]).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(openapi::router())
        .merge(prompts::router())
        .merge(conversations::router())
        .merge(escalations::router())
        .merge(leads::router())
        .merge(crm::router())
        .merge(outbox::router())
        .merge(parked::router())
        .merge(status::router())
}

/// Every admin route, behind authentication.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::from(routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}
