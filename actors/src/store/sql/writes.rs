//! Writes, for the backend this module is compiled for: a batch of [`WriteOp`]s in one
//! transaction (and, when it fails, each alone), dispatched to one function per family of
//! writes. The frequent families — inbound messages, turns, sent replies — take every write
//! of their kind in the batch with one statement per [`cacheable_chunks`] chunk; the rare ones
//! are one statement each.

use super::{Conn, Db, MAX_ROWS, MAX_WIDE_ROWS};
use crate::store::statements::*;
use crate::store::*;
use chrono::{DateTime, SubsecRound, Utc};
use dialogs::Owner;
use dialogs::crm::{CrmCommand, LeadSnapshot, NewCrmCommand};
use dialogs::handover::{Desk, Urgency};
use dialogs::turn::EscalationDetails;
use sqlx::types::Json;
use sqlx::{Acquire, QueryBuilder, Row};
use std::collections::{HashMap, HashSet};

/// Applies `ops` in one transaction; when that fails for a reason of its own (not an outage),
/// each op alone, so one bad op never takes the others down with it.
pub(super) async fn write_batch(
    pool: &sqlx::Pool<Db>,
    ops: Vec<WriteOp>,
) -> Vec<Result<WriteOutcome, StoreError>> {
    match apply_in_one_transaction(pool, &ops).await {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        // An outage fails every write alike: trying them one by one would only wait for the
        // database once per write.
        Err(batch_error) if batch_error.is_transient() => {
            let reason = batch_error.to_string();
            let mut results = vec![Err(batch_error)];
            results.extend((1..ops.len()).map(|_| Err(StoreError::Unavailable(reason.clone()))));
            results
        }
        Err(batch_error) if ops.len() > 1 => {
            tracing::warn!(error = %batch_error, ops = ops.len(),
                "batch failed; applying its writes one by one");
            let mut results = Vec::with_capacity(ops.len());
            for op in &ops {
                results.push(
                    apply_in_one_transaction(pool, std::slice::from_ref(op))
                        .await
                        .map(|mut o| o.remove(0)),
                );
            }
            results
        }
        Err(e) => vec![Err(e)],
    }
}

async fn apply_in_one_transaction(
    pool: &sqlx::Pool<Db>,
    ops: &[WriteOp],
) -> Result<Vec<WriteOutcome>, StoreError> {
    let mut conn = pool.acquire().await?;
    let result = async {
        let mut tx = conn.begin().await?;
        let outcomes = apply_batch(&mut tx, ops).await?;
        tx.commit().await?;
        Ok(outcomes)
    }
    .await;
    if result.is_err() {
        // Never hand a connection that failed mid-transaction back to the pool. SQLite may
        // roll a transaction back by itself (a full disk, an I/O error); the driver's own
        // ROLLBACK then fails and it still counts the connection as inside a transaction, so
        // the next BEGIN becomes a SAVEPOINT and a later "commit" only releases it: writes
        // acknowledged but never committed, and the write lock held until a restart. A fresh
        // connection knows exactly where it stands.
        conn.close_on_drop();
    }
    result
}

/// Applies a batch of writes on one connection (inside the caller's transaction): the
/// frequent families first, each with one statement for the whole batch, then the rare writes
/// in order. Within a batch the writes are independent: a turn's inbox row, or an outbox row
/// being marked sent, was committed by an earlier batch.
async fn apply_batch(conn: &mut Conn, ops: &[WriteOp]) -> Result<Vec<WriteOutcome>, StoreError> {
    let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; ops.len()];
    let now = now();
    insert_inbound(conn, ops, now, &mut outcomes).await?;
    commit_turns(conn, ops, now, &mut outcomes).await?;
    outbox_sent(conn, ops, now, &mut outcomes).await?;
    for (op, outcome) in ops.iter().zip(&mut outcomes) {
        *outcome = Some(match op {
            // Batched above.
            WriteOp::InsertInbound(_) | WriteOp::CommitTurn(_) | WriteOp::OutboxSent { .. } => {
                continue;
            }
            WriteOp::OutboxFailed {
                id,
                error,
                permanent,
                at,
            } => outbox_failed(conn, id, error, *permanent, *at).await?,
            WriteOp::DeliveryStatus {
                channel,
                external_id,
                delivery,
                error,
                at,
            } => delivery_status(conn, *channel, external_id, *delivery, error, *at).await?,
            WriteOp::EscalationAnnounced { id, at } => escalation_announced(conn, id, *at).await?,
            WriteOp::FollowUpsRelayed { ids, at } => follow_ups_relayed(conn, ids, *at).await?,
            WriteOp::MarkUnreachable {
                conversation_id,
                at,
            } => mark_unreachable(conn, conversation_id, *at).await?,
            WriteOp::ParkTurn { turn, error } => park_turn(conn, turn, error).await?,
            WriteOp::RequeueInbound { id } => requeue_inbound(conn, *id).await?,
            WriteOp::ParkInbound { id, error, at } => park_inbound(conn, *id, error, *at).await?,
            WriteOp::CrmStarted { id, attempts, at } => {
                let started = sqlx::query(CRM_STARTED).bind(id).bind(*at).bind(*attempts);
                done_or_handled(started.execute(&mut *conn).await?.rows_affected())
            }
            WriteOp::CrmDone { id, result, at } => {
                let done = sqlx::query(CRM_DONE).bind(id).bind(Json(result)).bind(*at);
                done_or_handled(done.execute(&mut *conn).await?.rows_affected())
            }
            WriteOp::CrmRetry {
                id,
                error,
                next_attempt_at,
                at,
            } => {
                let retry = (sqlx::query(CRM_RETRY).bind(id).bind(error))
                    .bind(*next_attempt_at)
                    .bind(*at);
                done_or_handled(retry.execute(&mut *conn).await?.rows_affected())
            }
            WriteOp::CrmFailed { id, error, at } => {
                let failed = sqlx::query(CRM_FAILED).bind(id).bind(error).bind(*at);
                done_or_handled(failed.execute(&mut *conn).await?.rows_affected())
            }
            WriteOp::CrmHold { id, error, at } => {
                let hold = (sqlx::query(CRM_HOLD).bind(id).bind(error))
                    .bind(HELD_UNTIL)
                    .bind(*at);
                done_or_handled(hold.execute(&mut *conn).await?.rows_affected())
            }
            WriteOp::CrmRelease { at } => {
                let released = sqlx::query(CRM_RELEASE)
                    .bind(*at)
                    .execute(&mut *conn)
                    .await?;
                WriteOutcome::Released(released.rows_affected())
            }
            WriteOp::CrmRequeue {
                id,
                at,
                pending_too,
            } => crm_requeue(conn, id, *at, *pending_too).await?,
            WriteOp::LeadSynced(update) => lead_synced(conn, update, now).await?,
            WriteOp::InsertPromptVersion {
                name,
                content,
                author,
                at,
            } => {
                let insert = sqlx::query_scalar(INSERT_PROMPT_VERSION)
                    .bind(name)
                    .bind(content)
                    .bind(author)
                    .bind(*at);
                WriteOutcome::PromptVersionAdded(insert.fetch_one(&mut *conn).await?)
            }
            WriteOp::OutboxUndelivered {
                id,
                conversation_id,
                text,
                error,
                escalation_id,
                at,
            } => {
                let undelivered = Undelivered {
                    id,
                    conversation_id,
                    text,
                    error,
                    escalation_id,
                };
                outbox_undelivered(conn, undelivered, *at).await?
            }
            WriteOp::OutboxRequeue { id, at } => {
                let requeue = sqlx::query(OUTBOX_REQUEUE).bind(id).bind(*at);
                done_or_not_found(requeue.execute(&mut *conn).await?.rows_affected())
            }
            WriteOp::ResolveEscalation { id, at } => {
                let resolve = sqlx::query(RESOLVE_ESCALATION).bind(id).bind(*at);
                done_or_not_found(resolve.execute(&mut *conn).await?.rows_affected())
            }
        });
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every write kind is applied above"))
        .collect())
}

/// `Done` when the update touched its row, `AlreadyHandled` when the row had moved on.
fn done_or_handled(rows: u64) -> WriteOutcome {
    if rows == 0 {
        WriteOutcome::AlreadyHandled
    } else {
        WriteOutcome::Done
    }
}

/// `Done` when the update touched its row, `NotFound` when no row was in a state it applies to.
fn done_or_not_found(rows: u64) -> WriteOutcome {
    if rows == 0 {
        WriteOutcome::NotFound
    } else {
        WriteOutcome::Done
    }
}

/// Inbound messages: one INSERT; the rows it returns are the new ones.
async fn insert_inbound(
    conn: &mut Conn,
    ops: &[WriteOp],
    now: DateTime<Utc>,
    outcomes: &mut [Option<WriteOutcome>],
) -> Result<(), StoreError> {
    let inbound: Vec<(usize, &NewInbound)> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| match op {
            WriteOp::InsertInbound(m) => Some((i, m)),
            _ => None,
        })
        .collect();
    if inbound.is_empty() {
        return Ok(());
    }
    let mut new_ids: HashMap<(String, String), i64> = HashMap::new();
    for chunk in cacheable_chunks(&inbound, MAX_ROWS) {
        let mut qb = QueryBuilder::<Db>::new(INSERT_INBOUND);
        qb.push_values(chunk, |mut row, (_, m)| {
            row.push_bind(m.key.channel.as_str())
                .push_bind(&m.external_id)
                .push_bind(&m.key.chat_id)
                .push_bind(m.kind.as_str())
                .push_bind(&m.text)
                .push_bind(&m.sender_name)
                .push_bind(Json(&m.route))
                .push_bind(Json(&m.payload))
                .push_bind(m.sent_at.trunc_subsecs(6))
                .push_bind(now);
        });
        qb.push(INSERT_INBOUND_TAIL);
        for row in qb.build().fetch_all(&mut *conn).await? {
            let key = (row.try_get("channel")?, row.try_get("external_id")?);
            new_ids.insert(key, row.try_get("id")?);
        }
    }
    for (i, m) in inbound {
        // The same message twice in one batch: the first is the new one.
        let key = (m.key.channel.as_str().to_owned(), m.external_id.clone());
        outcomes[i] = Some(match new_ids.remove(&key) {
            Some(id) => {
                let mut inbound = m.clone();
                inbound.sent_at = inbound.sent_at.trunc_subsecs(6);
                WriteOutcome::Inserted(Box::new(InboxMessage {
                    id,
                    inbound,
                    received_at: now,
                }))
            }
            None => WriteOutcome::Duplicate,
        });
    }
    Ok(())
}

/// Turns: claim their inbox rows in one UPDATE; a turn whose row was handled before (a replay
/// racing a live delivery) writes nothing.
async fn commit_turns(
    conn: &mut Conn,
    ops: &[WriteOp],
    now: DateTime<Utc>,
    outcomes: &mut [Option<WriteOutcome>],
) -> Result<(), StoreError> {
    let turns: Vec<(usize, &TurnCommit)> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| match op {
            WriteOp::CommitTurn(t) => Some((i, t.as_ref())),
            _ => None,
        })
        .collect();
    if turns.is_empty() {
        return Ok(());
    }
    let mut claimable: HashSet<i64> = HashSet::new();
    let ids: Vec<i64> = turns
        .iter()
        .flat_map(|(_, t)| t.inbound.iter().map(|m| m.inbox_id))
        .collect();
    for chunk in cacheable_chunks(&ids, MAX_ROWS) {
        let mut qb = QueryBuilder::<Db>::new(CLAIM_INBOX);
        qb.push_bind(now);
        qb.push(" WHERE id IN (");
        let mut separated = qb.separated(", ");
        for id in chunk {
            separated.push_bind(*id);
        }
        qb.push(") AND status = 'pending' RETURNING id");
        for row in qb.build().fetch_all(&mut *conn).await? {
            claimable.insert(row.try_get("id")?);
        }
    }
    let mut live: Vec<&TurnCommit> = Vec::new();
    for (i, t) in turns {
        // A turn is live when its oldest message was still pending; `remove`: of two turns
        // for one message, only the first is live.
        let first = t.inbound.first().map(|m| m.inbox_id);
        let live_turn = first.is_none_or(|id| claimable.remove(&id));
        for m in &t.inbound {
            claimable.remove(&m.inbox_id);
        }
        outcomes[i] = Some(if live_turn {
            live.push(t);
            WriteOutcome::Committed
        } else {
            WriteOutcome::AlreadyHandled
        });
    }
    if !live.is_empty() {
        write_turns(conn, &live).await?;
    }
    Ok(())
}

/// Sent replies: one UPDATE that gives each row its own external id.
async fn outbox_sent(
    conn: &mut Conn,
    ops: &[WriteOp],
    now: DateTime<Utc>,
    outcomes: &mut [Option<WriteOutcome>],
) -> Result<(), StoreError> {
    let sent: Vec<(usize, &String, &Option<String>, DateTime<Utc>)> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, op)| match op {
            WriteOp::OutboxSent {
                id,
                external_id,
                at,
            } => Some((i, id, external_id, *at)),
            _ => None,
        })
        .collect();
    for chunk in cacheable_chunks(&sent, MAX_ROWS) {
        let mut qb = QueryBuilder::<Db>::new(OUTBOX_SENT);
        for (_, id, external_id, _) in chunk {
            qb.push(" WHEN ").push_bind(*id);
            qb.push(" THEN ").push_bind(*external_id);
        }
        let latest = chunk.iter().map(|(.., at)| *at).max().unwrap_or(now);
        qb.push(" END, updated_at = ").push_bind(latest);
        qb.push(" WHERE id IN (");
        let mut ids = qb.separated(", ");
        for (_, id, ..) in chunk {
            ids.push_bind(*id);
        }
        qb.push(") AND status = 'pending'");
        qb.build().execute(&mut *conn).await?;
    }
    for (i, ..) in sent {
        outcomes[i] = Some(WriteOutcome::Done);
    }
    Ok(())
}

async fn outbox_failed(
    conn: &mut Conn,
    id: &str,
    error: &str,
    permanent: bool,
    at: DateTime<Utc>,
) -> Result<WriteOutcome, StoreError> {
    sqlx::query(OUTBOX_FAILED)
        .bind(id)
        .bind(error)
        .bind(permanent)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(WriteOutcome::Done)
}

async fn delivery_status(
    conn: &mut Conn,
    channel: dialogs::Channel,
    external_id: &str,
    delivery: channels::Delivery,
    error: &Option<String>,
    at: DateTime<Utc>,
) -> Result<WriteOutcome, StoreError> {
    let status = match delivery {
        channels::Delivery::Delivered => OutboxStatus::Delivered,
        channels::Delivery::Read => OutboxStatus::Read,
        channels::Delivery::Failed => OutboxStatus::Failed,
    };
    sqlx::query(OUTBOX_DELIVERY)
        .bind(channel.as_str())
        .bind(external_id)
        .bind(status.as_str())
        .bind(error)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(WriteOutcome::Done)
}

async fn escalation_announced(
    conn: &mut Conn,
    id: &str,
    at: DateTime<Utc>,
) -> Result<WriteOutcome, StoreError> {
    sqlx::query(ESCALATION_ANNOUNCED)
        .bind(id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(WriteOutcome::Done)
}

async fn follow_ups_relayed(
    conn: &mut Conn,
    ids: &[String],
    at: DateTime<Utc>,
) -> Result<WriteOutcome, StoreError> {
    for id in ids {
        sqlx::query(FOLLOW_UP_RELAYED)
            .bind(id)
            .bind(at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(WriteOutcome::Done)
}

async fn mark_unreachable(
    conn: &mut Conn,
    conversation_id: &str,
    at: DateTime<Utc>,
) -> Result<WriteOutcome, StoreError> {
    sqlx::query(MARK_UNREACHABLE)
        .bind(conversation_id)
        .bind(true)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(WriteOutcome::Done)
}

/// Parked once: the apology and the escalation are written only by the write that moves the
/// first message from pending.
async fn park_turn(
    conn: &mut Conn,
    turn: &TurnCommit,
    error: &str,
) -> Result<WriteOutcome, StoreError> {
    let mut live = false;
    for (n, m) in turn.inbound.iter().enumerate() {
        let parked = sqlx::query(PARK_INBOX)
            .bind(m.inbox_id)
            .bind(error)
            .bind(turn.at)
            .execute(&mut *conn)
            .await?;
        if n == 0 {
            live = parked.rows_affected() == 1;
        }
    }
    if !live {
        return Ok(WriteOutcome::AlreadyHandled);
    }
    write_turns(conn, &[turn]).await?;
    Ok(WriteOutcome::Committed)
}

async fn requeue_inbound(conn: &mut Conn, id: i64) -> Result<WriteOutcome, StoreError> {
    let done = sqlx::query(REQUEUE_INBOX)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done_or_not_found(done.rows_affected()))
}

async fn park_inbound(
    conn: &mut Conn,
    id: i64,
    error: &str,
    at: DateTime<Utc>,
) -> Result<WriteOutcome, StoreError> {
    let parked = sqlx::query(PARK_INBOX)
        .bind(id)
        .bind(error)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(done_or_handled(parked.rows_affected()))
}

async fn crm_requeue(
    conn: &mut Conn,
    id: &str,
    at: DateTime<Utc>,
    pending_too: bool,
) -> Result<WriteOutcome, StoreError> {
    let requeued = sqlx::query(CRM_REQUEUE)
        .bind(id)
        .bind(at)
        .bind(pending_too)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(if pending_too {
        done_or_not_found(requeued)
    } else {
        done_or_handled(requeued)
    })
}

async fn lead_synced(
    conn: &mut Conn,
    u: &LeadCrmUpdate,
    now: DateTime<Utc>,
) -> Result<WriteOutcome, StoreError> {
    sqlx::query(LEAD_SYNCED)
        .bind(new_id())
        .bind(&u.conversation_id)
        .bind(u.contact_id)
        .bind(u.deal_id)
        .bind(&u.stage)
        .bind(&u.phone)
        .bind(&u.email)
        .bind(now)
        .bind(u.lead_id)
        .execute(&mut *conn)
        .await?;
    Ok(WriteOutcome::Done)
}

/// A reply the outbox gives up ([`WriteOp::OutboxUndelivered`]).
struct Undelivered<'a> {
    id: &'a str,
    conversation_id: &'a str,
    text: &'a str,
    error: &'a str,
    escalation_id: &'a str,
}

async fn outbox_undelivered(
    conn: &mut Conn,
    r: Undelivered<'_>,
    at: DateTime<Utc>,
) -> Result<WriteOutcome, StoreError> {
    let given_up = sqlx::query(OUTBOX_GIVE_UP)
        .bind(r.id)
        .bind(r.error)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    if given_up.rows_affected() == 0 {
        return Ok(WriteOutcome::AlreadyHandled);
    }
    let details = EscalationDetails {
        outbox_id: Some(r.id.to_owned()),
        text: Some(r.text.to_owned()),
        error: Some(r.error.to_owned()),
        ..EscalationDetails::default()
    };
    let escalated = sqlx::query(INSERT_UNDELIVERED_ESCALATION)
        .bind(r.escalation_id)
        .bind(r.conversation_id)
        .bind(Json(&details))
        .bind(at)
        .execute(&mut *conn)
        .await?;
    if escalated.rows_affected() == 0 {
        sqlx::query(INSERT_FOLLOW_UP)
            .bind(new_id())
            .bind(r.conversation_id)
            .bind(format!("Не доставлено клиенту: {}", r.text))
            .bind(None::<&str>)
            .bind(true)
            .bind(at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(WriteOutcome::Done)
}

/// A transcript line to write: conversation, direction, text, inbox id, outbox id, time.
type Line<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<i64>,
    Option<&'a str>,
    DateTime<Utc>,
);

/// Writes what the live turns of a batch produced: conversations, transcript lines, outbox
/// rows, escalations, CRM commands and leads — one statement each per chunk — and the rare
/// follow-ups and changes of hands one by one.
async fn write_turns(conn: &mut Conn, turns: &[&TurnCommit]) -> Result<(), StoreError> {
    for chunk in cacheable_chunks(turns, MAX_WIDE_ROWS) {
        let mut qb = QueryBuilder::<Db>::new(UPSERT_CONVERSATIONS);
        qb.push_values(chunk, |mut row, t| {
            let c = &t.conversation;
            row.push_bind(&c.id)
                .push_bind(c.key.channel.as_str())
                .push_bind(&c.key.chat_id)
                .push_bind(&c.customer_name)
                .push_bind(&c.customer_phone)
                .push_bind(&c.customer_email)
                .push_bind(Json(&c.route))
                .push_bind(Json(&c.state))
                .push_bind(c.owner.as_str())
                .push_bind(c.owner_since)
                .push_bind(&c.owned_by)
                .push_bind(c.owned_via.map(Desk::as_str))
                .push_bind(c.unreachable)
                .push_bind(c.created_at)
                .push_bind(c.updated_at);
        });
        qb.push(UPSERT_CONVERSATIONS_TAIL);
        qb.build().execute(&mut *conn).await?;
    }

    // In order: each turn's inbound line, then its replies.
    let mut lines: Vec<Line> = Vec::new();
    for t in turns {
        let c = t.conversation.id.as_str();
        for m in &t.inbound {
            lines.push((c, m.direction, &m.text, Some(m.inbox_id), None, t.at));
        }
        // Replies of a turn with no inbound message are a manager's words.
        let by = if t.inbound.is_empty() {
            "manager"
        } else {
            "out"
        };
        for r in &t.replies {
            lines.push((c, by, &r.text, None, Some(&r.id), t.at));
        }
    }
    for chunk in cacheable_chunks(&lines, MAX_WIDE_ROWS) {
        let mut qb = QueryBuilder::<Db>::new(INSERT_TRANSCRIPT);
        qb.push_values(chunk, |mut row, (c, direction, text, inbox, outbox, at)| {
            row.push_bind(*c)
                .push_bind(*direction)
                .push_bind(*text)
                .push_bind(*inbox)
                .push_bind(*outbox)
                .push_bind(*at);
        });
        qb.build().execute(&mut *conn).await?;
    }

    let replies: Vec<&OutboxMessage> = turns.iter().flat_map(|t| &t.replies).collect();
    for chunk in cacheable_chunks(&replies, MAX_WIDE_ROWS) {
        let mut qb = QueryBuilder::<Db>::new(INSERT_OUTBOX);
        qb.push_values(chunk, |mut row, r| {
            row.push_bind(&r.id)
                .push_bind(&r.conversation_id)
                .push_bind(r.key.channel.as_str())
                .push_bind(&r.key.chat_id)
                .push_bind(Json(&r.route))
                .push_bind(&r.text)
                .push_bind(Json(&r.buttons))
                .push_bind(r.created_at)
                .push_bind(r.created_at);
        });
        qb.build().execute(&mut *conn).await?;
    }

    let escalations: Vec<(&TurnCommit, &NewEscalation)> = turns
        .iter()
        .flat_map(|t| t.escalations.iter().map(move |e| (*t, e)))
        .collect();
    if !escalations.is_empty() {
        let mut qb = QueryBuilder::<Db>::new(INSERT_ESCALATIONS);
        qb.push_values(&escalations, |mut row, (t, e)| {
            row.push_bind(&e.id)
                .push_bind(&t.conversation.id)
                .push_bind(e.reason.as_str())
                .push_bind(Json(&e.details))
                .push_bind(t.at);
        });
        qb.build().execute(&mut *conn).await?;
    }

    let crm: Vec<(&TurnCommit, &NewCrmCommand)> = turns
        .iter()
        .flat_map(|t| t.crm.iter().map(move |c| (*t, c)))
        .collect();
    for chunk in cacheable_chunks(&crm, MAX_WIDE_ROWS) {
        let mut qb = QueryBuilder::<Db>::new(INSERT_CRM_OUTBOX);
        qb.push_values(chunk, |mut row, (t, c)| {
            row.push_bind(&c.id)
                .push_bind(&t.conversation.id)
                .push_bind(c.command.name())
                .push_bind(Json(&c.command))
                .push_bind(t.at)
                .push_bind(t.at)
                .push_bind(t.at);
        });
        qb.build().execute(&mut *conn).await?;
    }

    // Follow-ups, rare: one statement each, after the batch's escalations (a turn's follow-up
    // may belong to the escalation of the turn before it) and before its changes of hands (a
    // release resolves the escalation it belongs to).
    for t in turns {
        for f in &t.follow_ups {
            sqlx::query(INSERT_FOLLOW_UP)
                .bind(&f.id)
                .bind(&t.conversation.id)
                .bind(&f.text)
                .bind(f.urgency.map(Urgency::as_str))
                .bind(f.relay)
                .bind(t.at)
                .execute(&mut *conn)
                .await?;
        }
    }

    // Changes of hands, rare: one statement each, after the turn's escalations so a chat taken
    // over claims them.
    for t in turns {
        change_hands(conn, t).await?;
    }

    write_leads(conn, &crm).await
}

/// A turn's changes of hands: recorded, and its escalations claimed or resolved with them; a
/// manager's first words to the customer after claiming are noted.
async fn change_hands(conn: &mut Conn, t: &TurnCommit) -> Result<(), StoreError> {
    let c = &t.conversation.id;
    for change in &t.ownership {
        sqlx::query(INSERT_OWNERSHIP_CHANGE)
            .bind(c)
            .bind(change.from.as_str())
            .bind(change.to.as_str())
            .bind(&change.by)
            .bind(&change.reason)
            .bind(t.at)
            .execute(&mut *conn)
            .await?;
        match change.to {
            Owner::Manager => {
                let claim = sqlx::query(CLAIM_ESCALATIONS).bind(c).bind(&change.by);
                claim.bind(t.at).execute(&mut *conn).await?;
            }
            Owner::Bot => {
                let resolve = sqlx::query(RESOLVE_ESCALATIONS).bind(c).bind(t.at);
                resolve.execute(&mut *conn).await?;
            }
            Owner::Waiting => {}
        }
    }
    if t.inbound.is_empty() && !t.replies.is_empty() {
        let answered = sqlx::query(FIRST_ANSWER).bind(c).bind(t.at);
        answered.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The lead list follows the newest snapshot of each conversation in the batch (one row per
/// conversation: an upsert may not touch a row twice).
async fn write_leads(
    conn: &mut Conn,
    crm: &[(&TurnCommit, &NewCrmCommand)],
) -> Result<(), StoreError> {
    let mut leads: Vec<(&TurnCommit, &LeadSnapshot)> = Vec::new();
    for (t, c) in crm {
        if let CrmCommand::SyncLead { lead } = &c.command {
            leads.retain(|(o, _)| o.conversation.id != t.conversation.id);
            leads.push((t, lead));
        }
    }
    for chunk in cacheable_chunks(&leads, MAX_ROWS) {
        let mut qb = QueryBuilder::<Db>::new(UPSERT_LEADS);
        qb.push_values(chunk, |mut row, (t, l)| {
            let stage = serde_json::to_value(l.stage)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            row.push_bind(new_id())
                .push_bind(&t.conversation.id)
                .push_bind(&l.name)
                .push_bind(&l.phone)
                .push_bind(&l.email)
                .push_bind(Json(&l.slots))
                .push_bind(stage)
                .push_bind(t.at)
                .push_bind(t.at);
        });
        qb.push(UPSERT_LEADS_TAIL);
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}
