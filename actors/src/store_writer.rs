//! The Store actor: the only writer to the database.
//!
//! Writes queue in its mailbox. The first write into an empty buffer schedules a `Flush` behind
//! whatever is already queued, so under load every flush carries the writes that arrived while
//! the previous transaction ran — many writes, one transaction — and when idle a write is
//! flushed at once, with no timer. Each caller waits for its own result: after the reply, the
//! write is durable.
//!
//! While the database is away (a write failed transiently: it does not answer, the disk is
//! full, it is read-only), writes fail at once with [`StoreError::Unavailable`] instead of each
//! waiting for the pool's timeout: webhooks answer 503 promptly and conversations wait and
//! retry. A probe pings the database every [`PROBE_EVERY`] meanwhile, and the first write or
//! ping that succeeds ends the outage; [`Availability`] tells `/ready`, `/admin/status` and
//! `/metrics`.
//!
//! Received messages go first: a webhook answers its sender only once the message is stored, so
//! every transaction carries all the inbox inserts buffered, and at most [`MAX_BATCH`] other
//! writes, with a look at the mailbox between two; a burst of turn commits never holds a
//! webhook's answer for more than one transaction.

use crate::store::{Store, StoreError, WriteOp, WriteOutcome};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the database is pinged while it is away.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// How long one batch of writes may take before it counts as failed by an outage.
const WRITE_LIMIT: Duration = Duration::from_secs(30);

/// How long one probe may take before it counts as "still away".
const PROBE_LIMIT: Duration = Duration::from_secs(3);

/// Whether the database is taking writes, as the Store actor last found. Shared by the
/// writer, its probe and whoever reports on it.
#[derive(Debug, Default)]
pub struct Availability {
    outage: Mutex<Option<Outage>>,
    /// When an outage was last reported in the log: a full disk makes outages come and go
    /// every second (the ping answers, the next write fails), and one line a minute is enough.
    reported: Mutex<Option<Instant>>,
}

/// At most one "unavailable" / "available again" pair per this long in the log.
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// The database has been away since `since`, because of `reason`.
#[derive(Debug, Clone)]
pub struct Outage {
    pub since: Instant,
    pub reason: String,
    /// Whether its start went to the log (so its end does too).
    reported: bool,
}

impl Availability {
    /// The current outage, if any.
    pub fn outage(&self) -> Option<Outage> {
        self.outage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn is_up(&self) -> bool {
        self.outage().is_none()
    }

    /// Whether this change of state goes to the log (see [`REPORT_EVERY`]).
    fn report(&self) -> bool {
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        if reported.is_some_and(|at| at.elapsed() < REPORT_EVERY) {
            return false;
        }
        *reported = Some(Instant::now());
        true
    }

    fn down(&self, reason: &StoreError) {
        let mut outage = self.outage.lock().unwrap_or_else(|e| e.into_inner());
        if outage.is_none() {
            let reported = self.report();
            if reported {
                tracing::error!(error = %reason,
                    "database unavailable: writes wait (webhooks answer 503) until it answers");
            } else {
                tracing::debug!(error = %reason, "database unavailable again");
            }
            *outage = Some(Outage {
                since: Instant::now(),
                reason: reason.to_string(),
                reported,
            });
        }
    }

    fn up(&self) {
        if let Some(outage) = self.outage.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let after_ms = outage.since.elapsed().as_millis() as u64;
            if outage.reported {
                tracing::info!(after_ms, "database available again");
            } else {
                tracing::debug!(after_ms, "database available again");
            }
        }
    }
}

/// What the Store actor starts with.
pub struct StoreWriterArgs {
    pub store: Arc<dyn Store>,
    pub availability: Arc<Availability>,
}

/// The most writes one transaction carries (a batch of 128 turn commits takes about 10 ms on
/// SQLite here).
const MAX_BATCH: usize = 128;

type Pending = (WriteOp, RpcReplyPort<Result<WriteOutcome, StoreError>>);

// `Flush` is a bare signal; boxing every write to shrink it would cost an allocation per write.
#[allow(clippy::large_enum_variant)]
pub enum StoreWriterMsg {
    /// Apply a write; the reply comes once it is committed (or failed).
    Write(WriteOp, RpcReplyPort<Result<WriteOutcome, StoreError>>),
    /// Commit everything buffered.
    Flush,
}

pub struct StoreWriter;

pub struct StoreWriterState {
    store: Arc<dyn Store>,
    availability: Arc<Availability>,
    /// Pings the database while it is away; stopped with the actor.
    probe: tokio::task::JoinHandle<()>,
    /// Received messages, waiting for their webhooks' answers.
    inbound: Vec<Pending>,
    /// Every other write, in the order they came.
    rest: std::collections::VecDeque<Pending>,
    flush_queued: bool,
}

impl StoreWriterState {
    fn has_pending(&self) -> bool {
        !(self.inbound.is_empty() && self.rest.is_empty())
    }
}

impl Actor for StoreWriter {
    type Msg = StoreWriterMsg;
    type State = StoreWriterState;
    type Arguments = StoreWriterArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: StoreWriterArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let probe = tokio::spawn(probe(args.store.clone(), args.availability.clone()));
        Ok(StoreWriterState {
            store: args.store,
            availability: args.availability,
            probe,
            inbound: Vec::new(),
            rest: Default::default(),
            flush_queued: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            StoreWriterMsg::Write(op, reply) => {
                if matches!(op, WriteOp::InsertInbound(_)) {
                    state.inbound.push((op, reply));
                } else {
                    state.rest.push_back((op, reply));
                }
                if state.inbound.len() + state.rest.len() >= MAX_BATCH {
                    flush_some(state).await;
                }
                if !state.flush_queued && state.has_pending() {
                    state.flush_queued = true;
                    myself.send_message(StoreWriterMsg::Flush)?;
                }
            }
            StoreWriterMsg::Flush => {
                state.flush_queued = false;
                flush_some(state).await;
                // More left: look at the mailbox (new inbox inserts go first) before the rest.
                if state.has_pending() {
                    state.flush_queued = true;
                    myself.send_message(StoreWriterMsg::Flush)?;
                }
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        while state.has_pending() {
            flush_some(state).await;
        }
        state.probe.abort();
        Ok(())
    }
}

/// While the database is away, pings it every [`PROBE_EVERY`]; the first answer ends the
/// outage.
async fn probe(store: Arc<dyn Store>, availability: Arc<Availability>) {
    let mut every = tokio::time::interval(PROBE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if availability.is_up() {
            continue;
        }
        if let Ok(Ok(())) = tokio::time::timeout(PROBE_LIMIT, store.ping()).await {
            availability.up();
        }
    }
}

/// Commits, in one transaction, the buffered inbox inserts first and up to [`MAX_BATCH`] of the
/// other writes after them.
async fn flush_some(state: &mut StoreWriterState) {
    let take = state.rest.len().min(MAX_BATCH);
    let mut batch = std::mem::take(&mut state.inbound);
    batch.extend(state.rest.drain(..take));
    if !batch.is_empty() {
        commit(state, batch).await;
    }
}

async fn commit(state: &StoreWriterState, batch: Vec<Pending>) {
    let (ops, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    if let Some(outage) = state.availability.outage() {
        // Known to be away: fail at once (the probe ends the outage).
        for reply in replies {
            let _ = reply.send(Err(StoreError::Unavailable(outage.reason.clone())));
        }
        return;
    }
    let started = std::time::Instant::now();
    let count = ops.len();
    // A database that stops answering without closing the connection (a network that drops
    // packets) would hold the only writer, and every webhook behind it, for the kernel's TCP
    // timeout: past WRITE_LIMIT the batch counts as failed by an outage. Its outcome is then
    // unknown, which every write tolerates: an unacknowledged message is delivered again
    // (and recognised), a turn commit is retried and finds itself handled.
    let results = match tokio::time::timeout(WRITE_LIMIT, state.store.write_batch(ops)).await {
        Ok(results) => results,
        Err(_) => (0..count)
            .map(|_| {
                Err(StoreError::Unavailable(format!(
                    "no answer to a write within {} s",
                    WRITE_LIMIT.as_secs()
                )))
            })
            .collect(),
    };
    match results.iter().find_map(|r| r.as_ref().err()) {
        Some(e) if e.is_transient() => state.availability.down(e),
        Some(_) => {}
        None => state.availability.up(),
    }
    tracing::debug!(
        writes = count,
        elapsed_us = started.elapsed().as_micros() as u64,
        "batch committed"
    );
    for (reply, result) in replies.into_iter().zip(results) {
        // A caller that gave up waiting is no reason to fail the others.
        let _ = reply.send(result);
    }
}

/// How the rest of the engine reaches the store: reads straight from the database, writes
/// through the Store actor.
#[derive(Clone)]
pub struct StoreHandle {
    pub store: Arc<dyn Store>,
    writer: ActorRef<StoreWriterMsg>,
    /// Whether the database takes writes now (see [`Availability`]).
    pub availability: Arc<Availability>,
}

impl StoreHandle {
    pub fn new(
        store: Arc<dyn Store>,
        writer: ActorRef<StoreWriterMsg>,
        availability: Arc<Availability>,
    ) -> Self {
        Self {
            store,
            writer,
            availability,
        }
    }

    /// Applies one write and waits until it is committed.
    pub async fn write(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        match self
            .writer
            .call(|reply| StoreWriterMsg::Write(op, reply), None)
            .await
        {
            Ok(ractor::rpc::CallResult::Success(result)) => result,
            _ => Err(StoreError::WriterGone),
        }
    }

    /// Queues a write without waiting for it (delivery receipts and the like). The write is in
    /// the writer's mailbox when this returns, so a graceful shutdown (which drains the writer)
    /// commits it; a failure is logged.
    pub fn write_in_background(&self, op: WriteOp) {
        let (tx, rx) = ractor::concurrency::oneshot();
        if self
            .writer
            .cast(StoreWriterMsg::Write(op, tx.into()))
            .is_err()
        {
            tracing::error!("store writer stopped; a background write is lost");
            return;
        }
        tokio::spawn(async move {
            if let Ok(Err(e)) = rx.await {
                tracing::error!(error = %e, "background write failed");
            }
        });
    }
}
