//! The Store actor: the only writer to the database.
//!
//! Writes queue in its mailbox. The first write into an empty buffer schedules a `Flush` behind
//! whatever is already queued, so under load every flush carries the writes that arrived while
//! the previous transaction ran — many writes, one transaction — and when idle a write is
//! flushed at once, with no timer. Each caller waits for its own result: after the reply, the
//! write is durable.
//!
//! Received messages go first: a webhook answers its sender only once the message is stored, so
//! every transaction carries all the inbox inserts buffered, and at most [`MAX_BATCH`] other
//! writes, with a look at the mailbox between two; a burst of turn commits never holds a
//! webhook's answer for more than one transaction.

use crate::store::{Store, StoreError, WriteOp, WriteOutcome};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::sync::Arc;

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
    type Arguments = Arc<dyn Store>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        store: Arc<dyn Store>,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(StoreWriterState {
            store,
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
        Ok(())
    }
}

/// Commits, in one transaction, the buffered inbox inserts first and up to [`MAX_BATCH`] of the
/// other writes after them.
async fn flush_some(state: &mut StoreWriterState) {
    let take = state.rest.len().min(MAX_BATCH);
    let mut batch = std::mem::take(&mut state.inbound);
    batch.extend(state.rest.drain(..take));
    if !batch.is_empty() {
        commit(&state.store, batch).await;
    }
}

async fn commit(store: &Arc<dyn Store>, batch: Vec<Pending>) {
    let (ops, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let started = std::time::Instant::now();
    let count = ops.len();
    let results = store.write_batch(ops).await;
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
}

impl StoreHandle {
    pub fn new(store: Arc<dyn Store>, writer: ActorRef<StoreWriterMsg>) -> Self {
        Self { store, writer }
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
