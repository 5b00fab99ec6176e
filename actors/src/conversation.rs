//! The Conversation actor: one per chat, the only place that chat's messages are handled.
//! Its behaviour (ordering, restart, passivation, the message in flight) is written down in
//! `conversation.md` beside this file.

use crate::clock::Clock;
use crate::context::{ChannelActors, Lifecycle, Waiting};
use crate::crm::NewCrmCommand;
use crate::messages::{ConversationError, ManageError, RouterMsg, masked};
pub use crate::messages::{ConversationMsg, Manager, ManagerAction};
use crate::store::{
    ConversationRecord, EscalationKind, HandledMessage, InboxMessage, NewEscalation, NewFollowUp,
    OutboxMessage, OwnershipChange, TurnCommit, WriteOp, WriteOutcome, new_id,
};
use crate::store_writer::StoreHandle;
use crate::turns::TurnHandler;
use channels::InboundKind;
use dialogs::handover::{self, Desk, Event, Handover, ManagerMove};
use dialogs::turn::EscalationDetails;
use dialogs::{Channel, ChatKey, DialogEvent, Owner};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// At most this many messages are answered together, however fast they come.
const MAX_BURST: usize = 10;

/// However long a burst goes on, it is answered at most this many windows after its first line.
const BURST_CAP_WINDOWS: u32 = 4;

/// The burst being held: a sliding window. Each line extends it by the burst window, up to
/// [`BURST_CAP_WINDOWS`] windows after the first line.
#[derive(Debug, Default)]
struct Burst {
    /// When the first line held arrived (`None`: nothing held).
    first: Option<Instant>,
    /// The generation of the newest timer: an older one that fires finds the window extended.
    generation: u64,
}

impl Burst {
    /// A line joins the burst at `now`: the generation of the timer to set and how long it
    /// waits.
    fn extend(&mut self, now: Instant, window: Duration) -> (u64, Duration) {
        let first = *self.first.get_or_insert(now);
        self.generation += 1;
        let deadline = (now + window).min(first + window * BURST_CAP_WINDOWS);
        (self.generation, deadline.saturating_duration_since(now))
    }

    /// Whether a timer of `generation` is the newest one.
    fn is_due(&self, generation: u64) -> bool {
        self.first.is_some() && generation == self.generation
    }

    /// The burst was answered.
    fn clear(&mut self) {
        self.first = None;
    }
}

pub struct Conversation;

/// What every conversation takes; the router holds one and hands it to each it spawns.
pub struct ConversationDeps {
    /// The store (reads) and its writer: each turn loads and commits through it.
    pub store: StoreHandle,
    /// Decides each turn.
    pub turns: Arc<dyn TurnHandler>,
    /// Where committed replies go.
    pub channels: ChannelActors,
    /// See `EngineSettings::burst_window`.
    pub burst_window: Duration,
    /// See `EngineSettings::handoff_quiet`.
    pub handoff_quiet: Duration,
    /// Where a turn waiting out an outage is counted.
    pub waiting: Arc<Waiting>,
    /// A turn waiting out an outage stops waiting when the engine shuts down.
    pub lifecycle: Arc<Lifecycle>,
    /// The time of each turn (what the quiet period is measured against).
    pub clock: Clock,
}

pub struct ConversationArgs {
    pub key: ChatKey,
    pub deps: Arc<ConversationDeps>,
    pub router: ActorRef<RouterMsg>,
}

pub struct ConversationState {
    key: ChatKey,
    deps: Arc<ConversationDeps>,
    router: ActorRef<RouterMsg>,
    /// The last committed record, as compact JSON: an idle actor holds a few hundred bytes
    /// rather than the parsed record. Empty until the first message (then loaded from the
    /// store, so a restarted actor starts from the last committed turn).
    snapshot: Option<Box<[u8]>>,
    /// Messages held for the burst window, oldest first (answered together by one turn).
    held: Vec<InboxMessage>,
    /// The window of the messages held.
    burst: Burst,
}

impl Actor for Conversation {
    type Msg = ConversationMsg;
    type State = ConversationState;
    type Arguments = ConversationArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: ConversationArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        // Nothing slow here: the router waits for pre_start, so loading waits for the first
        // message.
        Ok(ConversationState {
            key: args.key,
            deps: args.deps,
            router: args.router,
            snapshot: None,
            held: Vec::new(),
            burst: Burst::default(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ConversationMsg::Handle(message) => {
                let window = state.deps.burst_window;
                // Button presses, contacts and media are answered on their own, at once; so is
                // everything when there is no window.
                if window.is_zero() || message.inbound.kind != InboundKind::Text {
                    flush(state).await?;
                    return answer(state, vec![message]).await;
                }
                state.held.push(message);
                if state.held.len() >= MAX_BURST {
                    flush(state).await?;
                } else {
                    // Each line extends the window (up to the cap): the burst is answered once
                    // the customer pauses.
                    let (generation, wait) = state.burst.extend(Instant::now(), window);
                    myself.send_after(wait, move || ConversationMsg::Flush(generation));
                }
                Ok(())
            }
            // A stale timer (a later line extended the window, or the burst was answered)
            // does nothing.
            ConversationMsg::Flush(generation) if state.burst.is_due(generation) => {
                flush(state).await
            }
            ConversationMsg::Flush(_) => Ok(()),
            ConversationMsg::Park { message, error } => {
                flush(state).await?;
                Box::pin(park(state, message, error)).await;
                Ok(())
            }
            ConversationMsg::Manage { action, by, reply } => {
                let result = Box::pin(manage(state, action, &by)).await;
                match reply {
                    Some(reply) => {
                        let _ = reply.send(result.map_err(ManageError::from));
                        Ok(())
                    }
                    None => Ok(result.map(|_| ())?),
                }
            }
        }
    }
}

/// Answers the held messages, if any, as one turn.
async fn flush(state: &mut ConversationState) -> Result<(), ActorProcessingErr> {
    state.burst.clear();
    if state.held.is_empty() {
        return Ok(());
    }
    let burst = std::mem::take(&mut state.held);
    answer(state, burst).await
}

/// The first wait before a turn that failed transiently is tried again; doubled after each
/// failure, up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(200);

/// The longest wait between two attempts of a turn during an outage.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// What a turn does with its messages.
enum Job<'j> {
    /// Answer them (the dialog).
    Answer(&'j [InboxMessage]),
    /// Park them with this error: apologise and call a manager.
    Park(&'j [InboxMessage], &'j str),
}

impl Job<'_> {
    fn messages(&self) -> &[InboxMessage] {
        match self {
            Job::Answer(m) | Job::Park(m, _) => m,
        }
    }

    async fn run(&self, state: &mut ConversationState) -> Result<(), ConversationError> {
        // Boxed: an idle actor's task would otherwise reserve room for this (large) future all
        // its life; boxed, the room exists only while a message is in hand.
        match self {
            Job::Answer(messages) => Box::pin(handle_messages(state, messages.to_vec())).await,
            Job::Park(messages, error) => Box::pin(park_turn(state, messages, error)).await,
        }
    }
}

/// Waiting out an outage: the pause before the next attempt (0.2 s doubling to 5 s), and the
/// chat counted among those waiting on an outage while it lasts.
#[derive(Default)]
struct Backoff {
    delay: Option<Duration>,
}

impl Backoff {
    /// Whether an attempt failed transiently before.
    fn retried(&self) -> bool {
        self.delay.is_some()
    }

    /// Waits before the next attempt after `error`; `false` when the engine is shutting down
    /// instead (nothing more is attempted).
    async fn pause(
        &mut self,
        state: &ConversationState,
        messages: &[InboxMessage],
        error: &(dyn std::fmt::Display + Sync),
    ) -> bool {
        let delay = match self.delay {
            None => {
                tracing::warn!(conversation = %masked(&state.key),
                    messages = messages.len(), %error,
                    "turn waits for the database; retried until it answers");
                let oldest = messages
                    .iter()
                    .map(|m| m.received_at)
                    .min()
                    .unwrap_or_else(crate::store::now);
                state.deps.waiting.start(&state.key, messages.len(), oldest);
                RETRY_FIRST
            }
            Some(previous) => (previous * 2).min(RETRY_MAX),
        };
        self.delay = Some(delay);
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = state.deps.lifecycle.stopped() => false,
        }
    }

    /// The attempts are over (done, failed for good, or shutting down).
    fn end(&self, state: &ConversationState, done: bool) {
        if self.retried() {
            state.deps.waiting.end(&state.key);
            if done {
                tracing::info!(conversation = %masked(&state.key),
                    "turn done after waiting for the database");
            }
        }
    }
}

/// Runs `job` until it succeeds or fails permanently. A transient failure (an outage) is
/// waited out with backoff, for as long as it lasts: the chat waits (its later messages stay
/// in the mailbox, in order), other chats go on. `Ok(false)`: the engine is shutting down,
/// nothing was done (the messages stay pending in the inbox for the next start). Only a
/// transient store error is an outage (see [`ConversationError::is_transient`]): a panic, a
/// template error or any other error of the turn is permanent.
async fn until_done(
    state: &mut ConversationState,
    job: Job<'_>,
) -> Result<bool, ConversationError> {
    let mut backoff = Backoff::default();
    let done = loop {
        match job.run(state).await {
            Ok(()) => break Ok(true),
            Err(e) if e.is_transient() => {
                if !backoff.pause(state, job.messages(), &e).await {
                    break Ok(false);
                }
            }
            Err(e) => break Err(e),
        }
    };
    backoff.end(state, matches!(done, Ok(true)));
    done
}

/// One turn for `messages` (oldest first), then tells the router each is finished, so none is
/// redelivered after a later failure.
async fn answer(
    state: &mut ConversationState,
    messages: Vec<InboxMessage>,
) -> Result<(), ActorProcessingErr> {
    let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    if !until_done(state, Job::Answer(&messages)).await? {
        return Ok(());
    }
    for inbox_id in ids {
        state.router.cast(RouterMsg::Done {
            key: state.key.clone(),
            inbox_id,
        })?;
    }
    Ok(())
}

async fn handle_messages(
    state: &mut ConversationState,
    messages: Vec<InboxMessage>,
) -> Result<(), ConversationError> {
    let message = messages.last().expect("a turn has a message");
    let deps = state.deps.clone();
    let (before, mut next) = load(state).await?;
    // The dialog state, read once for the turn: the turn changes `dialog`, the CRM's lead
    // compares it with `was`.
    let was = next.dialog_state();
    let mut dialog = was.clone();
    if !message
        .inbound
        .route
        .as_object()
        .is_none_or(|o| o.is_empty())
    {
        next.route = message.inbound.route.clone();
    }
    if next.customer_name.is_none() {
        next.customer_name = message.inbound.sender_name.clone();
    }
    // An email's chat is the sender's address: the customer is reachable there (the lead, the
    // CRM contact and the managers' alert carry it).
    if next.customer_email.is_none() && next.key.channel == Channel::Email {
        next.customer_email = Some(next.key.chat_id.clone());
    }

    let now = state.deps.clock.now();
    let mut hands = next.hands();
    let mut ownership = Vec::new();
    let echo = matches!(message.inbound.kind, InboundKind::ManagerEcho { .. });
    let event = if echo {
        // A manager wrote to the customer from the CRM or the phone.
        Event::Echo {
            author: message.inbound.echo_author().unwrap_or("manager"),
        }
    } else {
        Event::CustomerWrote
    };
    ownership.extend(handover::apply(&mut hands, event, now, deps.handoff_quiet));
    next.set_hands(&hands);

    let mut outcome = if echo {
        dialogs::TurnOutcome::default()
    } else {
        // Also when the chat is not the bot's: the turn keeps what the customer adds for the
        // manager (and, while the chat waits, may acknowledge it).
        let outcome = deps
            .turns
            .handle_turn(&next, &mut dialog, &messages)
            .await?;
        next.state = serde_json::to_value(&dialog)?;
        outcome
    };
    if next.owner == Owner::Manager {
        // A manager speaks for the agency here: the bot says nothing.
        outcome.replies.clear();
    }

    let excerpt = messages
        .iter()
        .map(|m| m.inbound.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let crm = if next.owner == Owner::Manager {
        Vec::new()
    } else {
        let before = before.as_ref().map(|b| b.lead_source(&was));
        dialogs::crm::commands_for_turn(before, next.lead_source(&dialog), &outcome, &excerpt)
            .into_iter()
            .map(|command| NewCrmCommand {
                id: new_id(),
                command,
            })
            .collect()
    };
    let mut escalations = Vec::new();
    let mut follow_ups = Vec::new();
    for event in outcome.events {
        match event {
            DialogEvent::Escalate { reason, details } => {
                // An escalation hands a chat the bot owns to the managers: waiting until one
                // takes it.
                let mut hands = next.hands();
                ownership.extend(handover::apply(
                    &mut hands,
                    Event::Escalated { reason },
                    now,
                    deps.handoff_quiet,
                ));
                next.set_hands(&hands);
                escalations.push(NewEscalation {
                    id: new_id(),
                    reason: reason.into(),
                    details: *details,
                });
            }
            // Kept on the open escalation for the manager; copied to the managers' chat unless
            // the manager who owns the chat works through the admin API.
            DialogEvent::FollowUp { text, urgency } => follow_ups.push(NewFollowUp {
                id: new_id(),
                text,
                urgency,
                relay: next.owner != Owner::Manager || next.owned_via.is_none_or(Desk::wants_relay),
            }),
        }
    }
    next.updated_at = now;
    let replies = outbox(&next, outcome.replies, now);
    let commit = TurnCommit {
        inbound: messages
            .iter()
            .map(|m| HandledMessage {
                inbox_id: m.id,
                text: m.inbound.text.clone(),
                direction: if echo { "manager" } else { "in" },
            })
            .collect(),
        conversation: next.clone(),
        replies: replies.clone(),
        escalations,
        follow_ups,
        crm,
        ownership: ownership.into_iter().map(recorded).collect(),
        at: now,
    };
    commit_turn(state, &messages, commit, next, replies).await
}

/// The conversation as last committed (`None` for a new chat), and a copy to change.
async fn load(
    state: &mut ConversationState,
) -> Result<(Option<ConversationRecord>, ConversationRecord), ConversationError> {
    // Taken, not borrowed: if anything after this fails, the actor holds nothing half-done
    // (and a failed actor is replaced by one that reloads from the store).
    let cached = state
        .snapshot
        .take()
        .and_then(|bytes| serde_json::from_slice::<ConversationRecord>(&bytes).ok());
    let before = match cached {
        Some(r) => Some(r),
        None => {
            state
                .deps
                .store
                .store
                .conversation_by_chat(&state.key)
                .await?
        }
    };
    let next = before
        .clone()
        .unwrap_or_else(|| ConversationRecord::new(state.key.clone(), state.deps.clock.now()));
    Ok((before, next))
}

/// A change of hands as the store records it.
fn recorded(change: Handover) -> OwnershipChange {
    OwnershipChange {
        from: change.from,
        to: change.to,
        by: change.by,
        reason: change.reason.as_str().to_owned(),
    }
}

fn outbox(
    record: &ConversationRecord,
    replies: Vec<dialogs::Reply>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<OutboxMessage> {
    replies
        .into_iter()
        .map(|r| OutboxMessage {
            id: new_id(),
            conversation_id: record.id.clone(),
            key: record.key.clone(),
            route: record.route.clone(),
            text: r.text,
            buttons: r.buttons,
            attempts: 0,
            created_at: now,
        })
        .collect()
}

/// Writes a turn; once it is committed, keeps the record and hands the replies to the channel.
///
/// An outage is waited out here, retrying the same commit (the same outbox ids): if a
/// connection broke after the database had committed, the retry finds the turn handled and
/// its replies in the outbox, and sends them — they would otherwise wait for a restart.
async fn commit_turn(
    state: &mut ConversationState,
    messages: &[InboxMessage],
    commit: TurnCommit,
    next: ConversationRecord,
    replies: Vec<OutboxMessage>,
) -> Result<(), ConversationError> {
    let conversation_id = commit.conversation.id.clone();
    let mut backoff = Backoff::default();
    let outcome = loop {
        let op = WriteOp::CommitTurn(Box::new(commit.clone()));
        match state.deps.store.write(op).await {
            Ok(outcome) => break outcome,
            Err(e) if e.is_transient() => {
                if !backoff.pause(state, messages, &e).await {
                    backoff.end(state, false);
                    // Shutting down: whatever was not committed is still pending.
                    return Ok(());
                }
            }
            Err(e) => {
                backoff.end(state, false);
                return Err(e.into());
            }
        }
    };
    backoff.end(state, true);
    let ours = match outcome {
        WriteOutcome::Committed => true,
        // Handled before: a replay that raced a live delivery — or our own commit, whose
        // answer was lost, when our replies are in the outbox.
        WriteOutcome::AlreadyHandled => {
            backoff.retried()
                && match replies.first() {
                    Some(first) => state
                        .deps
                        .store
                        .store
                        .outbox_of(&conversation_id)
                        .await?
                        .iter()
                        .any(|r| {
                            r.message.id == first.id
                                && r.status == crate::store::OutboxStatus::Pending
                        }),
                    None => false,
                }
        }
        other => return Err(ConversationError::Unexpected(other)),
    };
    if ours {
        state.snapshot = serde_json::to_vec(&next).ok().map(Vec::into_boxed_slice);
        state.deps.channels.send_replies(replies);
    }
    // Otherwise the stored state is newer than ours; it is reloaded next time.
    Ok(())
}

/// Parks a message that failed for good: marked `failed` with the error, the customer told
/// sorry (in their language) and the managers called, in one commit and once. An outage meanwhile
/// is waited out; if even the apology cannot be written, the message is parked bare.
async fn park(state: &mut ConversationState, message: InboxMessage, error: String) {
    let key = masked(&state.key);
    let messages = [message];
    match until_done(state, Job::Park(&messages, &error)).await {
        Ok(_) => {}
        Err(e) => {
            tracing::error!(conversation = %key, inbox_id = messages[0].id, error = %e,
                "could not write the apology for a parked message; parking it bare");
            state.deps.store.write_in_background(WriteOp::ParkInbound {
                id: messages[0].id,
                error,
                at: state.deps.clock.now(),
            });
        }
    }
}

/// One attempt at [`park`].
async fn park_turn(
    state: &mut ConversationState,
    messages: &[InboxMessage],
    error: &str,
) -> Result<(), ConversationError> {
    let (_, mut next) = load(state).await?;
    let now = state.deps.clock.now();
    let replies = if next.owner == Owner::Manager {
        // The manager who owns the chat answers; the escalation tells them.
        Vec::new()
    } else {
        state
            .deps
            .turns
            .apology(&next, messages)
            .into_iter()
            .collect()
    };
    let text = messages
        .iter()
        .map(|m| m.inbound.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    next.updated_at = now;
    let replies = outbox(&next, replies, now);
    let commit = TurnCommit {
        inbound: messages
            .iter()
            .map(|m| HandledMessage {
                inbox_id: m.id,
                text: m.inbound.text.clone(),
                direction: "in",
            })
            .collect(),
        conversation: next.clone(),
        replies: replies.clone(),
        escalations: vec![NewEscalation {
            id: new_id(),
            reason: EscalationKind::MessageFailed,
            details: EscalationDetails {
                error: Some(error.to_owned()),
                inbox_ids: Some(messages.iter().map(|m| m.id).collect()),
                text: Some(text),
                ..EscalationDetails::default()
            },
        }],
        follow_ups: Vec::new(),
        crm: Vec::new(),
        ownership: Vec::new(),
        at: now,
    };
    let outcome = state
        .deps
        .store
        .write(WriteOp::ParkTurn {
            turn: Box::new(commit),
            error: error.to_owned(),
        })
        .await?;
    // Otherwise handled or parked before: nothing more to say.
    if outcome == WriteOutcome::Committed {
        tracing::error!(conversation = %masked(&state.key),
            inbox_id = messages[0].id, %error,
            "message parked: the customer was told sorry and the managers were called");
        state.snapshot = serde_json::to_vec(&next).ok().map(Vec::into_boxed_slice);
        state.deps.channels.send_replies(replies);
    }
    Ok(())
}

/// Applies a manager's action: records the change of hands and any message in one commit.
async fn manage(
    state: &mut ConversationState,
    action: ManagerAction,
    by: &Manager,
) -> Result<Owner, ConversationError> {
    let (_, mut next) = load(state).await?;
    let now = state.deps.clock.now();
    let mut hands = next.hands();
    let (step, replies) = match &action {
        ManagerAction::Take => (ManagerMove::Take, Vec::new()),
        ManagerAction::Release => (ManagerMove::Release, Vec::new()),
        ManagerAction::Say(text) => (ManagerMove::Write, vec![dialogs::Reply::text(text.clone())]),
    };
    let event = Event::Manager {
        action: step,
        by: &by.name,
        desk: by.desk,
    };
    let ownership = handover::apply(&mut hands, event, now, state.deps.handoff_quiet);
    next.set_hands(&hands);
    let replies = outbox(&next, replies, now);
    next.updated_at = now;
    let owner = next.owner;
    let commit = TurnCommit {
        inbound: Vec::new(),
        conversation: next.clone(),
        replies: replies.clone(),
        escalations: Vec::new(),
        follow_ups: Vec::new(),
        crm: Vec::new(),
        ownership: ownership.into_iter().map(recorded).collect(),
        at: now,
    };
    commit_turn(state, &[], commit, next, replies).await?;
    Ok(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_millis(1500);

    #[test]
    fn each_line_of_a_burst_extends_the_window() {
        let start = Instant::now();
        let mut burst = Burst::default();
        // Four short lines half a second apart: each pushes the answer to a window after it.
        let mut timers = Vec::new();
        for i in 0..4 {
            let now = start + Duration::from_millis(500) * i;
            let (generation, wait) = burst.extend(now, WINDOW);
            assert_eq!(wait, WINDOW, "line {i}");
            timers.push(generation);
        }
        // Only the newest timer answers; the earlier ones find the window extended.
        assert!(!burst.is_due(timers[0]) && !burst.is_due(timers[2]));
        assert!(burst.is_due(timers[3]));
        burst.clear();
        assert!(!burst.is_due(timers[3]), "answered: nothing is due");
    }

    #[test]
    fn a_long_burst_is_answered_at_the_cap() {
        let start = Instant::now();
        let mut burst = Burst::default();
        burst.extend(start, WINDOW);
        // A line every second for five seconds: the cap (four windows after the first line)
        // comes before a window after the last.
        let now = start + Duration::from_secs(5);
        let (_, wait) = burst.extend(now, WINDOW);
        assert_eq!(now + wait, start + WINDOW * BURST_CAP_WINDOWS);
        // Past the cap: at once.
        let late = start + Duration::from_secs(7);
        assert_eq!(burst.extend(late, WINDOW).1, Duration::ZERO);
        // A new burst starts its own cap.
        burst.clear();
        let (_, wait) = burst.extend(late, WINDOW);
        assert_eq!(wait, WINDOW);
    }
}
