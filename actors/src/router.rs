//! The Router actor: routes each stored inbound message to its chat's Conversation
//! actor (spawning it on the first message), supervises them, restarts a failed one and
//! redelivers what it had not finished, and stops idle ones (passivation).

use crate::conversation::{Conversation, ConversationArgs, ConversationDeps};
use crate::messages::{ConversationMsg, ManageError, RouterMsg, RouterStats, masked};
use crate::store::InboxMessage;
use dialogs::ChatKey;
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many times a message may take its conversation down (a permanent failure: a panic, a
/// template error; outages are waited out inside the Conversation and never count) before it
/// is parked as failed.
const MAX_FAILURES: u32 = 2;

pub struct Router;

pub struct RouterArgs {
    /// What each conversation it spawns takes.
    pub conversations: Arc<ConversationDeps>,
    /// A conversation with nothing to do for this long is stopped; its state is in the store.
    pub idle_after: Duration,
}

struct Live {
    actor: ActorRef<ConversationMsg>,
    /// Delivered, not finished, in order. The front is the message in hand.
    pending: VecDeque<InboxMessage>,
    last_active: Instant,
}

pub struct RouterState {
    conversations: Arc<ConversationDeps>,
    idle_after: Duration,
    live: HashMap<ChatKey, Live>,
    by_actor: HashMap<ActorId, ChatKey>,
    /// Failures per inbox id, for the retry-once rule.
    failures: HashMap<i64, u32>,
    parked: u64,
    shutting_down: bool,
}

impl Actor for Router {
    type Msg = RouterMsg;
    type State = RouterState;
    type Arguments = RouterArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: RouterArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let tick = (args.idle_after / 4).clamp(Duration::from_millis(10), Duration::from_secs(60));
        myself.send_interval(tick, || RouterMsg::Passivate {
            idle_for: None,
            reply: None,
        });
        Ok(RouterState {
            conversations: args.conversations,
            idle_after: args.idle_after,
            live: HashMap::new(),
            by_actor: HashMap::new(),
            failures: HashMap::new(),
            parked: 0,
            shutting_down: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RouterMsg::Deliver(message) => {
                if state.shutting_down {
                    // Stays pending in the inbox; replayed at the next start.
                    return Ok(());
                }
                let key = message.inbound.key.clone();
                let live = live_conversation(&myself, state, &key).await?;
                live.pending.push_back(message.clone());
                live.last_active = Instant::now();
                // If the actor just died, the message stays pending and is redelivered when
                // its failure is handled.
                let _ = live.actor.cast(ConversationMsg::Handle(message));
            }
            RouterMsg::Manage {
                key,
                action,
                by,
                reply,
            } => {
                if state.shutting_down {
                    let _ = reply.send(Err(ManageError::ShuttingDown));
                    return Ok(());
                }
                let live = live_conversation(&myself, state, &key).await?;
                live.last_active = Instant::now();
                let _ = live.actor.cast(ConversationMsg::Manage {
                    action,
                    by,
                    reply: Some(reply),
                });
            }
            RouterMsg::Done { key, inbox_id } => {
                if let Some(live) = state.live.get_mut(&key) {
                    if live.pending.front().is_some_and(|m| m.id == inbox_id) {
                        live.pending.pop_front();
                    }
                    live.last_active = Instant::now();
                }
                state.failures.remove(&inbox_id);
            }
            RouterMsg::Passivate { idle_for, reply } => {
                let idle_after = idle_for.unwrap_or(state.idle_after);
                let idle: Vec<ChatKey> = state
                    .live
                    .iter()
                    .filter(|(_, l)| l.pending.is_empty() && l.last_active.elapsed() >= idle_after)
                    .map(|(k, _)| k.clone())
                    .collect();
                let mut stopped = Vec::with_capacity(idle.len());
                for key in idle {
                    if let Some(live) = state.live.remove(&key) {
                        state.by_actor.remove(&live.actor.get_id());
                        live.actor.stop(Some("idle".into()));
                        stopped.push(live.actor);
                    }
                }
                if let Some(reply) = reply {
                    for actor in &stopped {
                        actor.wait(None).await.ok();
                    }
                    let _ = reply.send(stopped.len());
                }
            }
            RouterMsg::Stats(reply) => {
                let _ = reply.send(RouterStats {
                    live: state.live.len(),
                    in_flight: state.live.values().map(|l| l.pending.len()).sum(),
                    parked: state.parked,
                });
            }
            RouterMsg::Shutdown(reply) => {
                state.shutting_down = true;
                let actors: Vec<_> = state.live.drain().map(|(_, l)| l.actor).collect();
                state.by_actor.clear();
                // `stop` lets the message in hand finish; queued ones stay pending in the inbox.
                futures::future::join_all(
                    actors
                        .iter()
                        .map(|a| a.stop_and_wait(Some("shutdown".into()), None)),
                )
                .await;
                let _ = reply.send(());
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, error) = match event {
            SupervisionEvent::ActorFailed(cell, error) => (cell, Some(error.to_string())),
            SupervisionEvent::ActorTerminated(cell, _, _) => (cell, None),
            _ => return Ok(()),
        };
        let Some(key) = state.by_actor.remove(&cell.get_id()) else {
            return Ok(()); // passivated or shut down: nothing pending
        };
        let Some(mut live) = state.live.remove(&key) else {
            return Ok(());
        };
        let mut parked = None;
        if let Some(error) = &error
            && let Some(failed) = live.pending.front()
        {
            let count = state.failures.entry(failed.id).or_insert(0);
            *count += 1;
            tracing::error!(conversation = %masked(&key), inbox_id = failed.id, attempt = *count,
                %error, "conversation failed while handling a message");
            if *count >= MAX_FAILURES {
                let failed = live.pending.pop_front().expect("front exists");
                state.failures.remove(&failed.id);
                state.parked += 1;
                tracing::error!(conversation = %masked(&key), inbox_id = failed.id,
                    "message failed {MAX_FAILURES} times: parking it");
                parked = Some((failed, error.clone()));
            }
        }
        if state.shutting_down {
            return Ok(());
        }
        if let Some((failed, error)) = parked {
            // The fresh actor parks it first (the apology and the escalation, once), then
            // goes on with the messages after it.
            let actor = spawn_conversation(&myself, state, &key).await?;
            let _ = actor.cast(ConversationMsg::Park {
                message: failed,
                error,
            });
            for message in &live.pending {
                let _ = actor.cast(ConversationMsg::Handle(message.clone()));
            }
            live.actor = actor;
            live.last_active = Instant::now();
            state.live.insert(key, live);
            return Ok(());
        }
        if live.pending.is_empty() {
            return Ok(());
        }
        // Restart from the stored state and redeliver, in order, what was not finished.
        let actor = spawn_conversation(&myself, state, &key).await?;
        for message in &live.pending {
            let _ = actor.cast(ConversationMsg::Handle(message.clone()));
        }
        live.actor = actor;
        state.live.insert(key, live);
        Ok(())
    }
}

/// The chat's live conversation, spawned (and linked to the router) when it has none.
async fn live_conversation<'a>(
    myself: &ActorRef<RouterMsg>,
    state: &'a mut RouterState,
    key: &ChatKey,
) -> Result<&'a mut Live, ActorProcessingErr> {
    if !state.live.contains_key(key) {
        let actor = spawn_conversation(myself, state, key).await?;
        state.live.insert(
            key.clone(),
            Live {
                actor,
                pending: VecDeque::new(),
                last_active: Instant::now(),
            },
        );
    }
    Ok(state.live.get_mut(key).expect("inserted above"))
}

async fn spawn_conversation(
    myself: &ActorRef<RouterMsg>,
    state: &mut RouterState,
    key: &ChatKey,
) -> Result<ActorRef<ConversationMsg>, ActorProcessingErr> {
    let (actor, _) = Actor::spawn_linked(
        None,
        Conversation,
        ConversationArgs {
            key: key.clone(),
            deps: state.conversations.clone(),
            router: myself.clone(),
        },
        myself.get_cell(),
    )
    .await?;
    state.by_actor.insert(actor.get_id(), key.clone());
    Ok(actor)
}
