//! One actor per channel that sends the outbox: in order within a chat, concurrently across
//! chats (up to a cap), retrying what is worth retrying, and recording every result.
//!
//! A send runs in its own task and reports back with `Finished`, so a slow channel API never
//! blocks this actor's mailbox, and a chat's next message waits for its previous one.

use crate::meters;
use crate::status::Integrations;
use crate::store::{OutboxMessage, WriteOp};
use crate::store_writer::StoreHandle;
use channels::{OutgoingMessage, SendError, SendReceipt, Sender};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Attempts before a retryable failure is given up as `failed` (visible in the admin API).
const MAX_ATTEMPTS: i32 = 8;
/// Sends in flight at once, across chats.
const MAX_IN_FLIGHT: usize = 64;

pub enum OutboundMsg {
    /// Send a committed outbox row.
    Send(OutboxMessage),
    /// A send task finished.
    Finished {
        message: OutboxMessage,
        result: Result<SendReceipt, SendError>,
    },
    /// Try a message again after a retryable failure.
    Retry(OutboxMessage),
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
}

pub struct OutboundState {
    sender: Arc<dyn Sender>,
    store: StoreHandle,
    integrations: Integrations,
    /// Messages waiting, per chat, in order.
    queues: HashMap<String, VecDeque<OutboxMessage>>,
    /// Chats with a message in flight (or waiting for a retry).
    busy: HashSet<String>,
    /// Chats with queued messages that wait for a free slot.
    ready: VecDeque<String>,
    in_flight: usize,
    /// Set by `Drain`: who waits for the last send in flight to finish.
    draining: Option<Vec<RpcReplyPort<()>>>,
}

impl Actor for Outbound {
    type Msg = OutboundMsg;
    type State = OutboundState;
    type Arguments = OutboundArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: OutboundArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(OutboundState {
            sender: args.sender,
            store: args.store,
            integrations: args.integrations,
            queues: HashMap::new(),
            busy: HashSet::new(),
            ready: VecDeque::new(),
            in_flight: 0,
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
            OutboundMsg::Send(message) => {
                let chat = message.key.chat_id.clone();
                state
                    .queues
                    .entry(chat.clone())
                    .or_default()
                    .push_back(message);
                if !state.busy.contains(&chat) {
                    state.ready.push_back(chat);
                }
            }
            OutboundMsg::Retry(message) => {
                if state.draining.is_none() {
                    state.in_flight += 1;
                    spawn_send(&myself, state.sender.clone(), message);
                }
            }
            OutboundMsg::Drain(reply) => {
                state.draining.get_or_insert_with(Vec::new).push(reply);
            }
            OutboundMsg::Finished { message, result } => {
                state.in_flight -= 1;
                let chat = message.key.chat_id.clone();
                record(&state.integrations, &message, &result);
                match result {
                    Ok(receipt) => {
                        state.store.write_in_background(WriteOp::OutboxSent {
                            id: message.id.clone(),
                            external_id: receipt.external_id,
                            at: crate::store::now(),
                        });
                        release(state, chat);
                    }
                    Err(SendError::Retryable {
                        reason,
                        retry_after,
                    }) if message.attempts + 1 < MAX_ATTEMPTS => {
                        let mut message = message;
                        message.attempts += 1;
                        let delay = retry_after.unwrap_or_else(|| backoff(message.attempts));
                        tracing::warn!(channel = %message.key.channel, outbox_id = %message.id,
                            attempt = message.attempts, error = %reason, ?delay, "send failed; will retry");
                        state.store.write_in_background(WriteOp::OutboxFailed {
                            id: message.id.clone(),
                            error: reason,
                            permanent: false,
                            at: crate::store::now(),
                        });
                        // The chat stays busy: its later messages must not overtake this one.
                        myself.send_after(delay, move || OutboundMsg::Retry(message));
                    }
                    Err(error) => {
                        tracing::error!(channel = %message.key.channel, outbox_id = %message.id,
                            %error, "send failed for good");
                        if matches!(error, SendError::Unreachable { .. }) {
                            state.store.write_in_background(WriteOp::MarkUnreachable {
                                conversation_id: message.conversation_id.clone(),
                                at: crate::store::now(),
                            });
                        }
                        state.store.write_in_background(WriteOp::OutboxFailed {
                            id: message.id.clone(),
                            error: error.to_string(),
                            permanent: true,
                            at: crate::store::now(),
                        });
                        release(state, chat);
                    }
                }
            }
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
                SendError::Retryable { .. } => "retryable",
                _ => "permanent",
            };
            metrics::counter!(meters::SEND_FAILURES, "channel" => channel, "kind" => kind)
                .increment(1);
            integrations.failure(channel, &format!("send: {error}"));
        }
    }
}

/// The chat's message is done: let its next one go.
fn release(state: &mut OutboundState, chat: String) {
    state.busy.remove(&chat);
    if state.queues.get(&chat).is_some_and(|q| !q.is_empty()) {
        state.ready.push_back(chat);
    }
}

fn start_ready(myself: &ActorRef<OutboundMsg>, state: &mut OutboundState) {
    while state.in_flight < MAX_IN_FLIGHT {
        let Some(chat) = state.ready.pop_front() else {
            return;
        };
        if state.busy.contains(&chat) {
            continue;
        }
        let Some(queue) = state.queues.get_mut(&chat) else {
            continue;
        };
        let Some(message) = queue.pop_front() else {
            continue;
        };
        if queue.is_empty() {
            state.queues.remove(&chat);
        }
        state.busy.insert(chat);
        state.in_flight += 1;
        spawn_send(myself, state.sender.clone(), message);
    }
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

/// 1 s, 2 s, 4 s … capped at 5 minutes.
fn backoff(attempt: i32) -> Duration {
    Duration::from_secs(1u64 << attempt.clamp(0, 8)).min(Duration::from_secs(300))
}
