//! The few things the actors of the engine truly share, each taken by name in the `Arguments`
//! of the actors that need it: the engine's start and stop flags ([`Lifecycle`]), the current
//! channel actors ([`ChannelActors`], which Root replaces when it restarts one), and the
//! turns waiting out an outage ([`Waiting`]). Everything else an actor needs is its own
//! argument (see [`crate::engine`] for who gets what).

use crate::outbound::OutboundMsg;
use crate::store::OutboxMessage;
use dialogs::{Channel, ChatKey};
use ractor::ActorRef;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// The engine's start and stop flags.
#[derive(Debug)]
pub struct Lifecycle {
    /// Set when the engine shuts down: a turn waiting out an outage stops waiting (its
    /// messages stay pending in the inbox for the next start).
    stopping: tokio::sync::watch::Sender<bool>,
    /// Set once the database answered at start-up and the last run's work was replayed:
    /// until then messages are refused (webhooks answer 503) and `/ready` answers 503.
    started: AtomicBool,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            stopping: tokio::sync::watch::Sender::new(false),
            started: AtomicBool::new(false),
        }
    }
}

impl Lifecycle {
    /// Resolves once the engine shuts down (at once if it has).
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        let _ = stopping.wait_for(|s| *s).await;
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// The engine shuts down.
    pub(crate) fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Whether the engine has started (the database answered, the last run's work replayed).
    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    pub(crate) fn mark_started(&self) {
        self.started.store(true, Ordering::Release);
    }
}

/// The current actor of each configured channel. Root inserts one when it spawns or restarts
/// it; conversations and the engine handle read it to hand over replies.
#[derive(Clone, Default)]
pub struct ChannelActors(Arc<RwLock<HashMap<Channel, ActorRef<OutboundMsg>>>>);

impl ChannelActors {
    /// The actor sending on `channel`, if the channel is configured.
    pub fn get(&self, channel: Channel) -> Option<ActorRef<OutboundMsg>> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&channel)
            .cloned()
    }

    /// Every channel actor, with its channel.
    pub(crate) fn all(&self) -> Vec<(Channel, ActorRef<OutboundMsg>)> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(c, a)| (*c, a.clone()))
            .collect()
    }

    /// `actor` now sends on `channel` (a start or a restart).
    pub(crate) fn set(&self, channel: Channel, actor: ActorRef<OutboundMsg>) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(channel, actor);
    }

    /// Takes every channel actor out (shutdown).
    pub(crate) fn take_all(&self) -> Vec<ActorRef<OutboundMsg>> {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, a)| a)
            .collect()
    }

    /// Hands committed replies to their channel's actor. A channel with no actor (not
    /// configured) keeps them in the outbox.
    pub fn send_replies(&self, replies: Vec<OutboxMessage>) {
        for reply in replies {
            match self.get(reply.key.channel) {
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
