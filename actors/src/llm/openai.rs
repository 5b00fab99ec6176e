//! [`OpenAiModel`]: the [`LanguageModel`] over an OpenAI-compatible chat-completions API,
//! through async-openai.
//!
//! - The base URL and the key are always set explicitly: async-openai's defaults read
//!   `OPENAI_*` variables from the environment behind our back (organisation and project too).
//! - async-openai retries 429, 5xx and failed connections itself; the number of retries comes
//!   from [`LlmSettings::retries`], and [`LlmSettings::timeout`] bounds the whole call, retries
//!   and their back-off included.
//! - Requests are typed; responses are read as plain JSON (`byot`) and parsed leniently,
//!   because compatible servers differ in details (a tool call without `"type"`, arguments
//!   as an object, JSON in `content`). What they say is then validated strictly.
//! - The customer's text only ever travels inside the user message, as a JSON string field;
//!   the system message is the prompt plus values the engine itself chose.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use async_openai::middleware::retry::OpenAIRetryLayer;
use async_openai::types::chat::{
    ChatCompletionNamedToolChoice, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage, ChatCompletionTool,
    ChatCompletionToolChoiceOption, ChatCompletionTools, CreateChatCompletionRequest, FunctionName,
    FunctionObject,
};
use async_trait::async_trait;
use chrono::NaiveDate;
use dialogs::analysis::{Language, Slots};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tower::Layer;

use super::{AnswerRequest, Extraction, LanguageModel, LlmError, LlmSettings, PromptError};
use super::{guard, schema};

/// The shipped default of the answer prompt (admin-editable at run time).
pub const DEFAULT_SYSTEM_PROMPT: &str = include_str!("../../../prompts/llm/system.md");
/// The shipped default of the extraction prompt (admin-editable at run time).
pub const DEFAULT_EXTRACT_PROMPT: &str = include_str!("../../../prompts/llm/extract.md");
/// The longest prompt an admin may set.
pub const MAX_PROMPT_CHARS: usize = 20_000;

/// Token limits: an extraction is a small JSON object; an answer is a short chat reply
/// (the guard allows [`guard::MAX_ANSWER_CHARS`]).
const EXTRACT_MAX_TOKENS: u32 = 600;
const ANSWER_MAX_TOKENS: u32 = 700;
/// Longest piece of an API error message kept in an [`LlmError`].
const MAX_ERROR_CHARS: usize = 200;
/// The most of one customer message sent to the model: a long email (quoted history and all)
/// costs tokens and time, and its first part says what the customer wants.
pub const MAX_INPUT_CHARS: usize = 4000;

/// An OpenAI-compatible model with the agency's prompts.
pub struct OpenAiModel {
    client: Client<OpenAIConfig>,
    model: String,
    timeout: Duration,
    /// The answer prompt; replaced by the admin API, read by every answer.
    system_prompt: Prompt,
    /// The extraction prompt; replaced by the admin API, read by every extraction.
    extract_prompt: Prompt,
}

/// A prompt replaceable at run time; a call takes the current one and keeps it to the end.
struct Prompt(RwLock<Arc<str>>);

impl Prompt {
    fn new(text: &str) -> Self {
        Prompt(RwLock::new(text.into()))
    }

    fn get(&self) -> Arc<str> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, text: String) -> Result<(), PromptError> {
        let chars = text.chars().count();
        if text.trim().is_empty() {
            return Err(PromptError::Empty);
        }
        if chars > MAX_PROMPT_CHARS {
            return Err(PromptError::TooLong(chars));
        }
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = text.into();
        Ok(())
    }
}

impl std::fmt::Debug for OpenAiModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiModel")
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OpenAiModel {
    /// A client for `settings`, with the shipped default prompts.
    pub fn new(settings: &LlmSettings) -> Result<Self, LlmError> {
        let config = OpenAIConfig::new()
            .with_api_base(settings.base_url.trim_end_matches('/'))
            .with_api_key(settings.api_key.expose_secret())
            .with_org_id("")
            .with_project_id("");
        let http = reqwest::Client::builder()
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| LlmError::Api(format!("cannot build the HTTP client: {e}")))?;
        let service = OpenAIRetryLayer::new(settings.retries).layer(ReqwestService::new(http));
        Ok(Self {
            client: Client::with_config(config).with_http_service(service),
            model: settings.model.clone(),
            timeout: settings.timeout,
            system_prompt: Prompt::new(DEFAULT_SYSTEM_PROMPT),
            extract_prompt: Prompt::new(DEFAULT_EXTRACT_PROMPT),
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The prompt that phrases answers now.
    pub fn system_prompt(&self) -> Arc<str> {
        self.system_prompt.get()
    }

    /// Replaces the answer prompt for every later call.
    pub fn set_system_prompt(&self, prompt: String) -> Result<(), PromptError> {
        self.system_prompt.set(prompt)
    }

    /// The prompt that guides extraction now.
    pub fn extract_prompt(&self) -> Arc<str> {
        self.extract_prompt.get()
    }

    /// Replaces the extraction prompt for every later call.
    pub fn set_extract_prompt(&self, prompt: String) -> Result<(), PromptError> {
        self.extract_prompt.set(prompt)
    }

    /// One chat completion, bounded by the timeout (the client's retries included).
    async fn complete(&self, request: CreateChatCompletionRequest) -> Result<Value, LlmError> {
        let chat = self.client.chat();
        let call = chat.create_byot::<_, Value>(request);
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(LlmError::Timeout(self.timeout)),
            Ok(result) => result.map_err(api_error),
        }
    }
}

#[async_trait]
impl LanguageModel for OpenAiModel {
    // Traced without the customer's words (they may carry a phone number or an email).
    #[tracing::instrument(name = "llm.extract", skip_all, fields(model = %self.model, chars = text.chars().count()))]
    async fn extract(&self, text: &str, today: NaiveDate) -> Result<Extraction, LlmError> {
        let system = format!(
            "{}\n\nToday is {}.",
            self.extract_prompt(),
            today.format("%Y-%m-%d, %A")
        );
        let tool = FunctionObject {
            name: schema::TOOL_NAME.into(),
            description: Some(
                "Records the intent, language and tour-search details of the customer's message."
                    .into(),
            ),
            parameters: Some(schema::tool_parameters()),
            strict: None,
        };
        let request = CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: vec![
                system_message(system),
                user_data(json!({ "customer_message": clip(text) })),
            ],
            tools: Some(vec![ChatCompletionTools::Function(ChatCompletionTool {
                function: tool,
            })]),
            tool_choice: Some(ChatCompletionToolChoiceOption::Function(
                ChatCompletionNamedToolChoice {
                    function: FunctionName {
                        name: schema::TOOL_NAME.into(),
                    },
                },
            )),
            max_completion_tokens: Some(EXTRACT_MAX_TOKENS),
            ..Default::default()
        };
        let response = self.complete(request).await?;
        let arguments = tool_arguments(&response)?;
        Ok(schema::validate(&arguments, today))
    }

    #[tracing::instrument(name = "llm.answer", skip_all, fields(model = %self.model, language = ?request.language))]
    async fn answer(&self, request: &AnswerRequest) -> Result<String, LlmError> {
        let prompt = self.system_prompt();
        let language = match request.language {
            Language::Ru => "Russian",
            Language::Kk => "Kazakh",
            Language::En => "English",
        };
        let system = format!("{prompt}\n\nAnswer in {language}.");
        // The model needs the search details to phrase an answer, not how to reach the customer.
        let known = Slots {
            phone: None,
            email: None,
            ..request.known.clone()
        };
        let data = json!({
            "known_search": known,
            "customer_message": clip(&request.customer_text),
        });
        let chat = CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: vec![system_message(system), user_data(data)],
            max_completion_tokens: Some(ANSWER_MAX_TOKENS),
            ..Default::default()
        };
        let response = self.complete(chat).await?;
        guard::check_answer(&answer_text(&response)?, &prompt)
    }
}

/// The first [`MAX_INPUT_CHARS`] characters of `text`.
fn clip(text: &str) -> &str {
    match text.char_indices().nth(MAX_INPUT_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn system_message(text: String) -> ChatCompletionRequestMessage {
    ChatCompletionRequestSystemMessage::from(text).into()
}

/// The user message: a JSON object whose string fields carry the customer's words. JSON
/// escaping keeps the text inside its field, whatever quotes or markers it contains.
fn user_data(data: Value) -> ChatCompletionRequestMessage {
    ChatCompletionRequestUserMessage::from(data.to_string()).into()
}

fn malformed(what: &str) -> LlmError {
    LlmError::Malformed(what.to_owned())
}

/// The arguments of the `record_analysis` call, from wherever a compatible server put them:
/// `tool_calls` (with or without `"type"`), the legacy `function_call`, or JSON in `content`.
fn tool_arguments(response: &Value) -> Result<Value, LlmError> {
    let message = response
        .pointer("/choices/0/message")
        .ok_or_else(|| malformed("no choices[0].message in the response"))?;
    let calls = message.get("tool_calls").and_then(Value::as_array);
    let call = calls
        .and_then(|calls| {
            calls
                .iter()
                .find(|c| {
                    c.pointer("/function/name").and_then(Value::as_str) == Some(schema::TOOL_NAME)
                })
                .or_else(|| {
                    calls
                        .first()
                        .filter(|c| c.pointer("/function/name").is_none())
                })
        })
        .and_then(|c| c.get("function"))
        .or_else(|| message.get("function_call"));
    match call.and_then(|f| f.get("arguments")) {
        Some(Value::String(s)) => json_object(s),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(malformed("the tool call's arguments are not a JSON object")),
        None => match message.get("content").and_then(Value::as_str) {
            Some(content) if call.is_none() => json_object(content),
            _ => Err(malformed("the model did not call record_analysis")),
        },
    }
}

/// A JSON object from text that may wrap it in a code fence or a sentence.
fn json_object(text: &str) -> Result<Value, LlmError> {
    let start = text.find('{');
    let end = text.rfind('}');
    let slice = match (start, end) {
        (Some(s), Some(e)) if s < e => &text[s..=e],
        _ => return Err(malformed("no JSON object in the tool call")),
    };
    match serde_json::from_str::<Value>(slice) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(malformed("the tool call's arguments are not valid JSON")),
    }
}

/// The text of the first choice; an answer cut off by the token limit is not used.
fn answer_text(response: &Value) -> Result<String, LlmError> {
    let choice = response
        .pointer("/choices/0")
        .ok_or_else(|| malformed("no choices[0] in the response"))?;
    if choice.get("finish_reason").and_then(Value::as_str) == Some("length") {
        return Err(malformed("the answer was cut off at the token limit"));
    }
    match choice.pointer("/message/content") {
        Some(Value::String(s)) => Ok(s.clone()),
        // Content as an array of parts.
        Some(Value::Array(parts)) => Ok(parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect()),
        _ if choice
            .pointer("/message/refusal")
            .is_some_and(Value::is_string) =>
        {
            Err(malformed("the model refused to answer"))
        }
        _ => Err(malformed("no text in the answer")),
    }
}

/// An [`LlmError`] from a client error, short, with no request or response body in it.
fn api_error(error: OpenAIError) -> LlmError {
    let short = |s: String| -> String {
        if s.chars().count() <= MAX_ERROR_CHARS {
            return s;
        }
        s.chars().take(MAX_ERROR_CHARS).chain(['…']).collect()
    };
    match error {
        OpenAIError::ApiError(e) => LlmError::Api(format!(
            "HTTP {}: {}",
            e.status_code.as_u16(),
            short(e.api_error.message)
        )),
        OpenAIError::JSONDeserialize(e, _body) => {
            LlmError::Malformed(format!("the response is not JSON: {e}"))
        }
        OpenAIError::Reqwest(e) => LlmError::Api(short(format!("request failed: {e}"))),
        other => LlmError::Api(short(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_arguments_are_found_wherever_a_server_puts_them() {
        let args = json!({"intent": "faq"});
        let text = args.to_string();
        let shapes = [
            json!({"choices": [{"message": {"tool_calls": [{"id": "1", "type": "function",
                "function": {"name": "record_analysis", "arguments": text}}]}}]}),
            // No "type", arguments as an object.
            json!({"choices": [{"message": {"tool_calls": [{"function": {"name": "record_analysis", "arguments": args}}]}}]}),
            json!({"choices": [{"message": {"function_call": {"name": "record_analysis", "arguments": text}}}]}),
            json!({"choices": [{"message": {"content": format!("```json\n{text}\n```")}}]}),
        ];
        for shape in shapes {
            assert_eq!(tool_arguments(&shape).unwrap(), args, "{shape}");
        }
    }

    #[test]
    fn a_response_without_the_call_is_malformed() {
        for shape in [
            json!({}),
            json!({"choices": []}),
            json!({"choices": [{"message": {"content": "Hello!"}}]}),
            json!({"choices": [{"message": {"tool_calls": [{"function": {"name": "other", "arguments": "{}"}}]}}]}),
            json!({"choices": [{"message": {"tool_calls": [{"function": {"name": "record_analysis", "arguments": "{not json"}}]}}]}),
            json!({"choices": [{"message": {"tool_calls": [{"function": {"name": "record_analysis", "arguments": 5}}]}}]}),
        ] {
            assert!(
                matches!(tool_arguments(&shape), Err(LlmError::Malformed(_))),
                "{shape}"
            );
        }
    }

    #[test]
    fn answer_text_reads_strings_and_parts_and_refuses_cut_answers() {
        let r = json!({"choices": [{"message": {"content": "Да."}, "finish_reason": "stop"}]});
        assert_eq!(answer_text(&r).unwrap(), "Да.");
        let r = json!({"choices": [{"message": {"content": [{"type": "text", "text": "Да"}, {"type": "text", "text": "."}]}}]});
        assert_eq!(answer_text(&r).unwrap(), "Да.");
        let r = json!({"choices": [{"message": {"content": "Да, и"}, "finish_reason": "length"}]});
        assert!(answer_text(&r).is_err());
        let r = json!({"choices": [{"message": {"content": null, "refusal": "no"}}]});
        assert!(answer_text(&r).is_err());
    }

    #[test]
    fn long_messages_are_clipped_on_a_character_boundary() {
        assert_eq!(clip("Нячанг"), "Нячанг");
        let long = "ё".repeat(MAX_INPUT_CHARS + 10);
        assert_eq!(clip(&long).chars().count(), MAX_INPUT_CHARS);
    }

    #[test]
    fn prompts_are_checked_and_replaced() {
        let model = OpenAiModel::new(&LlmSettings::new(
            "http://127.0.0.1:9",
            "k".to_owned().into(),
            "gpt-4o",
        ))
        .unwrap();
        assert_eq!(&*model.system_prompt(), DEFAULT_SYSTEM_PROMPT);
        assert_eq!(
            model.set_system_prompt(" \n".into()),
            Err(PromptError::Empty)
        );
        assert!(matches!(
            model.set_system_prompt("x".repeat(MAX_PROMPT_CHARS + 1)),
            Err(PromptError::TooLong(_))
        ));
        model.set_system_prompt("Be brief.".into()).unwrap();
        assert_eq!(&*model.system_prompt(), "Be brief.");
        model.set_extract_prompt("Extract.".into()).unwrap();
        assert_eq!(&*model.extract_prompt(), "Extract.");
        assert!(!format!("{model:?}").contains("\"k\""));
    }
}
