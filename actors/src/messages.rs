//! The messages of the router and of a conversation, and who sends them: a leaf module, so
//! the engine, the router and the conversations all depend on it and it on none of them.

use crate::store::{InboxMessage, StoreError, WriteOutcome};
use crate::turns::TurnError;
use dialogs::handover::Desk;
use dialogs::{ChatKey, Owner};
use ractor::RpcReplyPort;
use std::time::Duration;

/// What the [`Router`](crate::router::Router) is asked: by the engine (deliveries, a
/// manager's action, stats, shutdown) and by its conversations (a message done).
pub enum RouterMsg {
    /// A new stored message for its chat.
    Deliver(InboxMessage),
    /// A conversation finished a message.
    Done { key: ChatKey, inbox_id: i64 },
    /// Stop conversations idle for longer than `idle_for` (default: the idle period); reply
    /// with how many were stopped once they have.
    Passivate {
        idle_for: Option<Duration>,
        reply: Option<RpcReplyPort<usize>>,
    },
    /// Counts for metrics and benchmarks.
    Stats(RpcReplyPort<RouterStats>),
    /// Stop every conversation once it has finished the message in hand; reply when done.
    Shutdown(RpcReplyPort<()>),
    /// A manager's action on a chat, for its Conversation (spawned if not live).
    Manage {
        key: ChatKey,
        action: ManagerAction,
        by: Manager,
        reply: RpcReplyPort<Result<Owner, ManageError>>,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// Conversation actors alive now.
    pub live: usize,
    /// Messages delivered and not yet finished.
    pub in_flight: usize,
    /// Messages parked as failed since start.
    pub parked: u64,
}

/// What a [`Conversation`](crate::conversation::Conversation) is asked, by the router.
// `Flush` is tiny and rare; boxing every message to even out the sizes would cost more.
#[allow(clippy::large_enum_variant)]
pub enum ConversationMsg {
    /// Handle one stored inbound message. Sent only by the router, in inbox order.
    Handle(InboxMessage),
    /// The burst window of the messages held may be over: answer them, unless a later line
    /// extended the window (the timer's generation is no longer the burst's).
    Flush(u64),
    /// This message failed for good (twice, not for an outage): park it with `error`, say
    /// sorry to the customer and call a manager, once. Sent by the router to the fresh actor,
    /// before the messages after it.
    Park {
        message: InboxMessage,
        error: String,
    },
    /// A manager takes, writes to or releases the chat; replies with the owner after it.
    Manage {
        action: ManagerAction,
        by: Manager,
        reply: Option<RpcReplyPort<Result<Owner, ManageError>>>,
    },
}

/// Why a conversation could not finish a turn or a manager's action. Only a transient
/// [`StoreError`] (an outage) is waited out; every other error is permanent.
#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Turn(#[from] TurnError),
    #[error("the dialog state does not serialise: {0}")]
    State(#[from] serde_json::Error),
    #[error("unexpected outcome of a turn commit: {0:?}")]
    Unexpected(WriteOutcome),
}

impl ConversationError {
    /// Whether trying again later can succeed (see [`crate::store::FailureKind`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, ConversationError::Store(e) if e.is_transient())
    }
}

/// Why a manager's action was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("the engine is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Conversation(#[from] ConversationError),
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
}

/// A manager acting on a chat: their name, and where they work from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    /// The manager's name (or the admin token's name).
    pub name: String,
    pub desk: Desk,
}

/// A chat key fit for logs: phone numbers and emails masked.
pub fn masked(key: &ChatKey) -> String {
    let id = if key.chat_id.contains('@') {
        dialogs::privacy::mask_email(&key.chat_id)
    } else if key.chat_id.chars().filter(char::is_ascii_digit).count() >= 9 {
        dialogs::privacy::mask_phone(&key.chat_id)
    } else {
        key.chat_id.clone()
    };
    format!("{}:{id}", key.channel)
}
