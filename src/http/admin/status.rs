//! `GET /admin/status`: for the engineer on call. Each integration — configured or not, its
//! last success and last error since start (from [`actors::status::Integrations`], which each
//! integration's owner records into) — the database, the queues' depths and the live
//! conversations. Admins only.
//!
//! `checks` is the latest run of the `doctor` checks of every configured service (one verdict
//! and fix per service), re-run in the background every `STATUS_CHECK_SECS`, never on a
//! status request.
//!
//! Bitrix24 also shows `ok` (red when a set-up problem holds commands or the last check of the
//! portal failed), the `problem` with its message, the last `check` (one verdict per line, the
//! pipeline, each of the nine stages) and the `calls` made (requests, limit answers, time spent
//! waiting for the portal's bucket).

use super::auth::AdminOnly;
use super::error::{AdminToken, ApiResult};
use crate::config::Config;
use crate::http::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Which integrations this process was configured with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Configured {
    pub samo: bool,
    pub llm: bool,
    pub telegram: bool,
    pub wazzup: bool,
    pub email: bool,
    pub bitrix24: bool,
}

impl Configured {
    pub fn from(config: &Config) -> Self {
        Self {
            samo: config.samo.is_some(),
            llm: config.openai.is_some(),
            telegram: config.telegram.is_some(),
            wazzup: config.wazzup.is_some(),
            email: config.email.is_some(),
            bitrix24: config.bitrix.is_some(),
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

/// Each integration configured or not, with its last success and last error since start; the
/// database; queue depths; live conversations.
#[utoipa::path(get, path = "/admin/status", tag = "status",
    summary = "Integrations, database, queues",
    responses(
        (status = 200, description = "the status", body = schema::Status),
        AdminToken,
    ))]
async fn status(
    State(state): State<AppState>,
    AdminOnly(_caller): AdminOnly,
) -> ApiResult<Json<Value>> {
    let configured = state.admin.configured;
    let integrations = state.engine.integrations();
    let one = |name: &str, on: bool| {
        let s = integrations.get(name);
        json!({
            "configured": on,
            "last_success": s.last_success,
            "last_error": s.last_error,
            "last_error_message": s.last_error_message,
            "successes": s.successes,
            "failures": s.failures,
        })
    };
    let mut llm = one("llm", configured.llm);
    if let Some(handle) = state.live.as_ref().and_then(|l| l.llm.as_ref()) {
        let stats = handle.stats();
        llm["model"] = json!(handle.model());
        llm["calls"] = json!({
            "total": stats.calls, "ok": stats.ok, "timeouts": stats.timeouts,
            "api_errors": stats.api_errors, "malformed": stats.malformed,
            "in_flight": stats.in_flight,
        });
    }
    // SAMO's own counters come from the Tours actor (the only caller of SAMO).
    let mut samo = one("samo", configured.samo);
    if let Some(tours) = state.live.as_ref().and_then(|l| l.tours.as_ref())
        && let Some(s) = tours.status().await
    {
        samo["last_success"] = json!(s.last_success);
        samo["last_error"] = json!(s.last_error.as_ref().map(|(at, _)| at));
        samo["last_error_message"] = json!(s.last_error.as_ref().map(|(_, m)| m));
        samo["successes"] = json!(s.calls.saturating_sub(s.failures));
        samo["failures"] = json!(s.failures);
    }
    let mut bitrix24 = one("bitrix24", configured.bitrix24);
    if let Some(crm) = state.engine.crm() {
        bitrix24_details(&mut bitrix24, &crm.health());
    }
    let store = state.store();
    let database = match store.ping().await {
        Ok(()) => json!({"backend": store.backend(), "ok": true, "error": null}),
        Err(e) => {
            tracing::warn!(error = %e, "status: the database does not answer");
            json!({"backend": store.backend(), "ok": false, "error": "the database does not answer"})
        }
    };
    let queues = match store.queue_depths().await {
        Ok(depths) => json!(depths),
        Err(e) => {
            tracing::warn!(error = %e, "status: queue depths unavailable");
            Value::Null
        }
    };
    let conversations = state.engine.stats().await;
    let checks = state.admin.checks.latest();
    Ok(Json(json!({
        "checks": checks,
        "integrations": {
            "samo": samo,
            "llm": llm,
            "telegram": one("telegram", configured.telegram),
            "wazzup": one("wazzup", configured.wazzup),
            "email": one("email", configured.email),
            "bitrix24": bitrix24,
        },
        "database": database,
        "queues": queues,
        "conversations": {
            "live": conversations.live,
            "in_flight": conversations.in_flight,
            "parked_since_start": conversations.parked,
        },
        "outbox": outbox_status(&state),
        "outage": outage(&state),
    })))
}

/// Replies waiting for delivery, per channel: the breaker (`closed`, `open`, `probing`), a
/// rate-limit pause, how many wait and how long the oldest has waited.
fn outbox_status(state: &AppState) -> Value {
    json!(state.engine.outbox_board().snapshot())
}

/// The database as the Store actor finds it, and the messages whose turns wait for it: how
/// many, and how long the oldest has waited since it arrived.
fn outage(state: &AppState) -> Value {
    let engine = &state.engine;
    let outage = engine.store().availability.outage();
    let waiting = engine.waiting_on_outage();
    json!({
        "started": engine.is_started(),
        "database_available": engine.is_started() && outage.is_none(),
        "database_unavailable_secs": outage.as_ref().map(|o| o.since.elapsed().as_secs()),
        "database_error": outage.as_ref().map(|o| o.reason.clone()),
        "messages_waiting": waiting.messages,
        "oldest_waiting_secs": waiting.oldest.map(age_secs),
    })
}

fn age_secs(at: chrono::DateTime<chrono::Utc>) -> i64 {
    (chrono::Utc::now() - at).num_seconds().max(0)
}

/// The Bitrix24 check, set-up problem and call counts, added to its integration entry.
fn bitrix24_details(entry: &mut Value, health: &actors::crm::CrmHealth) {
    entry["ok"] = json!(health.ok());
    entry["calls"] = json!(health.calls);
    entry["problem"] = match &health.problem {
        Some(p) => json!({"message": p.to_string(), "since": health.problem_since, "detail": p}),
        None => Value::Null,
    };
    entry["check"] = match &health.check {
        Some(c) => json!({
            "at": c.at,
            "ok": c.ok(),
            "leads_mode": c.leads_mode,
            "pipeline": c.pipeline,
            "stages": c.stages,
            "verdicts": c.verdicts(),
        }),
        None => Value::Null,
    };
}

/// The shape of the status answer, for the OpenAPI document (the answer is built above).
#[allow(dead_code)]
mod schema {
    use serde_json::Value;
    use utoipa::ToSchema;

    #[derive(ToSchema)]
    pub struct Status {
        pub integrations: Integrations,
        pub database: Database,
        /// Rows waiting in each durable queue (`null` when the store could not say).
        #[schema(value_type = Option<Object>)]
        pub queues: Option<Value>,
        pub conversations: Conversations,
        /// Each channel's outbox: its circuit breaker (`closed`, `open`, `probing`), a
        /// rate-limit pause left, replies waiting for delivery and the oldest one's age.
        #[schema(value_type = Object)]
        pub outbox: Value,
        /// The database as the Store actor finds it (`started`, `database_available`,
        /// `database_unavailable_secs`, `database_error`) and the messages whose turns wait for
        /// it (`messages_waiting`, `oldest_waiting_secs`).
        #[schema(value_type = Object)]
        pub outage: Value,
        /// The latest run of the `doctor` checks (every `STATUS_CHECK_SECS`; `null` before
        /// the first ends, or when they are off).
        pub checks: Option<Checks>,
    }

    /// One run of the checks of every service.
    #[derive(ToSchema)]
    pub struct Checks {
        pub at: chrono::DateTime<chrono::Utc>,
        /// Everything configured works.
        pub ok: bool,
        pub services: Vec<ServiceCheck>,
    }

    #[derive(ToSchema)]
    pub struct ServiceCheck {
        /// `samo`, `telegram`, `wazzup`, `bitrix24`, `llm` or `email`.
        pub key: String,
        pub service: String,
        pub configured: bool,
        /// Configured and nothing failed (or not configured).
        pub ok: bool,
        /// One line: the first failure, or what shows it works.
        pub verdict: String,
        /// What to do about the failure.
        pub fix: Option<String>,
        pub findings: Vec<Finding>,
    }

    #[derive(ToSchema)]
    pub struct Finding {
        /// `ok`, `note` or `fail`.
        pub level: String,
        pub text: String,
    }

    /// One entry per integration: `configured`, `last_success`, `last_error`,
    /// `last_error_message`, `successes`, `failures`; the LLM adds `model` and `calls`;
    /// Bitrix24 adds `ok`, `calls`, `problem` and `check`.
    #[derive(ToSchema)]
    pub struct Integrations {
        #[schema(value_type = Object)]
        pub samo: Value,
        #[schema(value_type = Object)]
        pub llm: Value,
        #[schema(value_type = Object)]
        pub telegram: Value,
        #[schema(value_type = Object)]
        pub wazzup: Value,
        #[schema(value_type = Object)]
        pub email: Value,
        #[schema(value_type = Object)]
        pub bitrix24: Value,
    }

    #[derive(ToSchema)]
    pub struct Database {
        /// `sqlite` or `postgres`.
        pub backend: String,
        pub ok: bool,
        pub error: Option<String>,
    }

    #[derive(ToSchema)]
    pub struct Conversations {
        pub live: u64,
        pub in_flight: u64,
        pub parked_since_start: u64,
    }
}
