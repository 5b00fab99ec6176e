//! The Engine: the root supervisor of the actor tree and the handle the rest of the program
//! holds (webhooks, the console, tests).
//!
//! ```text
//! Root (supervisor)            on a child's stop:
//! ├── StoreWriter              stops the engine (the process restarts and replays)
//! ├── Router                   restarted; replays the pending inbox
//! │   └── Conversation × chat  (the router's: restarted, the message redelivered)
//! ├── Outbound × channel       restarted; resends the channel's unsent outbox
//! ├── Crm                      restarted (when Bitrix24 is configured)
//! ├── Escalations              restarted (when managers' notifications are configured)
//! ├── Llm                      restarted, same client and prompts (when a model is configured)
//! └── Tours                    restarted, same client and caches (when SAMO is configured)
//! ```
//!
//! Root keeps a typed reference to each child ([`Children`]) and matches each supervision
//! event to the child it is about ([`Child`]). Each child gets its own arguments, only what
//! it uses: the writer the store; the router what its conversations take
//! ([`ConversationDeps`]) and the idle period; a channel actor its sender, the store, the
//! integrations board and the outbox settings; Crm and Escalations their settings and the
//! store. The few things truly shared (the start and stop flags, the current channel actors,
//! the turns waiting out an outage) are in [`crate::context`]; the [`Engine`] handle reads
//! them, with the store, from Root's [`Parts`].
//!
//! Start-up replays every unhandled inbox row and sends every unsent outbox row before the
//! engine takes a new message: nothing stored is lost, nothing handled is answered twice.
//! [`Engine::start_waiting`] does not need the database to be there: until it answers (and
//! the replay is done) new messages are refused and the engine is not started.

use crate::clock::Clock;
use crate::context::{ChannelActors, Lifecycle, Waiting, WaitingSummary};
use crate::conversation::ConversationDeps;
use crate::crm::{Crm, CrmArgs, CrmMsg, CrmSettings};
use crate::escalations::{Escalations, EscalationsArgs, EscalationsMsg, EscalationsSettings};
use crate::llm::LlmHandle;
use crate::messages::{ManageError, Manager, ManagerAction, RouterMsg, RouterStats};
use crate::outbound::{Outbound, OutboundArgs, OutboundMsg, OutboxBoard, OutboxSettings};
use crate::router::{Router, RouterArgs};
use crate::status::Integrations;
use crate::store::{
    InboxMessage, NewInbound, OutboxMessage, OutboxStatus, Store, StoreError, WriteOp, WriteOutcome,
};
use crate::store_writer::{
    Availability, StoreHandle, StoreWriter, StoreWriterArgs, StoreWriterMsg,
};
use crate::tours::ToursHandle;
use crate::turns::TurnHandler;
use channels::Sender;
use dialogs::handover::Desk;
use dialogs::{Channel, ChatKey, Owner};
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Settings of the actor tree.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Stop a conversation actor after this long without messages (default 30 min).
    pub idle_after: Duration,
    /// Replay only these channels' unfinished work at start-up (`None`: all). `crystalbay chat`
    /// replays only the console, so it never answers for a running engine on the same database.
    pub recover_channels: Option<Vec<Channel>>,
    /// Messages of one chat arriving within this window of the one before are answered
    /// together, once, at most four windows after the first (default 1.5 s; zero answers each
    /// at once).
    pub burst_window: Duration,
    /// A chat a manager took (or that waits for one) returns to the bot after this long
    /// without manager activity (default 12 h).
    pub handoff_quiet: Duration,
    /// Bitrix24: with settings, the Crm actor syncs the CRM outbox; without, commands wait in
    /// the outbox.
    pub crm: Option<CrmSettings>,
    /// Managers' notifications: with settings, the Escalations actor announces open
    /// escalations and reminds about unclaimed ones.
    pub escalations: Option<EscalationsSettings>,
    /// Where the channel actors record how their sends go (admin status).
    pub integrations: Integrations,
    /// How the channel actors retry, pace and give replies up.
    pub outbox: OutboxSettings,
    /// The Llm actor (when a model is configured): Root supervises and restarts it.
    pub llm: Option<LlmHandle>,
    /// The Tours actor (when SAMO is configured): Root supervises and restarts it.
    pub tours: Option<ToursHandle>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            idle_after: Duration::from_secs(30 * 60),
            recover_channels: None,
            burst_window: Duration::from_millis(1500),
            handoff_quiet: Duration::from_secs(12 * 3600),
            crm: None,
            escalations: None,
            integrations: Integrations::new(),
            outbox: OutboxSettings::default(),
            llm: None,
            tours: None,
        }
    }
}

/// Work to do once the database answers at start-up, before anything is replayed (the
/// application applies the admin-edited prompts and templates).
pub type Prepare =
    Box<dyn Fn() -> futures::future::BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// How long the first contact with the database may take before the engine starts without it.
const FIRST_CONTACT: Duration = Duration::from_secs(2);

/// How often start-up is tried again while the database does not answer.
const STARTUP_RETRY: Duration = Duration::from_secs(1);

/// Errors a caller of the engine can see.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the engine is not running: {0}")]
    Stopped(#[from] NotRunning),
    #[error("could not start the engine: {0}")]
    Start(#[from] StartFailure),
}

/// Why a running engine could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum NotRunning {
    /// The router did not take the message (stopped, or being restarted).
    #[error("the conversation router is gone")]
    RouterGone,
    #[error("the conversation did not answer in time")]
    NoAnswer,
    #[error(transparent)]
    Manage(#[from] ManageError),
    #[error("unexpected outcome of an inbox insert: {0:?}")]
    Unexpected(WriteOutcome),
}

/// Why the engine did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartFailure {
    #[error(transparent)]
    Spawn(#[from] ractor::SpawnErr),
    #[error("root supervisor did not answer")]
    NoAnswer,
    /// The application's preparation (see [`Prepare`]) failed.
    #[error("{0:#}")]
    Prepare(anyhow::Error),
}

/// What became of an accepted message.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// Stored (with this inbox id) and on its way to its conversation.
    New(i64),
    /// Seen before (a redelivery): nothing more happens.
    Duplicate,
}

/// A cheap, cloneable handle to the running engine.
#[derive(Clone)]
pub struct Engine {
    root: ActorRef<RootMsg>,
    parts: Arc<Parts>,
    router: RouterSlot,
}

impl Engine {
    /// Starts the actor tree on `store`, with one sending actor per sender, then replays what
    /// the last run left unfinished.
    pub async fn start(
        store: Arc<dyn Store>,
        senders: Vec<Arc<dyn Sender>>,
        turns: Arc<dyn TurnHandler>,
        settings: EngineSettings,
    ) -> Result<Engine, EngineError> {
        let engine = Self::spawn(store, senders, turns, settings).await?;
        engine.start_up(None).await?;
        Ok(engine)
    }

    /// Like [`Engine::start`], but a database that does not answer yet is waited for: the
    /// engine is returned at once, refuses messages (webhooks answer 503) and is not ready
    /// until the database answers; then it migrates, runs `prepare`, replays the last run's
    /// work and takes messages. A permanent failure of the first attempt (a bad URL, a
    /// migration that fails) is still an error.
    pub async fn start_waiting(
        store: Arc<dyn Store>,
        senders: Vec<Arc<dyn Sender>>,
        turns: Arc<dyn TurnHandler>,
        settings: EngineSettings,
        prepare: Prepare,
    ) -> Result<Engine, EngineError> {
        let engine = Self::spawn(store, senders, turns, settings).await?;
        // The first contact is bounded, so the HTTP server (health, 503s) comes up promptly.
        let first =
            match tokio::time::timeout(FIRST_CONTACT, engine.parts.store.store.prepare()).await {
                Ok(Ok(())) => engine.start_up(Some(&prepare)).await,
                Ok(Err(e)) => Err(EngineError::Store(e)),
                Err(_) => Err(EngineError::Store(StoreError::Unavailable(
                    "no answer at start-up".into(),
                ))),
            };
        match first {
            Ok(()) => return Ok(engine),
            Err(EngineError::Store(e)) if e.is_transient() => {
                tracing::error!(error = %e,
                    "the database does not answer: waiting for it (/ready answers 503)");
            }
            Err(e) => return Err(e),
        }
        let waiting = engine.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(STARTUP_RETRY) => {}
                    _ = waiting.parts.lifecycle.stopped() => return,
                }
                match waiting.start_up(Some(&prepare)).await {
                    Ok(()) => {
                        tracing::info!("the database answers: the engine is ready");
                        return;
                    }
                    Err(e) => tracing::debug!(error = %e, "still waiting for the database"),
                }
            }
        });
        Ok(engine)
    }

    /// Whether the engine has started (the database answered, the last run's work replayed).
    pub fn is_started(&self) -> bool {
        self.parts.lifecycle.is_started()
    }

    /// Migrates, prepares, replays; then takes messages.
    async fn start_up(&self, prepare: Option<&Prepare>) -> Result<(), EngineError> {
        self.parts.store.store.prepare().await?;
        if let Some(prepare) = prepare {
            prepare()
                .await
                .map_err(|e| match e.downcast::<StoreError>() {
                    Ok(store) => EngineError::Store(store),
                    Err(other) => StartFailure::Prepare(other).into(),
                })?;
        }
        self.recover().await?;
        self.parts.lifecycle.mark_started();
        Ok(())
    }

    async fn spawn(
        store: Arc<dyn Store>,
        senders: Vec<Arc<dyn Sender>>,
        turns: Arc<dyn TurnHandler>,
        settings: EngineSettings,
    ) -> Result<Engine, EngineError> {
        let (root, _) = Actor::spawn(
            None,
            Root,
            RootArgs {
                store,
                senders,
                turns,
                settings,
            },
        )
        .await
        .map_err(StartFailure::from)?;
        let (parts, router) = match root.call(RootMsg::Handles, None).await {
            Ok(ractor::rpc::CallResult::Success(h)) => h,
            _ => return Err(StartFailure::NoAnswer.into()),
        };
        Ok(Engine {
            root,
            parts,
            router,
        })
    }

    async fn recover(&self) -> Result<(), EngineError> {
        let (pending, unsent) = self.parts.unfinished().await?;
        if !pending.is_empty() || !unsent.is_empty() {
            tracing::info!(
                inbox = pending.len(),
                outbox = unsent.len(),
                "recovering unfinished work from the last run"
            );
        }
        let router = self.router();
        for message in pending {
            router
                .cast(RouterMsg::Deliver(message))
                .map_err(|_| NotRunning::RouterGone)?;
        }
        self.parts.channels.send_replies(unsent);
        Ok(())
    }

    fn router(&self) -> ActorRef<RouterMsg> {
        self.router
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stores a received message (durably: only then may the channel be acknowledged) and
    /// hands it to its conversation. A redelivered message is recognised and goes no further.
    pub async fn accept(&self, inbound: NewInbound) -> Result<Accepted, EngineError> {
        if !self.is_started() {
            // Nothing may overtake the last run's pending messages: refused until replayed.
            return Err(EngineError::Store(StoreError::Unavailable(
                "the engine is waiting for the database".into(),
            )));
        }
        let inbound = inbound.without_nul();
        match self
            .parts
            .store
            .write(WriteOp::InsertInbound(inbound))
            .await?
        {
            WriteOutcome::Inserted(message) => {
                crate::meters::inbound_message(message.inbound.key.channel);
                let id = message.id;
                // If the router is restarting, the message is still pending in the inbox and
                // the restart replays it.
                let _ = self.router().cast(RouterMsg::Deliver(*message));
                Ok(Accepted::New(id))
            }
            WriteOutcome::Duplicate => Ok(Accepted::Duplicate),
            other => Err(NotRunning::Unexpected(other).into()),
        }
    }

    /// A manager takes, writes to or releases a chat through the admin API. Runs in the chat's
    /// Conversation, in order with its messages. Returns who owns the chat afterwards.
    pub async fn manage(
        &self,
        key: ChatKey,
        action: ManagerAction,
        by: &str,
    ) -> Result<Owner, EngineError> {
        self.manage_from(key, action, by, Desk::AdminApi).await
    }

    /// [`Engine::manage`] from the given desk (the managers' chat, the admin API): while the
    /// manager owns the chat, the customer's messages are relayed to the managers' chat unless
    /// they work through the admin API.
    pub async fn manage_from(
        &self,
        key: ChatKey,
        action: ManagerAction,
        by: &str,
        desk: Desk,
    ) -> Result<Owner, EngineError> {
        let by = Manager {
            name: by.to_owned(),
            desk,
        };
        let msg = |reply| RouterMsg::Manage {
            key,
            action,
            by,
            reply,
        };
        match self.router().call(msg, Some(MANAGE_LIMIT)).await {
            Ok(ractor::rpc::CallResult::Success(Ok(owner))) => Ok(owner),
            Ok(ractor::rpc::CallResult::Success(Err(e))) => Err(NotRunning::Manage(e).into()),
            Ok(_) => Err(NotRunning::NoAnswer.into()),
            Err(_) => Err(NotRunning::RouterGone.into()),
        }
    }

    /// The store (reads) and its writer.
    pub fn store(&self) -> &StoreHandle {
        &self.parts.store
    }

    /// How each integration is doing (admin status).
    pub fn integrations(&self) -> &Integrations {
        &self.parts.integrations
    }

    /// Bitrix24's set-up and calls, and the request to re-read it (when configured).
    pub fn crm(&self) -> Option<&crate::crm::CrmHandle> {
        self.parts.crm.as_ref()
    }

    /// Each channel's outbox: breaker, rate-limit pause, replies waiting (admin status).
    pub fn outbox_board(&self) -> OutboxBoard {
        self.parts.outbox_board.clone()
    }

    /// Admin API: sends reply `id` again. A `failed` one goes back to `pending` and to its
    /// channel, written anew (its deadline counts from now, also after a restart); a `pending`
    /// one waiting for a retry is due now. `false` when the reply is neither (sent, unknown) or
    /// its channel is not served.
    pub async fn retry_reply(&self, id: &str) -> Result<bool, EngineError> {
        let Some(record) = self.parts.store.store.outbox_entry(id).await? else {
            return Ok(false);
        };
        let Some(actor) = self.parts.channels.get(record.message.key.channel) else {
            return Ok(false);
        };
        match record.status {
            OutboxStatus::Failed => {
                let at = crate::store::now();
                let requeue = WriteOp::OutboxRequeue {
                    id: id.to_owned(),
                    at,
                };
                if self.parts.store.write(requeue).await? != WriteOutcome::Done {
                    return Ok(false);
                }
                let mut message = record.message;
                message.created_at = at;
                let _ = actor.cast(OutboundMsg::Send(message));
            }
            OutboxStatus::Pending => {}
            OutboxStatus::Sent | OutboxStatus::Delivered | OutboxStatus::Read => return Ok(false),
        }
        let _ = actor.cast(OutboundMsg::Wake);
        Ok(true)
    }

    /// Admin API: every `failed` reply (at most `limit`, oldest first) goes again, and every
    /// pending one waiting for a retry is due now. Returns how many failed replies went back.
    pub async fn retry_all_replies(&self, limit: i64) -> Result<usize, EngineError> {
        let mut retried = 0;
        for record in self
            .parts
            .store
            .store
            .outbox_list(OutboxStatus::Failed, limit)
            .await?
        {
            if self.retry_reply(&record.message.id).await? {
                retried += 1;
            }
        }
        for (_, actor) in self.parts.channels.all() {
            let _ = actor.cast(OutboundMsg::Wake);
        }
        Ok(retried)
    }

    /// Puts a parked message back to `pending` and hands it to its conversation again (the
    /// admin API's retry). `false` when no such message is parked.
    pub async fn retry_parked(&self, inbox_id: i64) -> Result<bool, EngineError> {
        if !self.is_started() {
            return Err(EngineError::Store(StoreError::Unavailable(
                "the engine is waiting for the database".into(),
            )));
        }
        let outcome = self
            .parts
            .store
            .write(WriteOp::RequeueInbound { id: inbox_id })
            .await?;
        if outcome != WriteOutcome::Done {
            return Ok(false);
        }
        if let Some(record) = self.parts.store.store.inbox_by_id(inbox_id).await? {
            tracing::info!(inbox_id, "parked message queued again");
            // If the router is restarting, the row is pending and the restart replays it.
            let _ = self.router().cast(RouterMsg::Deliver(record.message));
        }
        Ok(true)
    }

    /// The conversations' clock: the system's, unless a test moves it forward (a quiet period
    /// passes without waiting for it).
    pub fn clock(&self) -> &Clock {
        &self.parts.clock
    }

    /// Messages whose turns wait out an outage, and the oldest one's arrival.
    pub fn waiting_on_outage(&self) -> WaitingSummary {
        self.parts.waiting.summary()
    }

    /// Live conversations and messages in flight.
    pub async fn stats(&self) -> RouterStats {
        match self.router().call(RouterMsg::Stats, None).await {
            Ok(ractor::rpc::CallResult::Success(s)) => s,
            _ => RouterStats::default(),
        }
    }

    /// Stops every conversation that has nothing in flight (their state is in the store; the
    /// next message restores it). Returns how many were stopped.
    pub async fn passivate_all(&self) -> usize {
        let msg = |reply| RouterMsg::Passivate {
            idle_for: Some(Duration::ZERO),
            reply: Some(reply),
        };
        match self.router().call(msg, None).await {
            Ok(ractor::rpc::CallResult::Success(n)) => n,
            _ => 0,
        }
    }

    /// Stops taking messages, lets each conversation finish the message in hand, flushes the
    /// store writer, and stops every actor.
    pub async fn shutdown(&self) {
        let _ = self.root.call(RootMsg::Shutdown, None).await;
        let _ = self.root.stop_and_wait(None, None).await;
    }
}

/// How long a manager's action may wait for the conversation (it may be mid-turn, searching).
const MANAGE_LIMIT: Duration = Duration::from_secs(60);

/// How long shutdown waits for sends in flight.
const SEND_DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// The current router; replaced when the root supervisor restarts it.
type RouterSlot = Arc<RwLock<ActorRef<RouterMsg>>>;

/// What the [`Engine`] handle reads: built once by Root, which keeps it too.
struct Parts {
    /// The store (reads) and its writer.
    store: StoreHandle,
    lifecycle: Arc<Lifecycle>,
    /// The current channel actors (Root's children, replaced when restarted).
    channels: ChannelActors,
    waiting: Arc<Waiting>,
    integrations: Integrations,
    crm: Option<crate::crm::CrmHandle>,
    outbox_board: OutboxBoard,
    /// The channels whose unfinished work this engine replays (`None`: all).
    serves: Option<Vec<Channel>>,
    /// The conversations' clock.
    clock: Clock,
}

impl Parts {
    /// Unhandled inbox rows and unsent outbox rows of the channels this engine serves, oldest
    /// first: what a start or a restart of the router or a channel actor must pick up.
    async fn unfinished(&self) -> Result<(Vec<InboxMessage>, Vec<OutboxMessage>), StoreError> {
        let serves = |c: Channel| self.serves.as_ref().is_none_or(|cs| cs.contains(&c));
        let mut pending = self.store.store.pending_inbox().await?;
        pending.retain(|m| serves(m.inbound.key.channel));
        let mut unsent = self.store.store.unsent_outbox().await?;
        unsent.retain(|m| serves(m.key.channel));
        Ok((pending, unsent))
    }
}

enum RootMsg {
    Handles(RpcReplyPort<(Arc<Parts>, RouterSlot)>),
    Shutdown(RpcReplyPort<()>),
}

struct Root;

struct RootArgs {
    store: Arc<dyn Store>,
    senders: Vec<Arc<dyn Sender>>,
    turns: Arc<dyn TurnHandler>,
    settings: EngineSettings,
}

struct RootState {
    parts: Arc<Parts>,
    /// What the router hands each conversation (kept for a restarted router).
    conversations: Arc<ConversationDeps>,
    children: Children,
    senders: HashMap<Channel, Arc<dyn Sender>>,
    settings: EngineSettings,
    shutting_down: bool,
}

/// Root's children, each by its own type.
struct Children {
    writer: ActorRef<StoreWriterMsg>,
    router: RouterSlot,
    /// The channel actors (shared with the conversations, which send to them).
    outbound: ChannelActors,
    crm: Option<ActorRef<CrmMsg>>,
    escalations: Option<ActorRef<EscalationsMsg>>,
    llm: Option<LlmHandle>,
    tours: Option<ToursHandle>,
}

/// Which of Root's children a supervision event is about.
enum Child {
    Writer,
    Router,
    Crm,
    Escalations,
    Outbound(Channel),
    Llm,
    Tours,
}

impl Children {
    fn child(&self, id: ActorId) -> Option<Child> {
        let is = |actor: Option<ActorId>| actor == Some(id);
        let router = self
            .router
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get_id();
        if is(Some(self.writer.get_id())) {
            Some(Child::Writer)
        } else if is(Some(router)) {
            Some(Child::Router)
        } else if is(self.crm.as_ref().map(|a| a.get_id())) {
            Some(Child::Crm)
        } else if is(self.escalations.as_ref().map(|a| a.get_id())) {
            Some(Child::Escalations)
        } else if is(self.llm.as_ref().map(|l| l.actor().get_id())) {
            Some(Child::Llm)
        } else if is(self.tours.as_ref().map(|t| t.actor().get_id())) {
            Some(Child::Tours)
        } else {
            self.outbound
                .all()
                .into_iter()
                .find(|(_, a)| a.get_id() == id)
                .map(|(channel, _)| Child::Outbound(channel))
        }
    }
}

impl Actor for Root {
    type Msg = RootMsg;
    type State = RootState;
    type Arguments = RootArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: RootArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let availability = Arc::new(Availability::default());
        let (writer, _) = Actor::spawn_linked(
            None,
            StoreWriter,
            StoreWriterArgs {
                store: args.store.clone(),
                availability: availability.clone(),
            },
            myself.get_cell(),
        )
        .await?;
        let settings = args.settings;
        let parts = Arc::new(Parts {
            store: StoreHandle::new(args.store, writer.clone(), availability),
            lifecycle: Arc::new(Lifecycle::default()),
            channels: ChannelActors::default(),
            waiting: Arc::new(Waiting::default()),
            integrations: settings.integrations.clone(),
            crm: settings.crm.as_ref().map(|c| c.handle.clone()),
            outbox_board: settings.outbox.board.clone(),
            serves: settings.recover_channels.clone(),
            clock: Clock::default(),
        });
        let conversations = Arc::new(ConversationDeps {
            store: parts.store.clone(),
            turns: args.turns,
            channels: parts.channels.clone(),
            burst_window: settings.burst_window,
            handoff_quiet: settings.handoff_quiet,
            waiting: parts.waiting.clone(),
            lifecycle: parts.lifecycle.clone(),
            clock: parts.clock.clone(),
        });
        let senders: HashMap<Channel, Arc<dyn Sender>> =
            args.senders.into_iter().map(|s| (s.channel(), s)).collect();
        for sender in senders.values() {
            spawn_outbound(&myself, &parts, &settings.outbox, sender.clone()).await?;
        }
        let router = spawn_router(&myself, &conversations, settings.idle_after).await?;
        let crm = match &settings.crm {
            Some(crm) => Some(spawn_crm(&myself, &parts, &settings, crm.clone()).await?),
            None => None,
        };
        let escalations = match &settings.escalations {
            Some(e) => Some(spawn_escalations(&myself, &parts.store, e.clone()).await?),
            None => None,
        };
        // Started before the engine (the turn handler holds their handles): adopted here.
        if let Some(llm) = &settings.llm {
            llm.supervise(myself.get_cell());
        }
        if let Some(tours) = &settings.tours {
            tours.supervise(myself.get_cell());
        }
        Ok(RootState {
            children: Children {
                writer,
                router: Arc::new(RwLock::new(router)),
                outbound: parts.channels.clone(),
                crm,
                escalations,
                llm: settings.llm.clone(),
                tours: settings.tours.clone(),
            },
            parts,
            conversations,
            senders,
            settings,
            shutting_down: false,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RootMsg::Handles(reply) => {
                let _ = reply.send((state.parts.clone(), state.children.router.clone()));
            }
            RootMsg::Shutdown(reply) => {
                state.shutting_down = true;
                state.parts.lifecycle.stop();
                let router = state
                    .children
                    .router
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                let _ = router.call(RouterMsg::Shutdown, None).await;
                let _ = router.stop_and_wait(None, None).await;
                for actor in state.children.outbound.take_all() {
                    // Let sends in flight report (so what the channel accepted is recorded as
                    // sent), but not for ever: a send still hanging is resent with the same
                    // idempotency key at the next start.
                    let _ = actor.call(OutboundMsg::Drain, Some(SEND_DRAIN_LIMIT)).await;
                    let _ = actor.stop_and_wait(None, None).await;
                }
                if let Some(escalations) = state.children.escalations.take() {
                    let _ = escalations.stop_and_wait(None, None).await;
                }
                if let Some(crm) = state.children.crm.take() {
                    // Let Bitrix24 calls in flight finish and record their ids (a call cut off
                    // is looked for before anything is created again at the next start).
                    let _ = crm.call(CrmMsg::Drain, Some(SEND_DRAIN_LIMIT)).await;
                    let _ = crm.stop_and_wait(None, None).await;
                }
                // No conversation asks them any more; calls under way still get their answers.
                if let Some(llm) = state.children.llm.take() {
                    llm.stop();
                }
                if let Some(tours) = state.children.tours.take() {
                    tours.actor().stop(None);
                }
                // Drain: every write already queued is committed before the writer stops.
                let _ = state.children.writer.drain_and_wait(None).await;
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
        let (cell, reason) = match event {
            SupervisionEvent::ActorFailed(cell, e) => (cell, e.to_string()),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, reason.unwrap_or_else(|| "stopped".into()))
            }
            _ => return Ok(()),
        };
        if state.shutting_down {
            return Ok(());
        }
        let Some(child) = state.children.child(cell.get_id()) else {
            return Ok(());
        };
        let root = myself.get_cell();
        match child {
            Child::Writer => {
                // Without its only writer the engine cannot keep any promise: stop, and let
                // the service manager restart the process (which replays everything).
                tracing::error!(%reason, "store writer stopped; stopping the engine");
                myself.stop(Some(format!("store writer stopped: {reason}")));
            }
            Child::Router => {
                tracing::error!(%reason, "conversation router stopped; restarting it");
                let router =
                    spawn_router(&myself, &state.conversations, state.settings.idle_after).await?;
                *state
                    .children
                    .router
                    .write()
                    .unwrap_or_else(|e| e.into_inner()) = router.clone();
                for message in state.parts.unfinished().await?.0 {
                    let _ = router.cast(RouterMsg::Deliver(message));
                }
            }
            Child::Escalations => {
                if let Some(settings) = state.settings.escalations.clone() {
                    tracing::error!(%reason, "escalations actor stopped; restarting it");
                    let actor = spawn_escalations(&myself, &state.parts.store, settings).await?;
                    state.children.escalations = Some(actor);
                }
            }
            Child::Crm => {
                if let Some(settings) = state.settings.crm.clone() {
                    tracing::error!(%reason, "CRM actor stopped; restarting it");
                    let actor = spawn_crm(&myself, &state.parts, &state.settings, settings).await?;
                    state.children.crm = Some(actor);
                }
            }
            Child::Outbound(channel) => {
                if let Some(sender) = state.senders.get(&channel).cloned() {
                    tracing::error!(%channel, %reason, "channel actor stopped; restarting it");
                    spawn_outbound(&myself, &state.parts, &state.settings.outbox, sender).await?;
                    let unsent = state.parts.unfinished().await?.1;
                    state.parts.channels.send_replies(
                        unsent
                            .into_iter()
                            .filter(|m| m.key.channel == channel)
                            .collect(),
                    );
                }
            }
            Child::Llm => {
                if let Some(llm) = &state.children.llm {
                    tracing::error!(%reason, "LLM actor stopped; restarting it");
                    llm.restart(root).await?;
                }
            }
            Child::Tours => {
                if let Some(tours) = &state.children.tours {
                    tracing::error!(%reason, "Tours actor stopped; restarting it");
                    tours.restart(root).await?;
                }
            }
        }
        Ok(())
    }
}

/// Spawns (or restarts) the actor sending on `sender`'s channel and makes it the channel's.
async fn spawn_outbound(
    root: &ActorRef<RootMsg>,
    parts: &Parts,
    outbox: &OutboxSettings,
    sender: Arc<dyn Sender>,
) -> Result<(), ActorProcessingErr> {
    let channel = sender.channel();
    let (actor, _) = Actor::spawn_linked(
        None,
        Outbound,
        OutboundArgs {
            sender,
            store: parts.store.clone(),
            integrations: parts.integrations.clone(),
            settings: outbox.clone(),
        },
        root.get_cell(),
    )
    .await?;
    parts.channels.set(channel, actor);
    Ok(())
}

async fn spawn_router(
    root: &ActorRef<RootMsg>,
    conversations: &Arc<ConversationDeps>,
    idle_after: Duration,
) -> Result<ActorRef<RouterMsg>, ActorProcessingErr> {
    let (router, _) = Actor::spawn_linked(
        None,
        Router,
        RouterArgs {
            conversations: conversations.clone(),
            idle_after,
        },
        root.get_cell(),
    )
    .await?;
    Ok(router)
}

async fn spawn_escalations(
    root: &ActorRef<RootMsg>,
    store: &StoreHandle,
    settings: EscalationsSettings,
) -> Result<ActorRef<EscalationsMsg>, ActorProcessingErr> {
    let (actor, _) = Actor::spawn_linked(
        None,
        Escalations,
        EscalationsArgs {
            settings,
            store: store.clone(),
        },
        root.get_cell(),
    )
    .await?;
    Ok(actor)
}

async fn spawn_crm(
    root: &ActorRef<RootMsg>,
    parts: &Parts,
    engine: &EngineSettings,
    settings: CrmSettings,
) -> Result<ActorRef<CrmMsg>, ActorProcessingErr> {
    let (crm, _) = Actor::spawn_linked(
        None,
        Crm,
        CrmArgs {
            settings,
            store: parts.store.clone(),
            integrations: parts.integrations.clone(),
            // Set-up problems are told where escalations are.
            notifiers: engine
                .escalations
                .as_ref()
                .map(|e| e.notifiers.clone())
                .unwrap_or_default(),
        },
        root.get_cell(),
    )
    .await?;
    Ok(crm)
}
