//! The Crm actor: the only caller of Bitrix24. It executes the durable CRM outbox.
//!
//! - **When.** It wakes on a tick (`poll_every`), when a command finishes (to start the
//!   conversation's next one), and when a retry comes due. Conversations write commands with
//!   their turns; the tick picks them up (the conversation path does not call this actor).
//! - **Order.** The store hands out only the oldest pending command of each conversation, and
//!   a conversation has at most one command in flight, so a conversation's commands run in
//!   creation order and a failing one (waiting for its retry) holds back only its own
//!   conversation's later ones. Commands of different conversations run side by side (up to
//!   `max_in_flight`), all paced by the client's leaky bucket.
//! - **Retries.** Limits (503 `QUERY_LIMIT_EXCEEDED`, 429 `OPERATION_TIME_LIMIT`), 5xx,
//!   timeouts and network failures are retried with exponential backoff, at most
//!   `max_attempts` times; then, or at once for a permanent error (auth, not found, bad
//!   request, a pipeline or stage the portal lacks), the command is `failed` with its error,
//!   listed by status and retryable (`WriteOp::CrmRequeue`). A failed command does not hold
//!   back its conversation: later commands find or create the deal themselves.
//! - **Never blocking.** Each command runs in a task of its own and reports `Finished`; the
//!   mailbox only schedules.
//!
//! Writes: the outcome of a command (and each Bitrix24 id as soon as it is known) goes through
//! the Store actor — SQLite has one writer, and `StoreHandle::write` returns once the write is
//! committed. The task awaits each write before it goes on, so a command is recorded as begun
//! before its first call to Bitrix24 and as done before its conversation's next command is
//! picked; these writes are few (a handful per command) and off the conversations' hot path.

use super::bitrix::BitrixClient;
use super::sync::{SyncSettings, Syncer};
use crate::store::{CrmOutboxRecord, WriteOp, WriteOutcome};
use crate::store_writer::StoreHandle;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use secrecy::SecretString;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// How the Crm actor reaches Bitrix24 and paces itself.
#[derive(Debug, Clone)]
pub struct CrmSettings {
    /// `https://<portal>/rest/<user>/<code>/`: the secret.
    pub webhook_url: SecretString,
    /// The portal's pipeline and stage names.
    pub sync: SyncSettings,
    /// Requests per second the leaky bucket drains (Bitrix24: 2; Enterprise: 5).
    pub rate_per_sec: f64,
    /// Requests the bucket holds (Bitrix24: 50; Enterprise: 250).
    pub burst: u32,
    /// How often to look for new commands.
    pub poll_every: Duration,
    /// The first retry's delay; doubled for each further attempt, at most 5 minutes.
    pub retry_base: Duration,
    /// Executions of one command before it is `failed`.
    pub max_attempts: i32,
    /// A call to Bitrix24 that takes longer is abandoned (and retried).
    pub request_timeout: Duration,
    /// Commands (of different conversations) in flight at once.
    pub max_in_flight: usize,
}

impl CrmSettings {
    /// The defaults for a standard plan, on this webhook.
    pub fn new(webhook_url: SecretString) -> Self {
        Self {
            webhook_url,
            sync: SyncSettings::default(),
            rate_per_sec: 2.0,
            burst: 50,
            poll_every: Duration::from_secs(1),
            retry_base: Duration::from_secs(1),
            max_attempts: 10,
            request_timeout: Duration::from_secs(60),
            max_in_flight: 8,
        }
    }

    /// Delay before attempt `attempts + 1`: `retry_base`, doubled per attempt, at most 5 min.
    fn backoff(&self, attempts: i32) -> Duration {
        let factor = 1u32 << (attempts - 1).clamp(0, 16);
        self.retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(300))
    }
}

pub enum CrmMsg {
    /// Look for due commands.
    Poll,
    /// A command's execution ended and its outcome is recorded; `retry_in` when it will be
    /// tried again.
    Finished {
        conversation: String,
        retry_in: Option<Duration>,
    },
    /// Shutting down: start nothing new, answer once nothing is in flight. Commands not begun
    /// stay pending for the next start.
    Drain(RpcReplyPort<()>),
}

pub struct Crm;

pub struct CrmArgs {
    pub settings: CrmSettings,
    pub store: StoreHandle,
}

pub struct CrmState {
    syncer: Arc<Syncer>,
    store: StoreHandle,
    settings: Arc<CrmSettings>,
    /// Conversations with a command in flight.
    in_flight: HashSet<String>,
    /// Set by `Drain`: who waits for the last command in flight.
    draining: Option<Vec<RpcReplyPort<()>>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Actor for Crm {
    type Msg = CrmMsg;
    type State = CrmState;
    type Arguments = CrmArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: CrmArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let s = args.settings;
        let client = BitrixClient::new(&s.webhook_url, s.request_timeout, s.rate_per_sec, s.burst)?;
        let syncer = Arc::new(Syncer::new(client, args.store.clone(), s.sync.clone()));
        let ticker = myself.send_interval(s.poll_every, || CrmMsg::Poll);
        myself.cast(CrmMsg::Poll)?;
        Ok(CrmState {
            syncer,
            store: args.store,
            settings: Arc::new(s),
            in_flight: HashSet::new(),
            draining: None,
            ticker: Some(ticker),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CrmMsg::Poll => {
                if state.draining.is_none() {
                    start_due(&myself, state).await;
                }
            }
            CrmMsg::Finished {
                conversation,
                retry_in,
            } => {
                state.in_flight.remove(&conversation);
                if let Some(delay) = retry_in {
                    myself.send_after(delay, || CrmMsg::Poll);
                }
                if state.draining.is_none() {
                    start_due(&myself, state).await;
                }
            }
            CrmMsg::Drain(reply) => {
                state.draining.get_or_insert_with(Vec::new).push(reply);
            }
        }
        if let Some(waiting) = &mut state.draining
            && state.in_flight.is_empty()
        {
            for reply in waiting.drain(..) {
                let _ = reply.send(());
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(ticker) = state.ticker.take() {
            ticker.abort();
        }
        Ok(())
    }
}

/// Starts the due commands of conversations with nothing in flight.
async fn start_due(myself: &ActorRef<CrmMsg>, state: &mut CrmState) {
    let free = state
        .settings
        .max_in_flight
        .saturating_sub(state.in_flight.len());
    if free == 0 {
        return;
    }
    // The heads of conversations in flight come back too (still pending): ask for enough.
    let limit = (state.in_flight.len() + free) as i64;
    let due = match state
        .store
        .store
        .due_crm_commands(crate::store::now(), limit)
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the CRM outbox; trying again at the next tick");
            return;
        }
    };
    for row in due {
        if state.in_flight.len() >= state.settings.max_in_flight {
            break;
        }
        let conversation = row
            .conversation_id
            .clone()
            .unwrap_or_else(|| row.id.clone());
        if !state.in_flight.insert(conversation.clone()) {
            continue;
        }
        let (syncer, store, settings) = (
            state.syncer.clone(),
            state.store.clone(),
            state.settings.clone(),
        );
        let myself = myself.clone();
        tokio::spawn(async move {
            let retry_in = run(&syncer, &store, &settings, row).await;
            // If the actor is gone (shutdown), the outcome is recorded all the same.
            let _ = myself.cast(CrmMsg::Finished {
                conversation,
                retry_in,
            });
        });
    }
}

/// Executes one command and records its outcome; says when it is to be tried again.
async fn run(
    syncer: &Syncer,
    store: &StoreHandle,
    settings: &CrmSettings,
    row: CrmOutboxRecord,
) -> Option<Duration> {
    let now = crate::store::now();
    match store
        .write(WriteOp::CrmStarted {
            id: row.id.clone(),
            attempts: row.attempts,
            at: now,
        })
        .await
    {
        Ok(WriteOutcome::Done) => {}
        // Done or failed in the meantime (an admin, another engine): nothing to do.
        Ok(_) => return None,
        Err(e) => {
            tracing::warn!(crm_command = %row.id, error = %e, "cannot claim a CRM command");
            return Some(settings.retry_base);
        }
    }
    let attempts = row.attempts + 1;
    let result = syncer.execute(&row).await;
    let at = crate::store::now();
    let (op, retry_in) = match result {
        Ok(result) => {
            tracing::debug!(crm_command = %row.id, command = %row.command, "CRM command done");
            (
                WriteOp::CrmDone {
                    id: row.id.clone(),
                    result,
                    at,
                },
                None,
            )
        }
        Err(e) if e.is_retryable() && attempts < settings.max_attempts => {
            let delay = e
                .retry_after()
                .unwrap_or_else(|| settings.backoff(attempts));
            tracing::warn!(crm_command = %row.id, command = %row.command, attempt = attempts,
                error = %e, ?delay, "CRM command failed; will retry");
            let next_attempt_at =
                at + chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::seconds(300));
            (
                WriteOp::CrmRetry {
                    id: row.id.clone(),
                    error: e.to_string(),
                    next_attempt_at,
                    at,
                },
                Some(delay),
            )
        }
        Err(e) => {
            tracing::error!(crm_command = %row.id, command = %row.command, attempt = attempts,
                error = %e, "CRM command failed for good; kept as failed until retried");
            (
                WriteOp::CrmFailed {
                    id: row.id.clone(),
                    error: e.to_string(),
                    at,
                },
                None,
            )
        }
    };
    if let Err(e) = store.write(op).await {
        // The row stays pending with this attempt counted: it runs again (looking first for
        // what this execution created).
        tracing::error!(crm_command = %row.id, error = %e, "cannot record a CRM command's outcome");
        return Some(settings.retry_base);
    }
    retry_in
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_five_minutes() {
        let mut s = CrmSettings::new(SecretString::from("https://p/rest/1/x/"));
        s.retry_base = Duration::from_secs(1);
        let delays: Vec<u64> = (1..=10).map(|a| s.backoff(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
    }
}
