//! What the actors of the engine share: the store and its writer, the turn handler, the
//! current channel actors, and the engine's start and stop flags. Built by the root
//! supervisor (see [`crate::engine`]) and handed to the router and every conversation.

use crate::outbound::{OutboundMsg, OutboxSettings};
use crate::status::Integrations;
use crate::store::{InboxMessage, OutboxMessage, StoreError};
use crate::store_writer::StoreHandle;
use crate::turns::TurnHandler;
use dialogs::{Channel, ChatKey};
use ractor::ActorRef;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What the actors share: the store, the turn handler, and the current channel actors.
pub struct EngineContext {
    pub store: StoreHandle,
    pub turns: Arc<dyn TurnHandler>,
    pub(crate) outbound: RwLock<HashMap<Channel, ActorRef<OutboundMsg>>>,
    /// The channels whose unfinished work this engine replays (`None`: all).
    pub(crate) serves: Option<Vec<Channel>>,
    /// See `EngineSettings::burst_window`.
    pub burst_window: Duration,
    /// See `EngineSettings::handoff_quiet`.
    pub handoff_quiet: Duration,
    /// See `EngineSettings::integrations`.
    pub integrations: Integrations,
    /// Bitrix24's set-up and calls, and the request to re-read it (when configured).
    pub crm: Option<crate::crm::CrmHandle>,
    /// See `EngineSettings::outbox`.
    pub outbox: OutboxSettings,
    /// Turns waiting out an outage (see [`Waiting`]).
    pub waiting: Waiting,
    /// Set when the engine shuts down: a turn waiting out an outage stops waiting (its
    /// messages stay pending in the inbox for the next start).
    pub(crate) stopping: tokio::sync::watch::Sender<bool>,
    /// Set once the database answered at start-up and the last run's work was replayed:
    /// until then messages are refused (webhooks answer 503) and `/ready` answers 503.
    pub(crate) started: std::sync::atomic::AtomicBool,
}

/// Turns that failed transiently and wait to be retried, per chat: how many messages and the
/// oldest one's arrival (`/admin/status`, `/metrics`).
#[derive(Debug, Default)]
pub struct Waiting(std::sync::Mutex<HashMap<ChatKey, (usize, chrono::DateTime<chrono::Utc>)>>);

/// Messages waiting on an outage, and when the oldest of them arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitingSummary {
    pub messages: usize,
    pub oldest: Option<chrono::DateTime<chrono::Utc>>,
}

impl Waiting {
    pub fn start(&self, key: &ChatKey, messages: usize, oldest: chrono::DateTime<chrono::Utc>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), (messages, oldest));
    }

    pub fn end(&self, key: &ChatKey) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    pub fn summary(&self) -> WaitingSummary {
        let waiting = self.0.lock().unwrap_or_else(|e| e.into_inner());
        WaitingSummary {
            messages: waiting.values().map(|(n, _)| n).sum(),
            oldest: waiting.values().map(|(_, at)| *at).min(),
        }
    }
}

impl EngineContext {
    /// Hands committed replies to their channel's actor. A channel with no actor (not
    /// configured) keeps them in the outbox.
    pub fn send_replies(&self, replies: Vec<OutboxMessage>) {
        for reply in replies {
            match self.outbound(reply.key.channel) {
                Some(actor) => {
                    if actor.cast(OutboundMsg::Send(reply)).is_err() {
                        tracing::warn!("channel actor stopped; reply stays in the outbox");
                    }
                }
                None => {
                    tracing::warn!(channel = %reply.key.channel,
                        "no sender for this channel; reply stays in the outbox")
                }
            }
        }
    }

    /// Unhandled inbox rows and unsent outbox rows of the channels this engine serves, oldest
    /// first: what a start or a restart of the router or a channel actor must pick up.
    pub(crate) async fn unfinished(
        &self,
    ) -> Result<(Vec<InboxMessage>, Vec<OutboxMessage>), StoreError> {
        let serves = |c: Channel| self.serves.as_ref().is_none_or(|cs| cs.contains(&c));
        let mut pending = self.store.store.pending_inbox().await?;
        pending.retain(|m| serves(m.inbound.key.channel));
        let mut unsent = self.store.store.unsent_outbox().await?;
        unsent.retain(|m| serves(m.key.channel));
        Ok((pending, unsent))
    }

    /// Resolves once the engine shuts down (at once if it has).
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        let _ = stopping.wait_for(|s| *s).await;
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// The actor sending on `channel`, if the channel is configured.
    pub fn outbound(&self, channel: Channel) -> Option<ActorRef<OutboundMsg>> {
        self.outbound
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&channel)
            .cloned()
    }
}
