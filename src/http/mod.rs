//! The HTTP server: health and readiness, channel webhooks, `/metrics` and the admin API,
//! merged into one router on one port.
//!
//! Every request gets an `x-request-id` (kept when the caller sent a sane one — at most 128
//! characters of `A-Z a-z 0-9 - _ . : = + /` — replaced otherwise; returned in the response) and a log span with it, the method, the matched route — the route's pattern,
//! never the path itself, which may carry a webhook secret — and, on admin routes, the
//! caller's token name. Unknown routes and wrong methods answer in the admin API's error
//! shape.

pub mod admin;
mod health;
pub mod metrics;
pub mod serve;

use crate::channels::{email, telegram, wazzup};
use crate::config::Config;
use actors::Engine;
use actors::store::Store;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use secrecy::SecretString;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub wazzup_secret: Option<Arc<SecretString>>,
    /// Set in Telegram webhook mode (by `app`, which starts Telegram).
    pub telegram: Option<Arc<crate::channels::telegram::receive::Webhook>>,
    /// What admins may change at run time (set by `app`; `None` when a test replaced the dialog).
    pub live: Option<crate::startup::live::LiveSettings>,
    /// Set when inbound email is on (`EMAIL_WEBHOOK_SECRET`).
    pub email: Option<Arc<email::EmailWebhook>>,
    /// Tokens, rate limits and what the admin routes share.
    pub admin: Arc<admin::Admin>,
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
            admin: Arc::new(admin::Admin::new(config)),
        }
    }

    /// The store, for reads.
    pub fn store(&self) -> &dyn Store {
        self.engine.store().store.as_ref()
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
    metrics::install();
    Router::new()
        .merge(health::router())
        .merge(
            wazzup::router().route_layer(axum::middleware::from_fn(|request, next| {
                metrics::time_ack("wazzup", request, next)
            })),
        )
        .merge(
            telegram::router().route_layer(axum::middleware::from_fn(|request, next| {
                metrics::time_ack("telegram", request, next)
            })),
        )
        .merge(
            email::router().route_layer(axum::middleware::from_fn(|request, next| {
                metrics::time_ack("email", request, next)
            })),
        )
        .merge(metrics::router())
        .merge(admin::router(&state))
        .fallback(|| async { admin::error::ApiError::NoRoute })
        .method_not_allowed_fallback(|request: Request| async move {
            admin::error::ApiError::MethodNotAllowed(request.method().to_string())
        })
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_bad_request_id))
        .with_state(state)
}

/// The longest `x-request-id` kept from a caller.
const MAX_REQUEST_ID: usize = 128;

/// A caller's `x-request-id` that is too long or not made of `A-Z a-z 0-9 - _ . : = + /` is
/// dropped (a fresh one is made in its place), so no caller writes what it likes into every
/// log line of its request.
async fn drop_bad_request_id(mut request: Request) -> Request {
    let fine = |v: &axum::http::HeaderValue| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= MAX_REQUEST_ID
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.:=+/".contains(c))
    };
    let headers = request.headers_mut();
    if headers.get_all("x-request-id").iter().count() > 1
        || headers.get("x-request-id").is_some_and(|v| !fine(v))
    {
        headers.remove("x-request-id");
    }
    request
}

/// An error answer in the one shape of the whole server, `{"error": {"code", "message"}}`, for
/// handlers outside the admin API (webhooks), with the admin API's code words.
pub fn error_response(
    status: axum::http::StatusCode,
    message: impl Into<String>,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ => "error",
    };
    let body = serde_json::json!({"error": {"code": code, "message": message.into()}});
    (status, axum::Json(body)).into_response()
}

/// The span of one request: no URI (webhook paths carry secrets), no headers (tokens).
fn span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("-", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        caller = tracing::field::Empty,
    )
}
