//! The Store actor: the only writer to the database.
//!
//! Writes queue in its mailbox. The first write into an empty buffer schedules a `Flush` behind
//! whatever is already queued, so under load every flush carries all the writes that arrived
//! while the previous transaction ran — many writes, one transaction — and when idle a write is
//! flushed at once, with no timer. Each caller waits for its own result: after the reply, the
//! write is durable.

use crate::store::{Store, StoreError, WriteOp, WriteOutcome};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::sync::Arc;

/// The most writes one transaction carries.
const MAX_BATCH: usize = 512;

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
    buffer: Vec<(WriteOp, RpcReplyPort<Result<WriteOutcome, StoreError>>)>,
    flush_queued: bool,
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
            buffer: Vec::new(),
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
                state.buffer.push((op, reply));
                if state.buffer.len() >= MAX_BATCH {
                    flush(state).await;
                } else if !state.flush_queued {
                    state.flush_queued = true;
                    myself.send_message(StoreWriterMsg::Flush)?;
                }
            }
            StoreWriterMsg::Flush => {
                state.flush_queued = false;
                flush(state).await;
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        flush(state).await;
        Ok(())
    }
}

async fn flush(state: &mut StoreWriterState) {
    if state.buffer.is_empty() {
        return;
    }
    let (ops, replies): (Vec<_>, Vec<_>) = std::mem::take(&mut state.buffer).into_iter().unzip();
    let started = std::time::Instant::now();
    let count = ops.len();
    let results = state.store.write_batch(ops).await;
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
