//! Metric names (Prometheus, through the `metrics` facade) and helpers, so every part of the
//! engine names the same thing the same way. The binary installs the recorder and serves
//! `GET /metrics`; before that (or without it, as in `crystalbay chat`) recording is a no-op.
//!
//! For a new integration (SAMO, Bitrix24, email) one call per external call is enough:
//!
//! ```ignore
//! let started = std::time::Instant::now();
//! let result = client.search(&query).await;
//! actors::meters::external_call(&integrations, "samo", "search", started.elapsed(),
//!     result.as_ref().err().map(|e| e.to_string()).as_deref());
//! // a cache lookup:
//! actors::meters::cache_lookup("samo_dictionaries", hit);
//! ```
//!
//! It counts `crystalbay_external_calls_total{integration, operation, outcome}`, observes
//! `crystalbay_external_call_seconds{integration, operation}` and records the outcome in the
//! [`Integrations`] registry that `GET /admin/status` reads. Label values are fixed words,
//! never ids, phone numbers or texts.

use crate::status::Integrations;
use dialogs::Channel;
use std::time::Duration;

/// Counter: customer messages stored in the inbox (new, not redeliveries), by `channel`.
pub const INBOUND_MESSAGES: &str = "crystalbay_messages_inbound_total";
/// Counter: messages a channel accepted from us, by `channel`.
pub const OUTBOUND_MESSAGES: &str = "crystalbay_messages_outbound_total";
/// Counter: failed sends, by `channel` and `kind` (`rate_limited`, `retryable`, `permanent`).
pub const SEND_FAILURES: &str = "crystalbay_send_failures_total";
/// Counter: replies given up (past their deadline, or refused for good) and escalated to the
/// managers with their text, by `channel`.
pub const UNDELIVERED_REPLIES: &str = "crystalbay_replies_undelivered_total";
/// Histogram: from a reply's commit to the outbox until the channel accepted it, by `channel`.
pub const REPLY_SEND_SECONDS: &str = "crystalbay_reply_send_seconds";
/// Histogram: from a customer message's arrival in the inbox until its turn was decided (the
/// burst window, analysis, SAMO and LLM included), by `channel`.
pub const TURN_SECONDS: &str = "crystalbay_turn_seconds";
/// Histogram: a webhook's time to acknowledge (the message stored), by `channel`.
pub const WEBHOOK_ACK_SECONDS: &str = "crystalbay_webhook_ack_seconds";
/// Counter: calls to an external system, by `integration`, `operation` and `outcome`
/// (`ok`, `error`; the LLM also `timeout`, `malformed`).
pub const EXTERNAL_CALLS: &str = "crystalbay_external_calls_total";
/// Histogram: duration of calls to an external system, by `integration` and `operation`.
pub const EXTERNAL_CALL_SECONDS: &str = "crystalbay_external_call_seconds";
/// Counter: cache lookups, by `cache` and `result` (`hit`, `miss`).
pub const CACHE_LOOKUPS: &str = "crystalbay_cache_lookups_total";

/// Records one call to an external system: its duration, its outcome (`error`: the failure's
/// message, which must carry no secret), in the metrics and in `integrations`.
pub fn external_call(
    integrations: &Integrations,
    integration: &'static str,
    operation: &'static str,
    elapsed: Duration,
    error: Option<&str>,
) {
    let outcome = if error.is_some() { "error" } else { "ok" };
    external_call_outcome(integration, operation, outcome, elapsed);
    match error {
        None => integrations.success(integration),
        Some(e) => integrations.failure(integration, &format!("{operation}: {e}")),
    }
}

/// The metrics half of [`external_call`], with a finer `outcome` word.
pub fn external_call_outcome(
    integration: &'static str,
    operation: &'static str,
    outcome: &'static str,
    elapsed: Duration,
) {
    metrics::counter!(EXTERNAL_CALLS, "integration" => integration, "operation" => operation,
        "outcome" => outcome)
    .increment(1);
    metrics::histogram!(EXTERNAL_CALL_SECONDS, "integration" => integration,
        "operation" => operation)
    .record(elapsed.as_secs_f64());
}

/// Records a cache lookup.
pub fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}

/// A customer message was stored.
pub fn inbound_message(channel: Channel) {
    metrics::counter!(INBOUND_MESSAGES, "channel" => channel.as_str()).increment(1);
}

/// Describes every metric above (the `# HELP` lines); called once by the binary after it
/// installs the recorder.
pub fn describe() {
    use metrics::{describe_counter, describe_histogram};
    describe_counter!(
        INBOUND_MESSAGES,
        "Customer messages stored in the inbox (redeliveries not counted)"
    );
    describe_counter!(OUTBOUND_MESSAGES, "Messages a channel accepted from us");
    describe_counter!(
        SEND_FAILURES,
        "Failed sends: rate-limited, retryable or permanent"
    );
    describe_counter!(
        UNDELIVERED_REPLIES,
        "Replies not delivered (deadline passed or refused for good), escalated to the managers"
    );
    describe_histogram!(
        REPLY_SEND_SECONDS,
        metrics::Unit::Seconds,
        "From a reply's commit to the outbox until the channel accepted it"
    );
    describe_histogram!(
        TURN_SECONDS,
        metrics::Unit::Seconds,
        "From a customer message's arrival until its turn was decided"
    );
    describe_histogram!(
        WEBHOOK_ACK_SECONDS,
        metrics::Unit::Seconds,
        "Time a webhook took to acknowledge (message stored)"
    );
    describe_counter!(EXTERNAL_CALLS, "Calls to external systems, by outcome");
    describe_histogram!(
        EXTERNAL_CALL_SECONDS,
        metrics::Unit::Seconds,
        "Duration of calls to external systems"
    );
    describe_counter!(CACHE_LOOKUPS, "Cache lookups, hits and misses");
}
