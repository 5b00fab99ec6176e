//! One actor per channel that sends the outbox: in order within a chat, concurrently across
//! chats (up to a cap), and never giving a reply up silently: it is delivered, or the managers
//! get it.
//!
//! A send runs in its own task and reports back with `Finished`, so a slow channel API never
//! blocks this actor's mailbox, and a chat's next message waits for its previous one.
//!
//! **What each failure does** ([`channels::SendError`]):
//! - `RateLimited` (HTTP 429, Telegram's `retry_after`): the whole channel pauses as long as
//!   the service asked (a shared back-off: no other send starts meanwhile); the message goes
//!   back to the head of its chat and is sent again after the pause, which ends with a slow
//!   start (one send, then one more per success). Not an attempt.
//! - `Retryable` (5xx, timeouts, refused connections): an attempt. The message waits
//!   `retry_base × 2^(attempts-1)`, at most `retry_max` (or what the channel said), then goes
//!   again — for as long as its deadline allows, with no small attempt limit.
//! - `Unreachable` (the customer blocked the bot, not on WhatsApp) and `Rejected` (a 4xx that
//!   will never succeed): the reply is marked `failed` and escalated to the managers with its
//!   text (reason `undelivered`), the chat marked unreachable for the first.
//! - A reply still undelivered `deadline` after it was written (default 24 h) is escalated
//!   the same way instead of being tried again.
//!
//! **Circuit breaker.** `breaker_failures` retryable failures in a row open the breaker: no
//! send starts for a while (`retry_base`, doubled at each failed probe, at most `retry_max` and
//! at most [`MAX_PROBE_INTERVAL`]); then one message goes as a probe. When it gets through, the breaker closes, every waiting
//! chat is due at once, and the number of sends in flight grows by one per success up to
//! `max_in_flight` (a slow start, so a recovering API is not met by the whole backlog at once;
//! the channel's own rate limiter paces on top).
//!
//! **Operators.** A reply an admin retried comes back as a new `Send` (the store counts its
//! deadline from the retry); [`OutboundMsg::Wake`] makes every waiting chat due now and probes
//! an open breaker at once. The state of each channel's breaker and queue is published on the
//! [`OutboxBoard`] (admin status, metrics).

use crate::meters;
use crate::status::Integrations;
use crate::store::{OutboxMessage, WriteOp};
use crate::store_writer::StoreHandle;
use channels::{OutgoingMessage, SendError, SendReceipt, Sender};
use chrono::{DateTime, Utc};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The longest an open breaker waits before its next probe: a channel that is back is noticed
/// within this, however long it was down (one request per 30 s does not hammer anyone).
pub const MAX_PROBE_INTERVAL: Duration = Duration::from_secs(30);

/// How the outbox retries, paces and gives up (the same for every channel).
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// A reply not delivered this long after it was written is escalated instead of being
    /// tried again (default 24 h).
    pub deadline: Duration,
    /// First delay after a retryable failure, doubled per attempt (default 1 s); also the
    /// breaker's first open period.
    pub retry_base: Duration,
    /// The longest delay between attempts, and the longest open period (default 5 min).
    pub retry_max: Duration,
    /// Retryable failures in a row that open the breaker (default 5).
    pub breaker_failures: u32,
    /// Sends in flight at once, across chats (default 64).
    pub max_in_flight: usize,
    /// How often waiting chats, the breaker and deadlines are looked at (default 250 ms).
    pub tick: Duration,
    /// Where each channel's state is published.
    pub board: OutboxBoard,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(24 * 3600),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            breaker_failures: 5,
            max_in_flight: 64,
            tick: Duration::from_millis(250),
            board: OutboxBoard::default(),
        }
    }
}

/// What one channel's outbox looks like now (admin status, metrics).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChannelOutbox {
    /// `closed` (sending), `open` (failing: waiting before a probe), `probing` (one send out
    /// to see whether the channel is back).
    pub breaker: &'static str,
    /// Retryable failures in a row.
    pub consecutive_failures: u32,
    /// Seconds left of a rate-limit pause the channel asked for (0: none).
    pub paused_secs: f64,
    /// Replies queued or in flight.
    pub waiting: usize,
    /// Seconds since the oldest of them was written (0 when none waits).
    pub oldest_waiting_secs: f64,
    pub in_flight: usize,
}

/// Every channel's [`ChannelOutbox`], by channel name: cheap to clone, shared.
#[derive(Debug, Clone, Default)]
pub struct OutboxBoard(Arc<RwLock<BTreeMap<String, ChannelOutbox>>>);

impl OutboxBoard {
    pub fn snapshot(&self) -> BTreeMap<String, ChannelOutbox> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn publish(&self, channel: &str, state: ChannelOutbox) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(channel.to_owned(), state);
    }
}

pub enum OutboundMsg {
    /// Send a committed outbox row.
    Send(OutboxMessage),
    /// A send task finished.
    Finished {
        message: OutboxMessage,
        result: Result<SendReceipt, SendError>,
    },
    /// An admin asked to try now: every waiting chat is due, an open breaker probes at once.
    Wake,
    /// Look at waiting chats, the breaker and deadlines.
    Tick,
    /// Shutting down: start nothing new, answer once no send is in flight. What is still
    /// queued stays pending in the outbox and is sent at the next start.
    Drain(RpcReplyPort<()>),
}

pub struct Outbound;

pub struct OutboundArgs {
    pub sender: Arc<dyn Sender>,
    pub store: StoreHandle,
    /// Where each send's outcome is recorded for the admin status.
    pub integrations: Integrations,
    pub settings: OutboxSettings,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Breaker {
    /// Sending; this many retryable failures in a row so far.
    Closed { failures: u32 },
    /// Failing: nothing starts before `until`; it has opened `opened` times in a row.
    Open { until: Instant, opened: u32 },
    /// One send (the probe) may go; `out` while it is in flight.
    Probing { opened: u32, out: bool },
}

pub struct OutboundState {
    sender: Arc<dyn Sender>,
    store: StoreHandle,
    integrations: Integrations,
    settings: OutboxSettings,
    channel: &'static str,
    /// Messages waiting, per chat, in order.
    queues: HashMap<String, VecDeque<OutboxMessage>>,
    /// Chats with a message in flight.
    busy: HashSet<String>,
    /// When each reply in flight was written, by id (the oldest waiting reply's age).
    flying: HashMap<String, DateTime<Utc>>,
    /// Chats whose head message may go now, waiting for a free slot.
    ready: VecDeque<String>,
    /// Chats whose head message waits for a retry until the given time.
    delayed: Vec<(Instant, String)>,
    /// Ids queued or in flight (a reply handed over twice is sent once).
    known: HashSet<String>,
    /// The last retryable error of each reply that had one (said when it is given up).
    last_error: HashMap<String, String>,
    in_flight: usize,
    /// Sends allowed in flight now (slow start after an outage).
    window: usize,
    /// A rate limit the channel asked for: nothing starts before.
    paused_until: Option<Instant>,
    breaker: Breaker,
    /// Set by `Drain`: who waits for the last send in flight to finish.
    draining: Option<Vec<RpcReplyPort<()>>>,
}

impl Actor for Outbound {
    type Msg = OutboundMsg;
    type State = OutboundState;
    type Arguments = OutboundArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: OutboundArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        myself.send_interval(args.settings.tick, || OutboundMsg::Tick);
        let window = args.settings.max_in_flight.max(1);
        Ok(OutboundState {
            channel: args.sender.channel().as_str(),
            sender: args.sender,
            store: args.store,
            integrations: args.integrations,
            settings: args.settings,
            queues: HashMap::new(),
            busy: HashSet::new(),
            flying: HashMap::new(),
            ready: VecDeque::new(),
            delayed: Vec::new(),
            known: HashSet::new(),
            last_error: HashMap::new(),
            in_flight: 0,
            window,
            paused_until: None,
            breaker: Breaker::Closed { failures: 0 },
            draining: None,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            OutboundMsg::Send(message) => enqueue(state, message),
            OutboundMsg::Wake => {
                wake_all(state);
                if let Breaker::Open { opened, .. } = state.breaker {
                    state.breaker = Breaker::Probing { opened, out: false };
                }
            }
            OutboundMsg::Tick => tick(state),
            OutboundMsg::Drain(reply) => {
                state.draining.get_or_insert_with(Vec::new).push(reply);
            }
            OutboundMsg::Finished { message, result } => finished(state, message, result),
        }
        match &mut state.draining {
            None => start_ready(&myself, state),
            Some(waiting) if state.in_flight == 0 => {
                for reply in waiting.drain(..) {
                    let _ = reply.send(());
                }
            }
            Some(_) => {}
        }
        Ok(())
    }
}

fn enqueue(state: &mut OutboundState, message: OutboxMessage) {
    if !state.known.insert(message.id.clone()) {
        return;
    }
    let chat = message.key.chat_id.clone();
    let queue = state.queues.entry(chat.clone()).or_default();
    queue.push_back(message);
    // A chat already busy, waiting or ready goes on when its turn comes.
    if queue.len() == 1 && !state.busy.contains(&chat) && !is_delayed(state, &chat) {
        state.ready.push_back(chat);
    }
}

fn is_delayed(state: &OutboundState, chat: &str) -> bool {
    state.delayed.iter().any(|(_, c)| c == chat)
}

/// Every waiting chat is due now.
fn wake_all(state: &mut OutboundState) {
    for (_, chat) in state.delayed.drain(..) {
        state.ready.push_back(chat);
    }
}

fn tick(state: &mut OutboundState) {
    let now = Instant::now();
    if state.paused_until.is_some_and(|until| until <= now) {
        tracing::info!(
            channel = state.channel,
            "rate-limit pause over; sending again"
        );
        state.paused_until = None;
    }
    if let Breaker::Open { until, opened } = state.breaker
        && until <= now
    {
        state.breaker = Breaker::Probing { opened, out: false };
    }
    let (due, later): (Vec<_>, Vec<_>) = state.delayed.drain(..).partition(|(at, _)| *at <= now);
    state.delayed = later;
    state.ready.extend(due.into_iter().map(|(_, chat)| chat));
    expire(state);
    publish(state);
}

/// Replies past their deadline that are not in flight: escalated, not sent.
fn expire(state: &mut OutboundState) {
    let now = crate::store::now();
    let mut expired = Vec::new();
    for (chat, queue) in &mut state.queues {
        if state.busy.contains(chat) {
            continue;
        }
        while queue
            .front()
            .is_some_and(|m| past_deadline(&state.settings, m, now))
        {
            expired.extend(queue.pop_front());
        }
    }
    state.queues.retain(|_, q| !q.is_empty());
    for message in expired {
        let reason = expiry_reason(state, &message.id);
        give_up(state, message, reason, false);
    }
}

/// Written longer than the deadline ago (an admin's retry writes it anew).
fn past_deadline(settings: &OutboxSettings, message: &OutboxMessage, now: DateTime<Utc>) -> bool {
    let deadline = chrono::Duration::from_std(settings.deadline).unwrap_or(chrono::Duration::MAX);
    now - message.created_at > deadline
}

/// Why a reply past its deadline is given up: the deadline, and the last error seen.
fn expiry_reason(state: &OutboundState, id: &str) -> String {
    let within = humanize(state.settings.deadline);
    match state.last_error.get(id) {
        Some(error) => format!("not delivered within {within}; last error: {error}"),
        None => format!("not delivered within {within}"),
    }
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn finished(
    state: &mut OutboundState,
    message: OutboxMessage,
    result: Result<SendReceipt, SendError>,
) {
    state.in_flight -= 1;
    state.flying.remove(&message.id);
    let chat = message.key.chat_id.clone();
    state.busy.remove(&chat);
    record(&state.integrations, &message, &result);
    match result {
        Ok(receipt) => {
            channel_answered(state);
            state.window = (state.window + 1).min(state.settings.max_in_flight.max(1));
            state.store.write_in_background(WriteOp::OutboxSent {
                id: message.id.clone(),
                external_id: receipt.external_id,
                at: crate::store::now(),
            });
            forget(state, &message.id);
            next_of(state, chat);
        }
        Err(SendError::RateLimited {
            reason,
            retry_after,
        }) => {
            let until = Instant::now() + retry_after;
            if state.paused_until.is_none_or(|p| p < until) {
                if state.paused_until.is_none() {
                    tracing::warn!(channel = state.channel, error = %reason, ?retry_after,
                        "channel rate-limited; pausing every send on it");
                }
                state.paused_until = Some(until);
            }
            if let Breaker::Probing { opened, .. } = state.breaker {
                state.breaker = Breaker::Probing { opened, out: false };
            }
            // After the pause, one send first: the backlog does not all meet the limit again.
            state.window = 1;
            // Back to the head of its chat: not an attempt, sent again after the pause.
            put_back(state, message);
            state.ready.push_front(chat);
        }
        Err(SendError::Retryable {
            reason,
            retry_after,
        }) => {
            let mut message = message;
            message.attempts += 1;
            state.store.write_in_background(WriteOp::OutboxFailed {
                id: message.id.clone(),
                error: reason.clone(),
                permanent: false,
                at: crate::store::now(),
            });
            channel_failed(state);
            state.last_error.insert(message.id.clone(), reason.clone());
            if past_deadline(&state.settings, &message, crate::store::now()) {
                let reason = expiry_reason(state, &message.id);
                give_up(state, message, reason, false);
                next_of(state, chat);
                return;
            }
            let delay = retry_after.unwrap_or_else(|| backoff(&state.settings, message.attempts));
            tracing::warn!(channel = state.channel, outbox_id = %message.id,
                attempt = message.attempts, error = %reason, ?delay, "send failed; will retry");
            // The chat waits: its later messages must not overtake this one.
            put_back(state, message);
            state.delayed.push((Instant::now() + delay, chat));
        }
        Err(error) => {
            // The channel answered (it is up); this reply will never go through.
            channel_answered(state);
            let unreachable = matches!(error, SendError::Unreachable { .. });
            give_up(state, message, error.to_string(), unreachable);
            next_of(state, chat);
        }
    }
}

/// The message goes back to the head of its chat's queue.
fn put_back(state: &mut OutboundState, message: OutboxMessage) {
    let chat = message.key.chat_id.clone();
    state.queues.entry(chat).or_default().push_front(message);
}

fn forget(state: &mut OutboundState, id: &str) {
    state.known.remove(id);
    state.last_error.remove(id);
}

/// The chat's head message is done: let its next one go.
fn next_of(state: &mut OutboundState, chat: String) {
    if state.queues.get(&chat).is_some_and(|q| !q.is_empty()) {
        state.ready.push_back(chat);
    } else {
        state.queues.remove(&chat);
    }
}

/// The channel answered a send (accepted or refused it for good): the breaker closes.
fn channel_answered(state: &mut OutboundState) {
    match state.breaker {
        Breaker::Closed { .. } => state.breaker = Breaker::Closed { failures: 0 },
        Breaker::Probing { .. } | Breaker::Open { .. } => {
            tracing::info!(
                channel = state.channel,
                "channel answers again; sending what waited"
            );
            state.breaker = Breaker::Closed { failures: 0 };
            state.window = 1;
            wake_all(state);
        }
    }
}

/// A retryable failure: counts towards opening the breaker, or reopens it after a probe.
fn channel_failed(state: &mut OutboundState) {
    let settings = &state.settings;
    let open = |opened: u32| Breaker::Open {
        until: Instant::now() + backoff(settings, opened as i32).min(MAX_PROBE_INTERVAL),
        opened,
    };
    state.breaker = match state.breaker {
        Breaker::Closed { failures } if failures + 1 >= settings.breaker_failures.max(1) => {
            tracing::warn!(
                channel = state.channel,
                failures = failures + 1,
                "channel failing; breaker open: probing before sending more"
            );
            open(1)
        }
        Breaker::Closed { failures } => Breaker::Closed {
            failures: failures + 1,
        },
        Breaker::Probing { opened, .. } => open(opened + 1),
        open @ Breaker::Open { .. } => open,
    };
}

/// Marks the reply `failed` and escalates its conversation to the managers with the text.
fn give_up(state: &mut OutboundState, message: OutboxMessage, reason: String, unreachable: bool) {
    tracing::error!(channel = state.channel, outbox_id = %message.id, error = %reason,
        "reply not delivered; escalating to the managers");
    metrics::counter!(meters::UNDELIVERED_REPLIES, "channel" => state.channel).increment(1);
    if unreachable {
        state.store.write_in_background(WriteOp::MarkUnreachable {
            conversation_id: message.conversation_id.clone(),
            at: crate::store::now(),
        });
    }
    state.store.write_in_background(WriteOp::OutboxUndelivered {
        id: message.id.clone(),
        conversation_id: message.conversation_id.clone(),
        text: message.text.clone(),
        error: reason,
        escalation_id: crate::store::new_id(),
        at: crate::store::now(),
    });
    forget(state, &message.id);
}

/// Metrics and the channel's status for one finished send.
fn record(
    integrations: &Integrations,
    message: &OutboxMessage,
    result: &Result<SendReceipt, SendError>,
) {
    let channel = message.key.channel.as_str();
    match result {
        Ok(_) => {
            metrics::counter!(meters::OUTBOUND_MESSAGES, "channel" => channel).increment(1);
            let waited = (chrono::Utc::now() - message.created_at)
                .to_std()
                .unwrap_or_default();
            metrics::histogram!(meters::REPLY_SEND_SECONDS, "channel" => channel)
                .record(waited.as_secs_f64());
            integrations.success(channel);
        }
        Err(error) => {
            let kind = match error {
                SendError::RateLimited { .. } => "rate_limited",
                SendError::Retryable { .. } => "retryable",
                _ => "permanent",
            };
            metrics::counter!(meters::SEND_FAILURES, "channel" => channel, "kind" => kind)
                .increment(1);
            integrations.failure(channel, &format!("send: {error}"));
        }
    }
}

/// How many sends may be in flight now.
fn capacity(state: &OutboundState) -> usize {
    if state.paused_until.is_some() {
        return 0;
    }
    match state.breaker {
        Breaker::Closed { .. } => state.window.min(state.settings.max_in_flight.max(1)),
        Breaker::Open { .. } => 0,
        Breaker::Probing { out: false, .. } if state.in_flight == 0 => 1,
        Breaker::Probing { .. } => 0,
    }
}

fn start_ready(myself: &ActorRef<OutboundMsg>, state: &mut OutboundState) {
    let now = crate::store::now();
    while state.in_flight < capacity(state) {
        let Some(chat) = state.ready.pop_front() else {
            return;
        };
        if state.busy.contains(&chat) || is_delayed(state, &chat) {
            continue;
        }
        let Some(queue) = state.queues.get_mut(&chat) else {
            continue;
        };
        let Some(message) = queue.pop_front() else {
            state.queues.remove(&chat);
            continue;
        };
        if past_deadline(&state.settings, &message, now) {
            let reason = expiry_reason(state, &message.id);
            give_up(state, message, reason, false);
            next_of(state, chat);
            continue;
        }
        if let Breaker::Probing { opened, .. } = state.breaker {
            tracing::info!(channel = state.channel, outbox_id = %message.id, "probing the channel");
            state.breaker = Breaker::Probing { opened, out: true };
        }
        state.busy.insert(chat);
        state.flying.insert(message.id.clone(), message.created_at);
        state.in_flight += 1;
        spawn_send(myself, state.sender.clone(), message);
    }
}

/// Publishes the channel's state on the board.
fn publish(state: &OutboundState) {
    let now = crate::store::now();
    let oldest = state
        .queues
        .values()
        .filter_map(|q| q.front().map(|m| m.created_at))
        .chain(state.flying.values().copied())
        .min();
    let (breaker, failures) = match state.breaker {
        Breaker::Closed { failures } => ("closed", failures),
        Breaker::Open { .. } => ("open", state.settings.breaker_failures),
        Breaker::Probing { .. } => ("probing", state.settings.breaker_failures),
    };
    let paused = state
        .paused_until
        .map(|u| u.saturating_duration_since(Instant::now()).as_secs_f64())
        .unwrap_or(0.0);
    let snapshot = ChannelOutbox {
        breaker,
        consecutive_failures: failures,
        paused_secs: paused,
        waiting: state.known.len(),
        oldest_waiting_secs: oldest
            .map(|o| (now - o).to_std().unwrap_or_default().as_secs_f64())
            .unwrap_or(0.0),
        in_flight: state.in_flight,
    };
    state.settings.board.publish(state.channel, snapshot);
}

fn spawn_send(myself: &ActorRef<OutboundMsg>, sender: Arc<dyn Sender>, message: OutboxMessage) {
    let myself = myself.clone();
    tokio::spawn(async move {
        let outgoing = OutgoingMessage {
            id: message.id.clone(),
            chat_id: message.key.chat_id.clone(),
            route: message.route.clone(),
            text: message.text.clone(),
            buttons: message.buttons.clone(),
        };
        let result = sender.send(&outgoing).await;
        // If the actor is gone (shutdown), the row stays pending and is sent at next start.
        let _ = myself.cast(OutboundMsg::Finished { message, result });
    });
}

/// `retry_base`, doubled per attempt, at most `retry_max`.
fn backoff(settings: &OutboxSettings, attempt: i32) -> Duration {
    let doublings = attempt.saturating_sub(1).clamp(0, 20) as u32;
    settings
        .retry_base
        .saturating_mul(1u32 << doublings)
        .min(settings.retry_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = OutboxSettings::default();
        let secs: Vec<u64> = (1..=12).map(|a| backoff(&settings, a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(backoff(&settings, 10_000), Duration::from_secs(300));
    }

    #[test]
    fn a_reply_is_past_its_deadline_once_it_has_waited_longer() {
        let settings = OutboxSettings {
            deadline: Duration::from_secs(60),
            ..OutboxSettings::default()
        };
        let now = crate::store::now();
        let written = |secs_ago: i64| OutboxMessage {
            id: "o1".into(),
            conversation_id: "c1".into(),
            key: dialogs::ChatKey::new(dialogs::Channel::Wazzup, "whatsapp:7"),
            route: serde_json::json!({}),
            text: "hi".into(),
            buttons: Vec::new(),
            attempts: 3,
            created_at: now - chrono::Duration::seconds(secs_ago),
        };
        assert!(past_deadline(&settings, &written(120), now));
        assert!(!past_deadline(&settings, &written(5), now));
    }
}
