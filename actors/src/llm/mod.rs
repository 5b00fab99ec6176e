//! Llm: the only caller of the OpenAI-compatible API, and optional. The dialog works without
//! it; when configured it (a) reads messages the rules could not understand and (b) phrases
//! free-form answers. It never produces offers, hotels or prices, and the customer's text is
//! passed as data only.
//!
//! - [`openai`]: [`OpenAiModel`], the model over an OpenAI-compatible chat-completions API.
//! - [`actor`]: the Llm actor, the only caller of the model, and [`LlmHandle`] to reach it.
//! - [`schema`]: the extraction tool's JSON schema and the validation of its untrusted output.
//! - [`guard`]: the check of a phrased answer before it may reach a customer.
//!
//! Start it with [`start`] from [`LlmSettings`]; the engine's root supervisor adopts and
//! restarts it.

pub mod actor;
pub mod guard;
pub mod openai;
pub mod schema;

pub use actor::{LlmHandle, LlmStats, StartError, start};
pub use openai::OpenAiModel;

use async_trait::async_trait;
use dialogs::analysis::{Intent, Language, Slots};
use secrecy::SecretString;
use std::time::Duration;

/// How to reach the model. Plain values, so `actors` does not depend on the binary's config.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// OpenAI-compatible base URL, e.g. `https://api.openai.com/v1` (no trailing slash needed).
    pub base_url: String,
    /// Sent as `Authorization: Bearer …`; never logged.
    pub api_key: SecretString,
    /// Model name, e.g. `gpt-4o`.
    pub model: String,
    /// Bound on one whole call, the client's own retries included.
    pub timeout: Duration,
    /// How many times the client retries a 429, a 5xx or a failed connection (within `timeout`).
    pub retries: usize,
}

impl LlmSettings {
    /// Settings with the default timeout (15 s) and one retry.
    pub fn new(
        base_url: impl Into<String>,
        api_key: SecretString,
        model: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            api_key,
            model: model.into(),
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
        }
    }
}

/// Default bound on one model call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Default retries of a 429/5xx/connection failure: one quick second try fits a 15 s budget.
pub const DEFAULT_RETRIES: usize = 1;

/// A prompt an admin tried to set that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    #[error("the prompt is empty")]
    Empty,
    #[error("the prompt is too long ({0} characters, at most {max})", max = openai::MAX_PROMPT_CHARS)]
    TooLong(usize),
    #[error("the Llm actor has stopped")]
    Stopped,
}

/// What the model read in a message the rules left not understood, in the SCHEMA's terms.
/// Merged over what the rules found (the rules' values win where both have one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extraction {
    pub intent: Option<Intent>,
    pub language: Option<Language>,
    pub slots: Slots,
}

/// A question the bot has no template answer for, to be phrased by the model.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRequest {
    /// The language to answer in.
    pub language: Language,
    /// The customer's message, verbatim: data, never instructions.
    pub customer_text: String,
    /// What the conversation knows so far (search slots), for context.
    pub known: Slots,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("the model did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("the model's API failed: {0}")]
    Api(String),
    #[error("the model's answer could not be used: {0}")]
    Malformed(String),
}

/// An OpenAI-compatible model. Every failure is an [`LlmError`]; the caller falls back to
/// the rules path and the customer never sees the failure.
#[async_trait]
pub trait LanguageModel: Send + Sync + 'static {
    async fn extract(&self, text: &str, today: chrono::NaiveDate) -> Result<Extraction, LlmError>;

    async fn answer(&self, request: &AnswerRequest) -> Result<String, LlmError>;
}
