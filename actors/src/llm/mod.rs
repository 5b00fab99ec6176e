//! Llm: the only caller of the OpenAI-compatible API, and optional. The dialog works without
//! it; when configured it (a) reads messages the rules could not understand and (b) phrases
//! free-form answers. It never produces offers, hotels or prices, and the customer's text is
//! passed as data only.

use async_trait::async_trait;
use dialogs::analysis::{Intent, Language, Slots};

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
