//! `GET /metrics`: Prometheus text, from the process-wide recorder of the `metrics` facade.
//!
//! The recorder is installed once per process ([`install`]; tests run many apps in one
//! process, so their counters add up). Counters and histograms are recorded where things
//! happen (names in [`actors::meters`]); the gauges below are read at each scrape from the
//! engine and the store: live conversations, messages in flight, queue depths, open
//! escalations, LLM calls in flight. Like `/health`, the route needs no token: it carries no
//! personal data, and is meant for a scraper on the internal network.

use super::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Gauge: conversation actors alive now.
pub const CONVERSATIONS_LIVE: &str = "crystalbay_conversations_live";
/// Gauge: messages delivered to conversations and not yet finished.
pub const MESSAGES_IN_FLIGHT: &str = "crystalbay_messages_in_flight";
/// Counter: messages parked as failed since start.
pub const MESSAGES_PARKED: &str = "crystalbay_messages_parked_total";
/// Gauge: rows waiting or failed, by `queue` (`inbox_pending`, `inbox_failed`: parked, `outbox_pending`,
/// `outbox_failed`, `crm_pending`, `crm_failed`, `crm_held`: pending CRM commands held for a
/// Bitrix24 set-up problem).
pub const QUEUE_DEPTH: &str = "crystalbay_queue_depth";
/// Gauge: escalations waiting for a manager.
pub const ESCALATIONS_OPEN: &str = "crystalbay_escalations_open";
/// Gauge: LLM calls under way.
pub const LLM_IN_FLIGHT: &str = "crystalbay_llm_in_flight";
/// Gauge: replies queued or in flight in a channel's outbox, by `channel`.
pub const OUTBOX_WAITING: &str = "crystalbay_outbox_waiting";
/// Gauge: seconds the oldest waiting reply of a channel has waited, by `channel`.
pub const OUTBOX_OLDEST_SECONDS: &str = "crystalbay_outbox_oldest_waiting_seconds";
/// Gauge: a channel's circuit breaker, by `channel` and `state` (`closed`, `open`,
/// `probing`): 1 for the state it is in, 0 for the others.
pub const OUTBOX_BREAKER: &str = "crystalbay_outbox_breaker";
/// Gauge: seconds left of a rate-limit pause a channel asked for, by `channel`.
pub const OUTBOX_PAUSED_SECONDS: &str = "crystalbay_outbox_paused_seconds";
/// Counter: customer messages received through Wazzup (new, not redeliveries), by
/// `messenger`: Wazzup's chat type (`whatsapp`, `instagram`, `telegram`, …).
pub const WAZZUP_MESSAGES: &str = "crystalbay_wazzup_messages_total";
/// Counter: idle client connections closed to stay under `HTTP_MAX_CONNECTIONS`.
pub const CONNECTIONS_SHED: &str = "crystalbay_http_connections_shed_total";

/// Gauge: 1 while the database takes writes (and the engine has started), 0 during an outage.
pub const DATABASE_AVAILABLE: &str = "crystalbay_database_available";
/// Gauge: messages whose turns wait for the database (an outage), and the age in seconds of
/// the oldest of them (0 when none waits).
pub const MESSAGES_WAITING_ON_OUTAGE: &str = "crystalbay_messages_waiting_on_outage";
pub const OLDEST_WAITING_ON_OUTAGE: &str = "crystalbay_oldest_waiting_on_outage_seconds";

/// Latency buckets, in seconds, of every histogram.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use. If another recorder was installed first,
/// ours renders nothing but the gauges it sets itself.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("the bucket list is not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        match metrics::set_global_recorder(recorder) {
            Ok(()) => {
                actors::meters::describe();
                describe();
                // Histogram samples are folded into buckets by a scrape or by this; without
                // scrapes they would pile up.
                let upkeep = handle.clone();
                std::thread::Builder::new()
                    .name("metrics-upkeep".into())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(Duration::from_secs(5));
                            upkeep.run_upkeep();
                        }
                    })
                    .expect("spawning the metrics upkeep thread");
            }
            Err(e) => tracing::warn!(error = %e, "a metrics recorder was already installed"),
        }
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge};
    describe_gauge!(CONVERSATIONS_LIVE, "Conversation actors alive now");
    describe_gauge!(
        MESSAGES_IN_FLIGHT,
        "Messages delivered to conversations, not yet finished"
    );
    describe_counter!(MESSAGES_PARKED, "Messages parked as failed since start");
    describe_counter!(
        WAZZUP_MESSAGES,
        "Customer messages received through Wazzup, by messenger"
    );
    describe_gauge!(QUEUE_DEPTH, "Rows waiting (or failed) in each queue");
    describe_gauge!(ESCALATIONS_OPEN, "Escalations waiting for a manager");
    describe_gauge!(LLM_IN_FLIGHT, "LLM calls under way");
    describe_gauge!(
        DATABASE_AVAILABLE,
        "1 while the database takes writes, 0 during an outage"
    );
    describe_gauge!(
        MESSAGES_WAITING_ON_OUTAGE,
        "Messages whose turns wait for the database"
    );
    describe_gauge!(
        OLDEST_WAITING_ON_OUTAGE,
        "Age of the oldest message waiting for the database"
    );
    describe_gauge!(OUTBOX_WAITING, "Replies waiting for delivery, per channel");
    describe_gauge!(
        OUTBOX_OLDEST_SECONDS,
        "Seconds the oldest reply waiting for delivery has waited, per channel"
    );
    describe_gauge!(
        OUTBOX_BREAKER,
        "Circuit breaker of each channel: 1 for its state (closed, open, probing)"
    );
    describe_gauge!(
        OUTBOX_PAUSED_SECONDS,
        "Seconds left of a rate-limit pause a channel asked for"
    );
    describe_counter!(
        CONNECTIONS_SHED,
        "Idle client connections closed to stay under HTTP_MAX_CONNECTIONS"
    );
}

/// Sets the outbox gauges from each channel actor's last published state.
fn outbox_gauges(state: &AppState) {
    for (channel, outbox) in state.engine.outbox_board().snapshot() {
        metrics::gauge!(OUTBOX_WAITING, "channel" => channel.clone()).set(outbox.waiting as f64);
        metrics::gauge!(OUTBOX_OLDEST_SECONDS, "channel" => channel.clone())
            .set(outbox.oldest_waiting_secs);
        metrics::gauge!(OUTBOX_PAUSED_SECONDS, "channel" => channel.clone())
            .set(outbox.paused_secs);
        for breaker in ["closed", "open", "probing"] {
            let on = if outbox.breaker == breaker { 1.0 } else { 0.0 };
            metrics::gauge!(OUTBOX_BREAKER, "channel" => channel.clone(), "state" => breaker)
                .set(on);
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(render))
}

async fn render(State(state): State<AppState>) -> Response {
    let handle = install();
    let stats = state.engine.stats().await;
    metrics::gauge!(CONVERSATIONS_LIVE).set(stats.live as f64);
    metrics::gauge!(MESSAGES_IN_FLIGHT).set(stats.in_flight as f64);
    metrics::counter!(MESSAGES_PARKED).absolute(stats.parked);
    match state.store().queue_depths().await {
        Ok(d) => {
            for (queue, depth) in [
                ("inbox_pending", d.inbox_pending),
                ("inbox_failed", d.inbox_failed),
                ("outbox_pending", d.outbox_pending),
                ("outbox_failed", d.outbox_failed),
                ("crm_pending", d.crm_pending),
                ("crm_failed", d.crm_failed),
                ("crm_held", d.crm_held),
            ] {
                metrics::gauge!(QUEUE_DEPTH, "queue" => queue).set(depth as f64);
            }
            metrics::gauge!(ESCALATIONS_OPEN).set(d.escalations_open as f64);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: queue depths unavailable"),
    }
    if let Some(llm) = state.live.as_ref().and_then(|l| l.llm.as_ref()) {
        metrics::gauge!(LLM_IN_FLIGHT).set(llm.stats().in_flight as f64);
    }
    outbox_gauges(&state);
    outage_gauges(&state);
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// The database's availability and the turns waiting for it.
fn outage_gauges(state: &AppState) {
    let engine = &state.engine;
    let available = engine.is_started() && engine.store().availability.is_up();
    metrics::gauge!(DATABASE_AVAILABLE).set(if available { 1.0 } else { 0.0 });
    let waiting = engine.waiting_on_outage();
    metrics::gauge!(MESSAGES_WAITING_ON_OUTAGE).set(waiting.messages as f64);
    let oldest = waiting
        .oldest
        .map(|at| (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0)
        .unwrap_or(0.0);
    metrics::gauge!(OLDEST_WAITING_ON_OUTAGE).set(oldest);
}

/// Middleware of a webhook route: observes how long it took to acknowledge.
pub async fn time_ack(channel: &'static str, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::histogram!(actors::meters::WEBHOOK_ACK_SECONDS, "channel" => channel)
        .record(started.elapsed().as_secs_f64());
    response
}
