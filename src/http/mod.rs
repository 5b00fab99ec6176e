//! The HTTP server: health and readiness, `/metrics` and the admin API, and the channels'
//! webhook routes (each channel's own `router()`, handed in by start-up), merged into one
//! router on one port.
//!
//! Every request gets an `x-request-id` (kept when the caller sent a sane one — at most 128
//! characters of `A-Z a-z 0-9 - _ . : = + /` — replaced otherwise; returned in the response) and a log span with it, the method, the matched route — the route's pattern,
//! never the path itself, which may carry a webhook secret — and, on admin routes, the
//! caller's token name. Unknown routes and wrong methods answer in the admin API's error
//! shape.

pub mod admin;
pub mod error;
mod health;
pub mod metrics;
pub mod serve;

use crate::config::Config;
use actors::Engine;
use actors::store::Store;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    /// What admins may change at run time (set by `app`; `None` when a test replaced the dialog).
    pub live: Option<crate::documents::live::LiveSettings>,
    /// Tokens, rate limits and what the admin routes share.
    pub admin: Arc<admin::Admin>,
}

impl AppState {
    pub fn new(engine: Engine, config: &Config) -> Self {
        Self {
            engine,
            live: None,
            admin: Arc::new(admin::Admin::new(config)),
        }
    }

    /// The store, for reads.
    pub fn store(&self) -> &dyn Store {
        self.engine.store().store.as_ref()
    }
}

/// The whole router: health, metrics, the admin API and each channel's webhook routes
/// (`webhooks`, timed per channel: `crystalbay_webhook_ack_seconds{channel}`).
pub fn router(
    state: AppState,
    webhooks: impl IntoIterator<Item = (dialogs::Channel, Router<AppState>)>,
) -> Router {
    metrics::install();
    let mut router = Router::new().merge(health::router());
    for (channel, routes) in webhooks {
        router = router.merge(routes.route_layer(axum::middleware::from_fn(
            move |request, next| metrics::time_ack(channel.as_str(), request, next),
        )));
    }
    router
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
