//! The Llm actor: the only caller of the model, and [`LlmHandle`], how conversations reach it.
//!
//! A ractor handler runs to completion, so the actor never awaits the model inside `handle`:
//! it spawns each call as a task that replies through the caller's `RpcReplyPort`, and goes
//! back to its mailbox at once. Calls of different conversations run side by side; a slow
//! model stops no one but the caller, who gets a [`LlmError`] at the timeout at the latest.
//! Messages that change the prompts are handled in order, so a call sent after a change
//! uses the new prompt.
//!
//! Every call is counted ([`LlmHandle::stats`]) and logged with its duration, outcome and
//! model. The key is never logged; the customer's text only masked, and only at debug level.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::NaiveDate;
use dialogs::privacy::mask_text;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::openai::OpenAiModel;
use super::{AnswerRequest, Extraction, LanguageModel, LlmError, LlmSettings, PromptError};

/// Extra time the handle waits beyond the model's own timeout before giving up on the actor.
const RPC_GRACE: Duration = Duration::from_secs(2);

/// Everything the Llm actor can be asked.
pub enum LlmMsg {
    /// Read a message the rules did not understand.
    Extract {
        text: String,
        today: NaiveDate,
        reply: RpcReplyPort<Result<Extraction, LlmError>>,
    },
    /// Phrase a free-form answer.
    Answer {
        /// Boxed: the slots make it the largest message by far.
        request: Box<AnswerRequest>,
        reply: RpcReplyPort<Result<String, LlmError>>,
    },
    /// Replace the answer prompt (admin API).
    SetSystemPrompt(String, RpcReplyPort<Result<(), PromptError>>),
    /// Replace the extraction prompt (admin API).
    SetExtractPrompt(String, RpcReplyPort<Result<(), PromptError>>),
    /// The current answer prompt.
    SystemPrompt(RpcReplyPort<String>),
}

/// Counters of model calls since start, for the admin API and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LlmStats {
    /// Calls started (extractions and answers).
    pub calls: u64,
    /// Calls that returned a usable result.
    pub ok: u64,
    /// Calls that hit the timeout.
    pub timeouts: u64,
    /// Calls the API refused or that could not reach it.
    pub api_errors: u64,
    /// Calls whose result could not be used (unparsable, or refused by the guard).
    pub malformed: u64,
    /// Calls under way now.
    pub in_flight: u64,
}

impl LlmStats {
    /// Calls that fell back to the rules path.
    pub fn failures(&self) -> u64 {
        self.timeouts + self.api_errors + self.malformed
    }
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    ok: AtomicU64,
    timeouts: AtomicU64,
    api_errors: AtomicU64,
    malformed: AtomicU64,
    in_flight: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> LlmStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        LlmStats {
            calls: get(&self.calls),
            ok: get(&self.ok),
            timeouts: get(&self.timeouts),
            api_errors: get(&self.api_errors),
            malformed: get(&self.malformed),
            in_flight: get(&self.in_flight),
        }
    }
}

struct Llm;

struct LlmState {
    model: Arc<OpenAiModel>,
    counters: Arc<Counters>,
}

impl Actor for Llm {
    type Msg = LlmMsg;
    type State = LlmState;
    type Arguments = (Arc<OpenAiModel>, Arc<Counters>);

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        (model, counters): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        tracing::info!(model = model.model(), "llm ready");
        Ok(LlmState { model, counters })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            LlmMsg::Extract { text, today, reply } => {
                tracing::debug!(text = %mask_text(&text), "llm extract requested");
                let model = state.model.clone();
                spawn_call(state, "extract", reply, async move {
                    model.extract(&text, today).await
                });
            }
            LlmMsg::Answer { request, reply } => {
                tracing::debug!(text = %mask_text(&request.customer_text), "llm answer requested");
                let model = state.model.clone();
                spawn_call(state, "answer", reply, async move {
                    model.answer(&request).await
                });
            }
            LlmMsg::SetSystemPrompt(prompt, reply) => {
                let result = state.model.set_system_prompt(prompt);
                if result.is_ok() {
                    tracing::info!("llm system prompt replaced");
                }
                let _ = reply.send(result);
            }
            LlmMsg::SetExtractPrompt(prompt, reply) => {
                let result = state.model.set_extract_prompt(prompt);
                if result.is_ok() {
                    tracing::info!("llm extraction prompt replaced");
                }
                let _ = reply.send(result);
            }
            LlmMsg::SystemPrompt(reply) => {
                let _ = reply.send(state.model.system_prompt().to_string());
            }
        }
        Ok(())
    }
}

/// Runs one model call as its own task: counted, logged, answered through `reply`.
fn spawn_call<T: Send + 'static>(
    state: &LlmState,
    op: &'static str,
    reply: RpcReplyPort<Result<T, LlmError>>,
    call: impl Future<Output = Result<T, LlmError>> + Send + 'static,
) {
    let counters = state.counters.clone();
    let model = state.model.clone();
    counters.calls.fetch_add(1, Ordering::Relaxed);
    counters.in_flight.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(async move {
        let started = Instant::now();
        let result = call.await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        let (counter, outcome) = match &result {
            Ok(_) => (&counters.ok, "ok"),
            Err(LlmError::Timeout(_)) => (&counters.timeouts, "timeout"),
            Err(LlmError::Api(_)) => (&counters.api_errors, "api_error"),
            Err(LlmError::Malformed(_)) => (&counters.malformed, "malformed"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match &result {
            Ok(_) => tracing::info!(op, model = model.model(), elapsed_ms, outcome, "llm call"),
            // The error texts carry no request or response bodies (see `openai::api_error`).
            Err(e) => tracing::warn!(op, model = model.model(), elapsed_ms, outcome, error = %e,
                "llm call failed; the rules path answers"),
        }
        // A caller that gave up waiting is no reason to fail.
        let _ = reply.send(result);
    });
}

/// Starts the Llm actor. The engine's root supervisor adopts it ([`LlmHandle::supervise`])
/// and starts it again if it stops ([`LlmHandle::restart`]).
pub async fn start(settings: LlmSettings) -> Result<LlmHandle, StartError> {
    let client = Arc::new(OpenAiModel::new(&settings).map_err(StartError::Client)?);
    let counters = Arc::new(Counters::default());
    let (actor, _) = Actor::spawn(None, Llm, (client.clone(), counters.clone()))
        .await
        .map_err(|e| StartError::Spawn(e.to_string()))?;
    Ok(LlmHandle {
        actor: Arc::new(RwLock::new(actor)),
        client,
        counters,
        timeout: settings.timeout,
        model: settings.model,
    })
}

/// The Llm actor could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot build the LLM client: {0}")]
    Client(LlmError),
    #[error("cannot spawn the Llm actor: {0}")]
    Spawn(String),
}

/// How the rest of the engine reaches the Llm actor. Cheap to clone; implements
/// [`LanguageModel`], so a conversation holds it as `Arc<dyn LanguageModel>`.
#[derive(Clone)]
pub struct LlmHandle {
    /// The running actor; replaced when the supervisor restarts it.
    actor: Arc<RwLock<ActorRef<LlmMsg>>>,
    /// The client and the prompts in force: a restarted actor keeps them.
    client: Arc<OpenAiModel>,
    counters: Arc<Counters>,
    /// The model's per-call timeout; the handle waits a little longer before giving up.
    timeout: Duration,
    model: String,
}

impl std::fmt::Debug for LlmHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmHandle")
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl LlmHandle {
    /// The configured model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Counters of calls since start.
    pub fn stats(&self) -> LlmStats {
        self.counters.snapshot()
    }

    /// Replaces the prompt that phrases answers; later calls use it.
    pub async fn set_system_prompt(&self, prompt: String) -> Result<(), PromptError> {
        self.prompt_call(|reply| LlmMsg::SetSystemPrompt(prompt, reply))
            .await
    }

    /// Replaces the prompt that guides extraction; later calls use it.
    pub async fn set_extract_prompt(&self, prompt: String) -> Result<(), PromptError> {
        self.prompt_call(|reply| LlmMsg::SetExtractPrompt(prompt, reply))
            .await
    }

    /// The prompt that phrases answers now.
    pub async fn system_prompt(&self) -> Result<String, PromptError> {
        match self.actor().call(LlmMsg::SystemPrompt, None).await {
            Ok(CallResult::Success(prompt)) => Ok(prompt),
            _ => Err(PromptError::Stopped),
        }
    }

    /// Stops the actor; calls under way still get their answers.
    pub fn stop(&self) {
        self.actor().stop(None);
    }

    /// The running actor.
    pub fn actor(&self) -> ActorRef<LlmMsg> {
        self.actor.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Links the running actor under `supervisor`, which hears when it stops.
    pub fn supervise(&self, supervisor: ActorCell) {
        self.actor().get_cell().link(supervisor);
    }

    /// Starts a new actor under `supervisor` in place of one that stopped: the same client,
    /// prompts and counters; every handle reaches the new one.
    pub async fn restart(&self, supervisor: ActorCell) -> Result<(), StartError> {
        let args = (self.client.clone(), self.counters.clone());
        let (actor, _) = Actor::spawn_linked(None, Llm, args, supervisor)
            .await
            .map_err(|e| StartError::Spawn(e.to_string()))?;
        *self.actor.write().unwrap_or_else(|e| e.into_inner()) = actor;
        Ok(())
    }

    async fn prompt_call(
        &self,
        msg: impl FnOnce(RpcReplyPort<Result<(), PromptError>>) -> LlmMsg,
    ) -> Result<(), PromptError> {
        match self.actor().call(msg, None).await {
            Ok(CallResult::Success(result)) => result,
            _ => Err(PromptError::Stopped),
        }
    }

    async fn model_call<T: Send + 'static>(
        &self,
        msg: impl FnOnce(RpcReplyPort<Result<T, LlmError>>) -> LlmMsg,
    ) -> Result<T, LlmError> {
        match self.actor().call(msg, Some(self.timeout + RPC_GRACE)).await {
            Ok(CallResult::Success(result)) => result,
            Ok(CallResult::Timeout) => Err(LlmError::Timeout(self.timeout)),
            Ok(CallResult::SenderError) | Err(_) => {
                Err(LlmError::Api("the Llm actor has stopped".into()))
            }
        }
    }
}

#[async_trait]
impl LanguageModel for LlmHandle {
    async fn extract(&self, text: &str, today: NaiveDate) -> Result<Extraction, LlmError> {
        let text = text.to_owned();
        self.model_call(|reply| LlmMsg::Extract { text, today, reply })
            .await
    }

    async fn answer(&self, request: &AnswerRequest) -> Result<String, LlmError> {
        let request = Box::new(request.clone());
        self.model_call(|reply| LlmMsg::Answer { request, reply })
            .await
    }
}
