//! The Conversation actor: one per chat, the only place that chat's messages are handled.
//! Its behaviour (ordering, restart, passivation, the message in flight) is written down in
//! `conversation.md` beside this file.

use crate::conversations::RouterMsg;
use crate::crm::NewCrmCommand;
use crate::engine::EngineContext;
use crate::store::{
    ConversationRecord, HandledMessage, InboxMessage, NewEscalation, OutboxMessage,
    OwnershipChange, TurnCommit, WriteOp, WriteOutcome, new_id,
};
use dialogs::{Channel, ChatKey, DialogEvent, Owner};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::sync::Arc;

// `Flush` is tiny and rare; boxing every message to even out the sizes would cost more.
#[allow(clippy::large_enum_variant)]
pub enum ConversationMsg {
    /// Handle one stored inbound message. Sent only by the router, in inbox order.
    Handle(InboxMessage),
    /// The burst window of the messages held is over: answer them.
    Flush,
    /// A manager takes, writes to or releases the chat; replies with the owner after it.
    Manage {
        action: ManagerAction,
        by: String,
        reply: Option<RpcReplyPort<Result<Owner, String>>>,
    },
}

/// At most this many messages are answered together, however fast they come.
const MAX_BURST: usize = 10;

pub struct Conversation;

pub struct ConversationArgs {
    pub key: ChatKey,
    pub ctx: Arc<EngineContext>,
    pub router: ActorRef<RouterMsg>,
}

pub struct ConversationState {
    key: ChatKey,
    ctx: Arc<EngineContext>,
    router: ActorRef<RouterMsg>,
    /// The last committed record, as compact JSON: an idle actor holds a few hundred bytes
    /// rather than the parsed record. Empty until the first message (then loaded from the
    /// store, so a restarted actor starts from the last committed turn).
    snapshot: Option<Box<[u8]>>,
    /// Messages held for the burst window, oldest first (answered together by one turn).
    held: Vec<InboxMessage>,
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
            ctx: args.ctx,
            router: args.router,
            snapshot: None,
            held: Vec::new(),
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
                let window = state.ctx.burst_window;
                // Button presses, contacts and media are answered on their own, at once; so is
                // everything when there is no window.
                if window.is_zero() || message.inbound.kind != "text" {
                    flush(state).await?;
                    return answer(state, vec![message]).await;
                }
                state.held.push(message);
                if state.held.len() >= MAX_BURST {
                    flush(state).await?;
                } else if state.held.len() == 1 {
                    myself.send_after(window, || ConversationMsg::Flush);
                }
                Ok(())
            }
            // A stale timer (its burst already answered) finds nothing held.
            ConversationMsg::Flush => flush(state).await,
            ConversationMsg::Manage { action, by, reply } => {
                let result = Box::pin(manage(state, action, &by)).await;
                match reply {
                    Some(reply) => {
                        let _ = reply.send(result.map_err(|e| e.to_string()));
                        Ok(())
                    }
                    None => result.map(|_| ()),
                }
            }
        }
    }
}

/// Answers the held messages, if any, as one turn.
async fn flush(state: &mut ConversationState) -> Result<(), ActorProcessingErr> {
    if state.held.is_empty() {
        return Ok(());
    }
    let burst = std::mem::take(&mut state.held);
    answer(state, burst).await
}

/// One turn for `messages` (oldest first), then tells the router each is finished, so none is
/// redelivered after a later failure.
async fn answer(
    state: &mut ConversationState,
    messages: Vec<InboxMessage>,
) -> Result<(), ActorProcessingErr> {
    let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    // Boxed: an idle actor's task would otherwise reserve room for this (large) future all its
    // life; boxed, the room exists only while a message is in hand.
    Box::pin(handle_messages(state, messages)).await?;
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
) -> Result<(), ActorProcessingErr> {
    let message = messages.last().expect("a turn has a message");
    let ctx = state.ctx.clone();
    let (before, mut next) = load(state).await?;
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

    let now = crate::store::now();
    // A chat a manager took (or was waiting for) and left quiet for the quiet period returns
    // to the bot.
    let mut ownership = None;
    if next.owner != Owner::Bot
        && (now - next.owner_since).to_std().unwrap_or_default() >= ctx.handoff_quiet
    {
        ownership = Some(hand_over(&mut next, Owner::Bot, "bot", "quiet_period", now));
    }

    // A manager wrote to the customer from the CRM or the phone (a channel echo): the chat is
    // theirs now.
    if message.inbound.kind == "echo" && next.owner != Owner::Manager {
        let by = message.inbound.payload["author"]
            .as_str()
            .unwrap_or("manager")
            .to_owned();
        ownership = Some(hand_over(
            &mut next,
            Owner::Manager,
            &by,
            "manager_wrote_elsewhere",
            now,
        ));
    } else if message.inbound.kind == "echo" {
        next.owner_since = now;
    }

    let outcome = if next.owner == Owner::Manager {
        // A manager speaks for the agency here: store the message, say nothing.
        dialogs::TurnOutcome::default()
    } else {
        ctx.turns.handle_turn(&mut next, &messages).await?
    };

    let excerpt = messages
        .iter()
        .map(|m| m.inbound.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let crm = if next.owner == Owner::Manager {
        Vec::new()
    } else {
        crate::crm::commands_for_turn(before.as_ref(), &next, &outcome, &excerpt)
            .into_iter()
            .map(|command| NewCrmCommand {
                id: new_id(),
                command,
            })
            .collect()
    };
    let escalations: Vec<NewEscalation> = outcome
        .events
        .into_iter()
        .map(|e| match e {
            DialogEvent::Escalate { reason, details } => NewEscalation {
                id: new_id(),
                reason: serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                details,
            },
        })
        .collect();
    // An escalation hands the chat to the managers: waiting until one takes it.
    if let Some(first) = escalations.first()
        && next.owner == Owner::Bot
    {
        let reason = first.reason.clone();
        ownership = Some(hand_over(&mut next, Owner::Waiting, "bot", &reason, now));
    }
    next.updated_at = now;
    let replies = outbox(&next, outcome.replies, now);
    let commit = TurnCommit {
        inbound: messages
            .iter()
            .map(|m| HandledMessage {
                inbox_id: m.id,
                text: m.inbound.text.clone(),
                direction: if m.inbound.kind == "echo" {
                    "manager"
                } else {
                    "in"
                },
            })
            .collect(),
        conversation: next.clone(),
        replies: replies.clone(),
        escalations,
        crm,
        ownership,
        at: now,
    };
    commit_turn(state, commit, next, replies).await
}

/// The conversation as last committed (`None` for a new chat), and a copy to change.
async fn load(
    state: &mut ConversationState,
) -> Result<(Option<ConversationRecord>, ConversationRecord), ActorProcessingErr> {
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
                .ctx
                .store
                .store
                .conversation_by_chat(&state.key)
                .await?
        }
    };
    let next = before
        .clone()
        .unwrap_or_else(|| ConversationRecord::new(state.key.clone(), crate::store::now()));
    Ok((before, next))
}

/// Passes the chat to `to`, returning the change to record.
fn hand_over(
    record: &mut ConversationRecord,
    to: Owner,
    by: &str,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> OwnershipChange {
    let change = OwnershipChange {
        from: record.owner,
        to,
        by: by.to_owned(),
        reason: reason.to_owned(),
    };
    record.owner = to;
    record.owner_since = now;
    record.owned_by = (to == Owner::Manager).then(|| by.to_owned());
    change
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
async fn commit_turn(
    state: &mut ConversationState,
    commit: TurnCommit,
    next: ConversationRecord,
    replies: Vec<OutboxMessage>,
) -> Result<(), ActorProcessingErr> {
    match state
        .ctx
        .store
        .write(WriteOp::CommitTurn(Box::new(commit)))
        .await?
    {
        WriteOutcome::Committed => {
            state.snapshot = serde_json::to_vec(&next).ok().map(Vec::into_boxed_slice);
            state.ctx.send_replies(replies);
        }
        // Handled before (a replay that raced a live delivery): the stored state is newer than
        // ours, so it is reloaded next time.
        WriteOutcome::AlreadyHandled => {}
        other => {
            return Err(format!("unexpected outcome of a turn commit: {other:?}").into());
        }
    }
    Ok(())
}

/// What a manager (or the admin API on their behalf) does to a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagerAction {
    /// Take the chat: the bot falls silent.
    Take,
    /// Give the chat back to the bot.
    Release,
    /// Write to the customer through the chat's channel (taking the chat if not yet taken).
    Say(String),
    /// A manager wrote to the customer outside the engine (the Wazzup echo of a message sent
    /// from the CRM or the phone): take the chat, send nothing.
    WroteElsewhere,
}

/// Applies a manager's action: records the change of hands and any message in one commit.
async fn manage(
    state: &mut ConversationState,
    action: ManagerAction,
    by: &str,
) -> Result<Owner, ActorProcessingErr> {
    let (_, mut next) = load(state).await?;
    let now = crate::store::now();
    let mut ownership = None;
    let mut replies = Vec::new();
    match &action {
        ManagerAction::Release => {
            if next.owner != Owner::Bot {
                ownership = Some(hand_over(&mut next, Owner::Bot, by, "released", now));
            }
        }
        ManagerAction::Take | ManagerAction::WroteElsewhere | ManagerAction::Say(_) => {
            let reason = match action {
                ManagerAction::Take => "claimed",
                ManagerAction::WroteElsewhere => "manager_wrote_elsewhere",
                _ => "manager_wrote",
            };
            if next.owner != Owner::Manager {
                ownership = Some(hand_over(&mut next, Owner::Manager, by, reason, now));
            } else {
                // Activity keeps the chat with the manager through the quiet period.
                next.owner_since = now;
            }
            if let ManagerAction::Say(text) = &action {
                replies = outbox(&next, vec![dialogs::Reply::text(text.clone())], now);
            }
        }
    }
    next.updated_at = now;
    let owner = next.owner;
    let commit = TurnCommit {
        inbound: Vec::new(),
        conversation: next.clone(),
        replies: replies.clone(),
        escalations: Vec::new(),
        crm: Vec::new(),
        ownership,
        at: now,
    };
    commit_turn(state, commit, next, replies).await?;
    Ok(owner)
}
