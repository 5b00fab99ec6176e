//! What every channel's sending side looks like to the engine.

use async_trait::async_trait;
use dialogs::{Channel, turn::Button};
use std::time::Duration;

/// A reply ready to leave through a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    /// Our outbox id; channels that support it use it as the idempotency key (Wazzup
    /// `crmMessageId`), so a resend after a crash cannot reach the customer twice.
    pub id: String,
    pub chat_id: String,
    /// The channel-specific reply address stored with the conversation.
    pub route: serde_json::Value,
    pub text: String,
    pub buttons: Vec<Button>,
}

/// The channel accepted the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReceipt {
    /// The channel's id of the sent message, when it gives one.
    pub external_id: Option<String>,
}

/// What a channel later reports of a message it accepted (a delivery receipt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// It reached the customer's device.
    Delivered,
    /// The customer read it.
    Read,
    /// It did not reach the customer after all.
    Failed,
}

/// Why a send did not go through, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The channel asks us to slow down (HTTP 429, Telegram's `retry_after`): nothing may be
    /// sent on this channel for `retry_after`. Not a failed attempt: the message waits and goes
    /// again, however often this happens.
    #[error("rate limited for {retry_after:?}: {reason}")]
    RateLimited {
        reason: String,
        retry_after: Duration,
    },
    /// Worth trying again (5xx, timeout, connection refused), after `retry_after` when the
    /// channel says; otherwise after the outbox's own backoff.
    #[error("temporary failure: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The chat cannot be reached (blocked the bot, not on WhatsApp): stop trying this chat.
    #[error("chat unreachable: {reason}")]
    Unreachable { reason: String },
    /// This message will never go through (invalid data, misconfiguration).
    #[error("rejected: {reason}")]
    Rejected { reason: String },
}

/// The sending side of a channel. Owned by that channel's actor, which paces and retries.
#[async_trait]
pub trait Sender: Send + Sync + 'static {
    fn channel(&self) -> Channel;

    /// Sends one message. Must be safe to call again with the same `id` after a crash.
    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError>;
}
