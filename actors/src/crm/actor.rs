//! The Crm actor: the only caller of Bitrix24. It executes the durable CRM outbox.
//!
//! - **When.** It wakes on a tick (`poll_every`), when a command finishes (to start the
//!   conversation's next one), and when a retry comes due. Conversations write commands with
//!   their turns; the tick picks them up (the conversation path does not call this actor).
//!   At start it first checks the portal ([`super::check`](fn@super::check::check)): commands start once that is done.
//! - **Order.** The store hands out only the oldest pending command of each conversation, and
//!   a conversation has at most one command in flight, so a conversation's commands run in
//!   creation order and a failing one (waiting for its retry) holds back only its own
//!   conversation's later ones. Commands of different conversations run side by side (up to
//!   `max_in_flight`), all paced by the client's leaky bucket.
//! - **Pace by cause.** Limit answers (503 `QUERY_LIMIT_EXCEEDED`, 429 `OPERATION_TIME_LIMIT`)
//!   are waited out inside the client (about a second each) and never count as attempts.
//!   Outages (5xx, timeouts, refused connections) back off exponentially from `retry_base`, at
//!   most `max_attempts` times; then, or at once for an answer that will never succeed (one
//!   method refused, invalid fields, not found), the command is `failed` with its error, listed
//!   by status and retryable (`WriteOp::CrmRequeue`). A failed command does not hold back its
//!   conversation: later commands find or create the deal themselves.
//! - **Set-up problems** (a pipeline or stage the portal lacks, a refused webhook): the
//!   command is *held* (pending, not due; what did not depend on the problem, the contact, is
//!   done). The problem shows in the admin status and `doctor`, is logged once and announced
//!   once to the managers (and again when fixed). While it lasts the portal is re-read every
//!   `setup_recheck`, at once on [`CrmHandle::recheck`] (SIGHUP, the admin API) and at each
//!   start; when it is right, every held command is released and runs. Nobody retries rows.
//! - **Never blocking.** Each command runs in a task of its own and reports `Finished`; the
//!   mailbox only schedules.
//!
//! Writes: the outcome of a command (and each Bitrix24 id as soon as it is known) goes through
//! the Store actor — SQLite has one writer, and `StoreHandle::write` returns once the write is
//! committed. The task awaits each write before it goes on, so a command is recorded as begun
//! before its first call to Bitrix24 and as done before its conversation's next command is
//! picked; these writes are few (a handful per command) and off the conversations' hot path.

use super::bitrix::BitrixClient;
use super::check::BitrixCheck;
use super::health::{CrmHandle, ProblemChange};
use super::pipeline::{SetupProblem, SyncSettings};
use super::sync::{SyncError, Syncer};
use crate::escalations::ManagerNotifier;
use crate::status::Integrations;
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
    /// The portal's pipeline and stage names, or leads mode.
    pub sync: SyncSettings,
    /// Requests per second the leaky bucket drains (Bitrix24: 2; Enterprise: 5).
    pub rate_per_sec: f64,
    /// Requests the bucket holds (Bitrix24: 50; Enterprise: 250).
    pub burst: u32,
    /// How often to look for new commands.
    pub poll_every: Duration,
    /// The first retry's delay after an outage; doubled for each further attempt, at most 5
    /// minutes.
    pub retry_base: Duration,
    /// Executions of one command that met an outage before it is `failed`.
    pub max_attempts: i32,
    /// A call to Bitrix24 that takes longer is abandoned (and retried).
    pub request_timeout: Duration,
    /// Commands (of different conversations) in flight at once.
    pub max_in_flight: usize,
    /// While a set-up problem holds commands, the portal is re-read this often.
    pub setup_recheck: Duration,
    /// Shared with the admin status and whoever asks for a re-read (SIGHUP, the admin API).
    pub handle: CrmHandle,
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
            setup_recheck: Duration::from_secs(300),
            handle: CrmHandle::new(),
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
    /// tried again; `problem` when it was held for a set-up problem; `started` when it began.
    Finished {
        conversation: String,
        retry_in: Option<Duration>,
        problem: Option<SetupProblem>,
        started: chrono::DateTime<chrono::Utc>,
    },
    /// Read the portal again now (a timer, SIGHUP, the admin API, the start).
    Recheck,
    /// The portal was read.
    Checked(Box<BitrixCheck>),
    /// Shutting down: start nothing new, answer once nothing is in flight. Commands not begun
    /// stay pending for the next start.
    Drain(RpcReplyPort<()>),
}

pub struct Crm;

pub struct CrmArgs {
    pub settings: CrmSettings,
    pub store: StoreHandle,
    /// Where each Bitrix24 call is recorded for the admin status.
    pub integrations: Integrations,
    /// Who hears about set-up problems (the managers' notifiers; may be none).
    pub notifiers: Vec<Arc<dyn ManagerNotifier>>,
}

pub struct CrmState {
    syncer: Arc<Syncer>,
    store: StoreHandle,
    settings: Arc<CrmSettings>,
    notifiers: Arc<Vec<Arc<dyn ManagerNotifier>>>,
    /// Conversations with a command in flight.
    in_flight: HashSet<String>,
    /// Set by `Drain`: who waits for the last command in flight.
    draining: Option<Vec<RpcReplyPort<()>>>,
    /// The first check of the portal is done: commands may start.
    ready: bool,
    /// A check of the portal is under way.
    checking: bool,
    /// The next re-read of the portal, while one is planned.
    recheck_timer: Option<tokio::task::JoinHandle<()>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    /// Turns [`CrmHandle::recheck`] into `Recheck` messages.
    listener: Option<tokio::task::JoinHandle<()>>,
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
        let client = BitrixClient::new(&s.webhook_url, s.request_timeout, s.rate_per_sec, s.burst)?
            .observed(s.handle.stats(), args.integrations);
        let syncer = Arc::new(Syncer::new(client, args.store.clone(), s.sync.clone()));
        let ticker = myself.send_interval(s.poll_every, || CrmMsg::Poll);
        let listener = {
            let (handle, myself) = (s.handle.clone(), myself.clone());
            tokio::spawn(async move {
                loop {
                    handle.recheck_asked().await;
                    if myself.cast(CrmMsg::Recheck).is_err() {
                        return;
                    }
                }
            })
        };
        myself.cast(CrmMsg::Recheck)?;
        Ok(CrmState {
            syncer,
            store: args.store,
            settings: Arc::new(s),
            notifiers: Arc::new(args.notifiers),
            in_flight: HashSet::new(),
            draining: None,
            ready: false,
            checking: false,
            recheck_timer: None,
            ticker: Some(ticker),
            listener: Some(listener),
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
                if state.draining.is_none() && state.ready {
                    start_due(&myself, state).await;
                }
            }
            CrmMsg::Finished {
                conversation,
                retry_in,
                problem,
                started,
            } => {
                state.in_flight.remove(&conversation);
                if let Some(delay) = retry_in {
                    myself.send_after(delay, || CrmMsg::Poll);
                }
                if let Some(problem) = problem {
                    let health = state.settings.handle.health();
                    let fixed_after_start = health.problem.is_none()
                        && health
                            .check
                            .as_ref()
                            .is_some_and(|c| c.ok() && c.at > started);
                    if fixed_after_start {
                        // Held for a problem a re-read found fixed while it ran (after the
                        // release): released on its own.
                        release_held(state).await;
                    } else {
                        problem_seen(state, Some(problem));
                        plan_recheck(&myself, state);
                    }
                }
                if state.draining.is_none() {
                    start_due(&myself, state).await;
                }
            }
            CrmMsg::Recheck => {
                if !state.checking && state.draining.is_none() {
                    state.checking = true;
                    let (syncer, myself) = (state.syncer.clone(), myself.clone());
                    tokio::spawn(async move {
                        let check = syncer.refresh().await;
                        let _ = myself.cast(CrmMsg::Checked(Box::new(check)));
                    });
                }
            }
            CrmMsg::Checked(check) => {
                state.checking = false;
                state.ready = true;
                checked(&myself, state, *check).await;
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
        for task in [
            state.ticker.take(),
            state.listener.take(),
            state.recheck_timer.take(),
        ]
        .into_iter()
        .flatten()
        {
            task.abort();
        }
        Ok(())
    }
}

/// What a check of the portal found: shown in the status; a problem noted (logged and
/// announced when new); when the set-up is right, every held command released.
async fn checked(myself: &ActorRef<CrmMsg>, state: &mut CrmState, check: BitrixCheck) {
    let handle = &state.settings.handle;
    handle.set_check(check.clone());
    if let Some(problem) = &check.problem {
        problem_seen(state, Some(problem.clone()));
        plan_recheck(myself, state);
        return;
    }
    if !check.ok() {
        // An outage, not a set-up problem: commands meet it themselves and back off. Held
        // commands (if any) wait for the next re-read.
        let error = check
            .error
            .clone()
            .or_else(|| check.webhook.clone().err())
            .unwrap_or_default();
        tracing::warn!(%error, "could not read the Bitrix24 portal's set-up");
        if handle.health().problem.is_some() {
            plan_recheck(myself, state);
        }
        return;
    }
    let Some(released) = release_held(state).await else {
        plan_recheck(myself, state);
        return;
    };
    if let Some(timer) = state.recheck_timer.take() {
        timer.abort();
    }
    if let ProblemChange::Resolved(old) = handle.set_problem(None) {
        tracing::info!(was = %old, released, "Bitrix24 set-up problem fixed");
        announce(
            state,
            format!(
                "✅ Битрикс24: настройка исправлена. Отложенные заявки отправлены в CRM ({released})."
            ),
        );
    }
}

/// Makes every held command due again; `None` when the store could not.
async fn release_held(state: &CrmState) -> Option<u64> {
    match state
        .store
        .write(WriteOp::CrmRelease {
            at: crate::store::now(),
        })
        .await
    {
        Ok(outcome) => {
            let released = match outcome {
                WriteOutcome::Released(n) => n,
                _ => 0,
            };
            if released > 0 {
                tracing::info!(
                    released,
                    "Bitrix24 set-up is right: held CRM commands released"
                );
            }
            Some(released)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot release the held CRM commands; trying again later");
            None
        }
    }
}

/// A set-up problem seen (by a command or a check): recorded for the status; when it is new,
/// logged once and announced to the managers.
fn problem_seen(state: &CrmState, problem: Option<SetupProblem>) {
    if let ProblemChange::New(problem) = state.settings.handle.set_problem(problem) {
        tracing::error!(problem = %problem,
            "Bitrix24 set-up problem: CRM commands that depend on it are held until it is fixed");
        announce(
            state,
            format!(
                "⚠️ Битрикс24: {}\nКонтакты сохраняются, сделки ждут и уйдут в CRM сами, как только это будет исправлено.",
                problem.for_managers()
            ),
        );
    }
}

/// Re-reads the portal after `setup_recheck`, unless a re-read is already planned.
fn plan_recheck(myself: &ActorRef<CrmMsg>, state: &mut CrmState) {
    if state
        .recheck_timer
        .as_ref()
        .is_some_and(|t| !t.is_finished())
    {
        return;
    }
    let myself = myself.clone();
    let after = state.settings.setup_recheck;
    state.recheck_timer = Some(tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let _ = myself.cast(CrmMsg::Recheck);
    }));
}

/// Tells every managers' notifier, in the background (a slow chat never holds the actor).
fn announce(state: &CrmState, text: String) {
    let notifiers = state.notifiers.clone();
    if notifiers.is_empty() {
        return;
    }
    tokio::spawn(async move {
        for notifier in notifiers.iter() {
            for attempt in 1..=3u32 {
                match notifier.alert(&text).await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!(notifier = notifier.name(), attempt, error = %e,
                            "cannot tell the managers about Bitrix24");
                        tokio::time::sleep(Duration::from_secs(5 * u64::from(attempt))).await;
                    }
                }
            }
        }
    });
}

/// Starts the due commands of conversations with nothing in flight.
async fn start_due(myself: &ActorRef<CrmMsg>, state: &mut CrmState) {
    if !state.ready {
        return;
    }
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
            let started = chrono::Utc::now();
            let (retry_in, problem) = run(&syncer, &store, &settings, row).await;
            // If the actor is gone (shutdown), the outcome is recorded all the same.
            let _ = myself.cast(CrmMsg::Finished {
                conversation,
                retry_in,
                problem,
                started,
            });
        });
    }
}

/// Executes one command and records its outcome; says when it is to be tried again, and the
/// set-up problem it was held for.
async fn run(
    syncer: &Syncer,
    store: &StoreHandle,
    settings: &CrmSettings,
    row: CrmOutboxRecord,
) -> (Option<Duration>, Option<SetupProblem>) {
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
        Ok(_) => return (None, None),
        Err(e) => {
            tracing::warn!(crm_command = %row.id, error = %e, "cannot claim a CRM command");
            return (Some(settings.retry_base), None);
        }
    }
    let attempts = row.attempts + 1;
    let result = syncer.execute(&row).await;
    let at = crate::store::now();
    let retry = |error: String, delay: Duration| WriteOp::CrmRetry {
        id: row.id.clone(),
        error,
        next_attempt_at: at
            + chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::seconds(300)),
        at,
    };
    let (op, retry_in, problem) = match result {
        Ok(result) => {
            tracing::debug!(crm_command = %row.id, command = %row.command, "CRM command done");
            (
                WriteOp::CrmDone {
                    id: row.id.clone(),
                    result,
                    at,
                },
                None,
                None,
            )
        }
        Err(SyncError::Setup(problem)) => {
            // Logged once per problem by the actor, not per command.
            tracing::debug!(crm_command = %row.id, command = %row.command, %problem,
                "CRM command held for a Bitrix24 set-up problem");
            (
                WriteOp::CrmHold {
                    id: row.id.clone(),
                    error: SyncError::Setup(problem.clone()).to_string(),
                    at,
                },
                None,
                Some(problem),
            )
        }
        // Still limited after the client's own waits: again soon, whatever the attempts.
        Err(SyncError::Bitrix(e)) if e.is_limit() => {
            let delay = super::pace::limit_wait(e.retry_after(), super::pace::jitter());
            tracing::info!(crm_command = %row.id, error = %e, ?delay,
                "Bitrix24 still at its limit; the command waits for the bucket");
            (retry(e.to_string(), delay), Some(delay), None)
        }
        Err(e) if e.is_retryable() && attempts < settings.max_attempts => {
            let delay = e
                .retry_after()
                .unwrap_or_else(|| settings.backoff(attempts));
            tracing::warn!(crm_command = %row.id, command = %row.command, attempt = attempts,
                error = %e, ?delay, "CRM command failed; will retry");
            (retry(e.to_string(), delay), Some(delay), None)
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
                None,
            )
        }
    };
    if let Err(e) = store.write(op).await {
        // The row stays pending with this attempt counted: it runs again (looking first for
        // what this execution created).
        tracing::error!(crm_command = %row.id, error = %e, "cannot record a CRM command's outcome");
        return (Some(settings.retry_base), problem);
    }
    (retry_in, problem)
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
