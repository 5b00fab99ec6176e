//! Instruments wrapped around the engine's parts, so the parts themselves stay as they are:
//!
//! - [`ObservedModel`]: each LLM call's duration and outcome, in the metrics
//!   (`crystalbay_external_calls_total{integration="llm"}`, `…_call_seconds`) and in the
//!   admin status (`llm`: last success, last error).
//! - [`TimedTurns`]: `crystalbay_turn_seconds`, from a message's arrival in the inbox until
//!   its turn is decided.

use actors::llm::{AnswerRequest, Extraction, LanguageModel, LlmError};
use actors::meters;
use actors::status::Integrations;
use actors::store::{ConversationRecord, InboxMessage};
use actors::turns::{TurnError, TurnHandler};
use async_trait::async_trait;
use dialogs::{DialogState, TurnOutcome};
use std::sync::Arc;
use std::time::Instant;

/// A language model whose calls are measured and recorded.
pub struct ObservedModel {
    pub inner: Arc<dyn LanguageModel>,
    pub integrations: Integrations,
}

impl ObservedModel {
    fn record<T>(&self, operation: &'static str, started: Instant, result: &Result<T, LlmError>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(LlmError::Timeout(_)) => "timeout",
            Err(LlmError::Api(_)) => "error",
            Err(LlmError::Malformed(_)) => "malformed",
        };
        meters::external_call_outcome("llm", operation, outcome, started.elapsed());
        match result {
            Ok(_) => self.integrations.success("llm"),
            Err(e) => self
                .integrations
                .failure("llm", &format!("{operation}: {e}")),
        }
    }
}

#[async_trait]
impl LanguageModel for ObservedModel {
    async fn extract(&self, text: &str, today: chrono::NaiveDate) -> Result<Extraction, LlmError> {
        let started = Instant::now();
        let result = self.inner.extract(text, today).await;
        self.record("extract", started, &result);
        result
    }

    async fn answer(&self, request: &AnswerRequest) -> Result<String, LlmError> {
        let started = Instant::now();
        let result = self.inner.answer(request).await;
        self.record("answer", started, &result);
        result
    }
}

/// A turn handler whose turns are timed from the first message's arrival.
pub struct TimedTurns(pub Arc<dyn TurnHandler>);

#[async_trait]
impl TurnHandler for TimedTurns {
    async fn handle_turn(
        &self,
        conversation: &ConversationRecord,
        state: &mut DialogState,
        messages: &[InboxMessage],
    ) -> Result<TurnOutcome, TurnError> {
        let outcome = self.0.handle_turn(conversation, state, messages).await;
        if let Some(first) = messages.first() {
            let waited = (chrono::Utc::now() - first.received_at)
                .to_std()
                .unwrap_or_default();
            metrics::histogram!(meters::TURN_SECONDS,
                "channel" => conversation.key.channel.as_str())
            .record(waited.as_secs_f64());
        }
        outcome
    }

    fn apology(
        &self,
        conversation: &ConversationRecord,
        messages: &[InboxMessage],
    ) -> Option<dialogs::Reply> {
        self.0.apology(conversation, messages)
    }
}
