//! The Conversation actor: one per chat, the only place that chat's messages are handled.
//! Its behaviour (ordering, restart, passivation, the message in flight) is written down in
//! `conversation.md` beside this file.

use crate::conversations::RouterMsg;
use crate::engine::EngineContext;
use crate::store::{
    ConversationRecord, InboxMessage, NewEscalation, OutboxMessage, TurnCommit, WriteOp,
    WriteOutcome, new_id,
};
use dialogs::{ChatKey, DialogEvent, Owner};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::Arc;

pub enum ConversationMsg {
    /// Handle one stored inbound message. Sent only by the router, in inbox order.
    Handle(InboxMessage),
}

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
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let ConversationMsg::Handle(message) = msg;
        let inbox_id = message.id;
        // Boxed: an idle actor's task would otherwise reserve room for this (large) future
        // all its life; boxed, the room exists only while a message is in hand.
        Box::pin(handle_message(state, message)).await?;
        // Tell the router this message is finished, so it is not redelivered after a failure.
        state.router.cast(RouterMsg::Done {
            key: state.key.clone(),
            inbox_id,
        })?;
        Ok(())
    }
}

async fn handle_message(
    state: &mut ConversationState,
    message: InboxMessage,
) -> Result<(), ActorProcessingErr> {
    let ctx = state.ctx.clone();
    // Taken, not borrowed: if anything below fails, the actor holds nothing half-done (and a
    // failed actor is replaced by one that reloads from the store).
    let cached = state
        .snapshot
        .take()
        .and_then(|bytes| serde_json::from_slice::<ConversationRecord>(&bytes).ok());
    let mut next = match cached {
        Some(r) => r,
        None => ctx
            .store
            .store
            .conversation_by_chat(&state.key)
            .await?
            .unwrap_or_else(|| ConversationRecord::new(state.key.clone(), crate::store::now())),
    };
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

    let outcome = if next.owner == Owner::Manager {
        // A manager speaks for the agency here: store the message, say nothing.
        dialogs::TurnOutcome::default()
    } else {
        ctx.turns.handle_turn(&mut next, &message).await?
    };

    let now = crate::store::now();
    next.updated_at = now;
    let replies: Vec<OutboxMessage> = outcome
        .replies
        .into_iter()
        .map(|r| OutboxMessage {
            id: new_id(),
            conversation_id: next.id.clone(),
            key: next.key.clone(),
            route: next.route.clone(),
            text: r.text,
            buttons: r.buttons,
            attempts: 0,
            created_at: now,
        })
        .collect();
    let escalations = outcome
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
    let commit = TurnCommit {
        inbox_id: message.id,
        conversation: next.clone(),
        inbound_text: message.inbound.text.clone(),
        replies: replies.clone(),
        escalations,
        at: now,
    };
    match ctx
        .store
        .write(WriteOp::CommitTurn(Box::new(commit)))
        .await?
    {
        WriteOutcome::Committed => {
            state.snapshot = serde_json::to_vec(&next).ok().map(Vec::into_boxed_slice);
            ctx.send_replies(replies);
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
