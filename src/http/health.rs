//! `GET /health` (the process is alive) and `GET /ready` (started, and the database answers
//! and takes writes; 503 while the engine waits for it at start-up or during an outage).

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// How long `/ready` waits for the database before answering 503.
const PING_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if !state.engine.is_started() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "starting", "reason": "waiting for the database"})),
        );
    }
    if let Some(outage) = state.engine.store().availability.outage() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unavailable",
                "reason": "database unavailable",
                "since_secs": outage.since.elapsed().as_secs(),
            })),
        );
    }
    let ping = tokio::time::timeout(PING_LIMIT, state.engine.store().store.ping()).await;
    match ping.unwrap_or_else(|_| {
        Err(actors::store::StoreError::Unavailable(
            "no answer in time".into(),
        ))
    }) {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "reason": "database does not answer"})),
            )
        }
    }
}
