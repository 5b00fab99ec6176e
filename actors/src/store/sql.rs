//! The SQL both backends share. SQLite accepts `$1` placeholders, so one text serves both; the
//! macro below instantiates the [`Store`](super::Store) implementation once per backend, with
//! the backend's pool type. Timestamps bind as `DateTime<Utc>` (TEXT in SQLite, TIMESTAMPTZ in
//! PostgreSQL) and JSON as `Json` (TEXT / JSONB).

// Multi-row statements: each is the head of a statement that `QueryBuilder` completes with one
// `(…)` tuple per row, so a whole batch of writes of one kind is one round trip.

pub(crate) const INSERT_INBOUND: &str = "INSERT INTO inbox \
    (channel, external_id, chat_id, kind, text, sender_name, route, payload, sent_at, received_at) ";
pub(crate) const INSERT_INBOUND_TAIL: &str =
    " ON CONFLICT (channel, external_id) DO NOTHING RETURNING id, channel, external_id";

pub(crate) const UPSERT_CONVERSATIONS: &str = "INSERT INTO conversations \
    (id, channel, chat_id, customer_name, customer_phone, customer_email, route, state, owner, \
     owner_since, owned_by, owned_via, unreachable, created_at, updated_at) ";
pub(crate) const UPSERT_CONVERSATIONS_TAIL: &str = " ON CONFLICT (id) DO UPDATE SET \
     customer_name = excluded.customer_name, customer_phone = excluded.customer_phone, \
     customer_email = excluded.customer_email, route = excluded.route, state = excluded.state, \
     owner = excluded.owner, owner_since = excluded.owner_since, owned_by = excluded.owned_by, \
     owned_via = excluded.owned_via, unreachable = excluded.unreachable, updated_at = excluded.updated_at";

pub(crate) const INSERT_TRANSCRIPT: &str = "INSERT INTO transcript \
    (conversation_id, direction, text, inbox_id, outbox_id, created_at) ";

pub(crate) const INSERT_OUTBOX: &str = "INSERT INTO outbox \
    (id, conversation_id, channel, chat_id, route, text, buttons, created_at, updated_at) ";

pub(crate) const INSERT_CRM_OUTBOX: &str = "INSERT INTO crm_outbox \
    (id, conversation_id, command, payload, next_attempt_at, created_at, updated_at) ";

pub(crate) const UPSERT_LEADS: &str = "INSERT INTO leads \
    (id, conversation_id, name, phone, email, slots, stage, created_at, updated_at) ";
pub(crate) const UPSERT_LEADS_TAIL: &str = " ON CONFLICT (conversation_id) DO UPDATE SET \
    name = excluded.name, phone = excluded.phone, email = excluded.email, slots = excluded.slots, \
    stage = excluded.stage, updated_at = excluded.updated_at";

pub(crate) const INSERT_OWNERSHIP_CHANGE: &str = "INSERT INTO ownership_changes \
    (conversation_id, from_owner, to_owner, changed_by, reason, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6)";
pub(crate) const CLAIM_ESCALATIONS: &str = "UPDATE escalations SET status = 'claimed', \
    claimed_by = $2, claimed_at = $3 WHERE conversation_id = $1 AND status = 'open'";
pub(crate) const RESOLVE_ESCALATIONS: &str = "UPDATE escalations SET status = 'resolved', \
    resolved_at = $2 WHERE conversation_id = $1 AND status IN ('open', 'claimed')";
pub(crate) const FIRST_ANSWER: &str = "UPDATE escalations SET first_answer_at = $2 \
    WHERE conversation_id = $1 AND status = 'claimed' AND first_answer_at IS NULL";

pub(crate) const INSERT_ESCALATIONS: &str =
    "INSERT INTO escalations (id, conversation_id, reason, details, created_at) ";

/// `$1` id, `$2` conversation, `$3` text, `$4` urgency, `$5` relay, `$6` at: a follow-up on the
/// conversation's newest open or claimed escalation; nothing when it has none.
pub(crate) const INSERT_FOLLOW_UP: &str = "INSERT INTO escalation_notes \
    (id, escalation_id, conversation_id, text, urgency, relay, created_at) \
    SELECT $1, e.id, e.conversation_id, $3, $4, $5, $6 FROM escalations e \
    WHERE e.conversation_id = $2 AND e.status IN ('open', 'claimed') \
    ORDER BY e.created_at DESC, e.id DESC LIMIT 1";

pub(crate) const FOLLOW_UP_RELAYED: &str =
    "UPDATE escalation_notes SET relayed_at = $2 WHERE id = $1 AND relayed_at IS NULL";

/// The columns of a follow-up (table `n`), as `follow_up_from` reads them.
macro_rules! follow_up_columns {
    () => {
        "n.id, n.escalation_id, n.conversation_id, n.text, n.urgency, n.relay, n.relayed_at, \
         n.created_at"
    };
}
pub(crate) use follow_up_columns;

/// Completed with `WHEN <id> THEN <external id> … END, updated_at = <at> WHERE id IN (<ids>)`:
/// rows addressed by primary key, each with its own external id.
pub(crate) const OUTBOX_SENT: &str = "UPDATE outbox SET status = 'sent', attempts = attempts + 1, \
    last_error = NULL, external_id = CASE id";

pub(crate) const PARK_INBOX: &str = "UPDATE inbox SET status = 'failed', error = $2, handled_at = $3 \
    WHERE id = $1 AND status = 'pending'";

/// A parked message back to `pending` (the admin API's retry).
pub(crate) const REQUEUE_INBOX: &str = "UPDATE inbox SET status = 'pending', error = NULL, \
    handled_at = NULL WHERE id = $1 AND status = 'failed'";

pub(crate) const MARK_UNREACHABLE: &str =
    "UPDATE conversations SET unreachable = $2, updated_at = $3 WHERE id = $1";

pub(crate) const OUTBOX_FAILED: &str = "UPDATE outbox SET attempts = attempts + 1, last_error = $2, \
    status = CASE WHEN $3 THEN 'failed' ELSE status END, updated_at = $4 \
    WHERE id = $1 AND status = 'pending'";

/// `$1` channel, `$2` external id, `$3` status (`delivered`/`read`/`failed`), `$4` error, `$5` at.
pub(crate) const OUTBOX_DELIVERY: &str = "UPDATE outbox SET status = $3, \
    last_error = COALESCE($4, last_error), updated_at = $5 \
    WHERE channel = $1 AND external_id = $2 AND (status = 'sent' \
    OR (status = 'delivered' AND $3 IN ('read', 'failed')))";

/// `$1` name, `$2` content, `$3` author, `$4` at: the next version of a document. The Store
/// actor is the only writer, so the `MAX` cannot race another insert.
pub(crate) const INSERT_PROMPT_VERSION: &str = "INSERT INTO prompt_versions \
    (name, version, content, author, created_at) \
    SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM prompt_versions WHERE name = $1 \
    RETURNING version";

pub(crate) const CRM_OUTBOX_RETRY: &str = "UPDATE crm_outbox SET status = 'pending', attempts = 0, \
    held_since = NULL, next_attempt_at = $2, updated_at = $2 \
    WHERE id = $1 AND status IN ('pending', 'failed')";

/// `$1` id, `$2` error, `$3` at: a pending reply given up by the outbox.
pub(crate) const OUTBOX_GIVE_UP: &str = "UPDATE outbox SET status = 'failed', last_error = $2, \
    updated_at = $3 WHERE id = $1 AND status = 'pending'";

/// `$1` id, `$2` conversation, `$3` details, `$4` at: an `undelivered` escalation, unless the
/// conversation has an open one already.
pub(crate) const INSERT_UNDELIVERED_ESCALATION: &str = "INSERT INTO escalations \
    (id, conversation_id, reason, details, created_at) \
    SELECT $1, $2, 'undelivered', $3, $4 WHERE NOT EXISTS (SELECT 1 FROM escalations \
    WHERE conversation_id = $2 AND reason = 'undelivered' AND status = 'open')";

/// `$1` id, `$2` at: a failed reply back to pending, written anew (admin retry).
pub(crate) const OUTBOX_REQUEUE: &str = "UPDATE outbox SET status = 'pending', created_at = $2, \
    updated_at = $2 WHERE id = $1 AND status = 'failed'";

pub(crate) const RESOLVE_ESCALATION: &str = "UPDATE escalations SET status = 'resolved', \
    resolved_at = $2 WHERE id = $1 AND status IN ('open', 'claimed')";

pub(crate) const QUEUE_DEPTHS: &str = "SELECT \
    (SELECT COUNT(*) FROM inbox WHERE status = 'pending') AS inbox_pending, \
    (SELECT COUNT(*) FROM inbox WHERE status = 'failed') AS inbox_failed, \
    (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS outbox_pending, \
    (SELECT COUNT(*) FROM outbox WHERE status = 'failed') AS outbox_failed, \
    (SELECT COUNT(*) FROM crm_outbox WHERE status = 'pending') AS crm_pending, \
    (SELECT COUNT(*) FROM crm_outbox WHERE status = 'failed') AS crm_failed, \
    (SELECT COUNT(*) FROM crm_outbox WHERE status = 'pending' AND held_since IS NOT NULL) AS crm_held, \
    (SELECT COUNT(*) FROM escalations WHERE status = 'open') AS escalations_open, \
    (SELECT COUNT(*) FROM escalations WHERE status = 'claimed') AS escalations_claimed";

/// Is an outgoing message with this channel id (or our id, or — within ten minutes, for an
/// echo that outran the send's own answer — this text) one we sent to this chat?
pub(crate) const OWN_OUTGOING: &str = "SELECT COUNT(*) AS n FROM outbox \
    WHERE channel = $1 AND chat_id = $2 \
    AND (external_id = $3 OR id = $4 OR (text = $5 AND created_at > $6))";

pub(crate) const CRM_STARTED: &str = "UPDATE crm_outbox SET attempts = attempts + 1, updated_at = $2 \
    WHERE id = $1 AND status = 'pending' AND attempts = $3";

pub(crate) const CRM_DONE: &str = "UPDATE crm_outbox SET status = 'done', result = $2, \
    last_error = NULL, updated_at = $3 WHERE id = $1 AND status = 'pending'";

pub(crate) const CRM_RETRY: &str = "UPDATE crm_outbox SET last_error = $2, next_attempt_at = $3, \
    updated_at = $4 WHERE id = $1 AND status = 'pending'";

pub(crate) const CRM_FAILED: &str = "UPDATE crm_outbox SET status = 'failed', last_error = $2, \
    updated_at = $3 WHERE id = $1 AND status = 'pending'";

pub(crate) const CRM_REQUEUE: &str = "UPDATE crm_outbox SET status = 'pending', attempts = 0, \
    held_since = NULL, next_attempt_at = $2, updated_at = $2 WHERE id = $1 AND status = 'failed'";

/// Held: pending, not due before `$3` (far away: released by `CRM_RELEASE`), since `$4`.
pub(crate) const CRM_HOLD: &str = "UPDATE crm_outbox SET last_error = $2, next_attempt_at = $3, \
    held_since = COALESCE(held_since, $4), updated_at = $4 WHERE id = $1 AND status = 'pending'";

/// Every held command due now, with fresh attempts (its last error kept: the next execution
/// looks for what an earlier one may have created).
pub(crate) const CRM_RELEASE: &str = "UPDATE crm_outbox SET held_since = NULL, attempts = 0, \
    next_attempt_at = $1, updated_at = $1 WHERE status = 'pending' AND held_since IS NOT NULL";

/// A lead row exists once its conversation synced a lead; the upsert also covers a command
/// whose lead row is missing, so an id Bitrix24 gave is never dropped.
pub(crate) const LEAD_SYNCED: &str = "INSERT INTO leads \
    (id, conversation_id, crm_contact_id, crm_deal_id, crm_stage, crm_phone, crm_email, \
     crm_lead_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $8) \
    ON CONFLICT (conversation_id) DO UPDATE SET \
    crm_lead_id = COALESCE(excluded.crm_lead_id, leads.crm_lead_id), \
    crm_contact_id = COALESCE(excluded.crm_contact_id, leads.crm_contact_id), \
    crm_deal_id = COALESCE(excluded.crm_deal_id, leads.crm_deal_id), \
    crm_stage = COALESCE(excluded.crm_stage, leads.crm_stage), \
    crm_phone = COALESCE(excluded.crm_phone, leads.crm_phone), \
    crm_email = COALESCE(excluded.crm_email, leads.crm_email), \
    updated_at = excluded.updated_at";

/// Splits rows into chunks of `max`, `max/2`, … 1 rows (`max` a power of two), so a multi-row
/// statement comes in a handful of shapes and its prepared form is reused from the statement
/// cache instead of being parsed again for every batch.
pub(crate) fn cacheable_chunks<T>(mut rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let size = 1usize << rows.len().min(max.max(1)).ilog2();
        let (chunk, rest) = rows.split_at(size);
        rows = rest;
        Some(chunk)
    })
}

/// The columns of an escalation, as `escalation_row` reads them.
macro_rules! escalation_columns {
    () => {
        "id, conversation_id, reason, details, status, claimed_by, claimed_at, first_answer_at, \
         notified_at, created_at"
    };
}
pub(crate) use escalation_columns;

/// `SELECT <every conversation column> FROM conversations WHERE <clause>`, as a literal.
macro_rules! select_conversations {
    ($clause:literal) => {
        concat!(
            "SELECT id, channel, chat_id, customer_name, customer_phone, customer_email, route, ",
            "state, owner, owner_since, owned_by, owned_via, unreachable, created_at, updated_at ",
            "FROM conversations WHERE ",
            $clause
        )
    };
}

/// `SELECT <every inbox column> FROM inbox WHERE <clause>`, as a literal.
macro_rules! select_inbox {
    ($clause:literal) => {
        concat!(
            "SELECT id, channel, external_id, chat_id, kind, text, sender_name, route, payload, ",
            "sent_at, received_at, status, error FROM inbox WHERE ",
            $clause
        )
    };
}

/// `SELECT <every outbox column> FROM outbox WHERE <clause>`, as a literal.
macro_rules! select_outbox {
    ($clause:literal) => {
        concat!(
            "SELECT id, conversation_id, channel, chat_id, route, text, buttons, attempts, ",
            "created_at, status, last_error, external_id FROM outbox WHERE ",
            $clause
        )
    };
}

/// `SELECT <every crm_outbox column> FROM crm_outbox c WHERE <clause>`, as a literal.
macro_rules! select_crm_outbox {
    ($clause:literal) => {
        concat!(
            "SELECT c.id, c.conversation_id, c.command, c.payload, c.status, c.attempts, ",
            "c.last_error, c.result, c.next_attempt_at, c.held_since, c.created_at, c.updated_at ",
            "FROM crm_outbox c WHERE ",
            $clause
        )
    };
}

/// `SELECT <every escalation column> FROM escalations WHERE <clause>`, as a literal.
macro_rules! select_escalations {
    ($clause:literal) => {
        concat!(
            "SELECT ",
            escalation_columns!(),
            " FROM escalations WHERE ",
            $clause
        )
    };
}

/// `SELECT <every leads column> FROM leads WHERE <clause>`, as a literal.
macro_rules! select_leads {
    ($clause:literal) => {
        concat!(
            "SELECT id, conversation_id, name, phone, email, slots, stage, crm_contact_id, ",
            "crm_deal_id, crm_stage, crm_phone, crm_email, crm_lead_id, created_at, updated_at ",
            "FROM leads WHERE ",
            $clause
        )
    };
}

pub(crate) use {
    select_conversations, select_crm_outbox, select_escalations, select_inbox, select_leads,
    select_outbox,
};

/// Implements `Store` for `$store` (a struct with a `pool: sqlx::Pool<$db>` field), with
/// multi-row statements of at most `$max_rows` rows, or `$max_wide_rows` for rows that carry a
/// dialog state or a reply's text (conversations, transcript, outbox, CRM commands).
macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:literal, max_rows = $max_rows:expr, max_wide_rows = $max_wide_rows:expr) => {
        mod shared_sql {
            use super::*;
            use crate::store::model::{parse_channel, parse_kind, parse_owner};
            use crate::store::sql::*;
            use crate::store::*;
            use dialogs::crm::{CrmCommand, LeadSnapshot, NewCrmCommand};
            use chrono::{DateTime, Utc};
            use dialogs::handover::{Desk, Urgency};
            use dialogs::{Channel, ChatKey, Owner};
            use sqlx::types::Json;
            use sqlx::{QueryBuilder, Row};
            use std::collections::{HashMap, HashSet};

            type Conn = <$db as sqlx::Database>::Connection;
            type DbRow = <$db as sqlx::Database>::Row;

            fn json(row: &DbRow, col: &str) -> Result<serde_json::Value, StoreError> {
                Ok(row.try_get::<Json<serde_json::Value>, _>(col)?.0)
            }

            fn conversation_from(row: &DbRow) -> Result<ConversationRecord, StoreError> {
                let channel: String = row.try_get("channel")?;
                let owner: String = row.try_get("owner")?;
                Ok(ConversationRecord {
                    id: row.try_get("id")?,
                    key: ChatKey::new(
                        parse_channel("conversations", &channel)?,
                        row.try_get::<String, _>("chat_id")?,
                    ),
                    customer_name: row.try_get("customer_name")?,
                    customer_phone: row.try_get("customer_phone")?,
                    customer_email: row.try_get("customer_email")?,
                    route: json(row, "route")?,
                    state: json(row, "state")?,
                    owner: parse_owner(&owner)?,
                    owner_since: row.try_get("owner_since")?,
                    owned_by: row.try_get("owned_by")?,
                    owned_via: match row.try_get::<Option<String>, _>("owned_via")? {
                        None => None,
                        Some(d) => Some(Desk::parse(&d).ok_or_else(|| StoreError::Corrupt {
                            table: "conversations",
                            reason: format!("unknown desk `{d}`"),
                        })?),
                    },
                    unreachable: row.try_get("unreachable")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            }

            fn inbox_from(row: &DbRow) -> Result<InboxRecord, StoreError> {
                let channel: String = row.try_get("channel")?;
                Ok(InboxRecord {
                    message: InboxMessage {
                        id: row.try_get("id")?,
                        inbound: NewInbound {
                            key: ChatKey::new(
                                parse_channel("inbox", &channel)?,
                                row.try_get::<String, _>("chat_id")?,
                            ),
                            external_id: row.try_get("external_id")?,
                            kind: parse_kind(&row.try_get::<String, _>("kind")?)?,
                            text: row.try_get("text")?,
                            sender_name: row.try_get("sender_name")?,
                            route: json(row, "route")?,
                            payload: json(row, "payload")?,
                            sent_at: row.try_get("sent_at")?,
                        },
                        received_at: row.try_get("received_at")?,
                    },
                    status: row.try_get("status")?,
                    error: row.try_get("error")?,
                })
            }

            fn outbox_from(row: &DbRow) -> Result<OutboxRecord, StoreError> {
                let channel: String = row.try_get("channel")?;
                let buttons = serde_json::from_value(json(row, "buttons")?).map_err(|e| {
                    StoreError::Corrupt {
                        table: "outbox",
                        reason: format!("buttons: {e}"),
                    }
                })?;
                Ok(OutboxRecord {
                    message: OutboxMessage {
                        id: row.try_get("id")?,
                        conversation_id: row.try_get("conversation_id")?,
                        key: ChatKey::new(
                            parse_channel("outbox", &channel)?,
                            row.try_get::<String, _>("chat_id")?,
                        ),
                        route: json(row, "route")?,
                        text: row.try_get("text")?,
                        buttons,
                        attempts: row.try_get("attempts")?,
                        created_at: row.try_get("created_at")?,
                    },
                    status: row.try_get("status")?,
                    last_error: row.try_get("last_error")?,
                    external_id: row.try_get("external_id")?,
                })
            }

            fn prompt_version_from(row: &DbRow) -> Result<PromptVersion, StoreError> {
                Ok(PromptVersion {
                    name: row.try_get("name")?,
                    version: row.try_get("version")?,
                    content: row.try_get("content")?,
                    author: row.try_get("author")?,
                    created_at: row.try_get("created_at")?,
                })
            }

            fn crm_outbox_from(row: &DbRow) -> Result<CrmOutboxRecord, StoreError> {
                Ok(CrmOutboxRecord {
                    id: row.try_get("id")?,
                    conversation_id: row.try_get("conversation_id")?,
                    command: row.try_get("command")?,
                    payload: json(row, "payload")?,
                    status: row.try_get("status")?,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                    result: row
                        .try_get::<Option<Json<serde_json::Value>>, _>("result")?
                        .map(|j| j.0),
                    next_attempt_at: row.try_get("next_attempt_at")?,
                    held_since: row.try_get("held_since")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            }

            fn lead_from(row: &DbRow) -> Result<LeadRecord, StoreError> {
                Ok(LeadRecord {
                    id: row.try_get("id")?,
                    conversation_id: row.try_get("conversation_id")?,
                    channel: None,
                    name: row.try_get("name")?,
                    phone: row.try_get("phone")?,
                    email: row.try_get("email")?,
                    slots: json(row, "slots")?,
                    stage: row.try_get("stage")?,
                    crm_contact_id: row.try_get("crm_contact_id")?,
                    crm_deal_id: row.try_get("crm_deal_id")?,
                    crm_stage: row.try_get("crm_stage")?,
                    crm_phone: row.try_get("crm_phone")?,
                    crm_email: row.try_get("crm_email")?,
                    crm_lead_id: row.try_get("crm_lead_id")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            }

            /// Applies a batch of writes on one connection (inside the caller's transaction),
            /// with one statement per kind of write rather than one per write. Within a batch
            /// the writes are independent: a turn's inbox row, or an outbox row being marked
            /// sent, was committed by an earlier batch.
            async fn apply_batch(
                conn: &mut Conn,
                ops: &[WriteOp],
            ) -> Result<Vec<WriteOutcome>, StoreError> {
                let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; ops.len()];
                let now = crate::store::model::now();

                // Inbound messages: one INSERT; the rows it returns are the new ones.
                let inbound: Vec<(usize, &NewInbound)> = ops
                    .iter()
                    .enumerate()
                    .filter_map(|(i, op)| match op {
                        WriteOp::InsertInbound(m) => Some((i, m)),
                        _ => None,
                    })
                    .collect();
                if !inbound.is_empty() {
                    use chrono::SubsecRound;
                    let mut new_ids: HashMap<(String, String), i64> = HashMap::new();
                    for chunk in cacheable_chunks(&inbound, $max_rows) {
                    let mut qb = QueryBuilder::<$db>::new(INSERT_INBOUND);
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
                        new_ids.insert((row.try_get("channel")?, row.try_get("external_id")?), row.try_get("id")?);
                    }
                    }
                    for (i, m) in inbound {
                        // The same message twice in one batch: the first is the new one.
                        let key = (m.key.channel.as_str().to_owned(), m.external_id.clone());
                        outcomes[i] = Some(match new_ids.remove(&key) {
                            Some(id) => {
                                let mut inbound = m.clone();
                                inbound.sent_at = inbound.sent_at.trunc_subsecs(6);
                                WriteOutcome::Inserted(Box::new(InboxMessage { id, inbound, received_at: now }))
                            }
                            None => WriteOutcome::Duplicate,
                        });
                    }
                }

                // Turns: claim their inbox rows in one UPDATE; a turn whose row was handled
                // before (a replay racing a live delivery) writes nothing.
                let turns: Vec<(usize, &TurnCommit)> = ops
                    .iter()
                    .enumerate()
                    .filter_map(|(i, op)| match op {
                        WriteOp::CommitTurn(t) => Some((i, t.as_ref())),
                        _ => None,
                    })
                    .collect();
                if !turns.is_empty() {
                    let mut claimable: HashSet<i64> = HashSet::new();
                    let ids: Vec<i64> = turns
                        .iter()
                        .flat_map(|(_, t)| t.inbound.iter().map(|m| m.inbox_id))
                        .collect();
                    for chunk in cacheable_chunks(&ids, $max_rows) {
                        let mut qb = QueryBuilder::<$db>::new("UPDATE inbox SET status = 'handled', handled_at = ");
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
                        // A turn is live when its oldest message was still pending; `remove`:
                        // of two turns for one message, only the first is live.
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
                }

                // Delivery receipts: one UPDATE joined with the list of sent messages.
                let sent: Vec<(usize, &String, &Option<String>, DateTime<Utc>)> = ops
                    .iter()
                    .enumerate()
                    .filter_map(|(i, op)| match op {
                        WriteOp::OutboxSent { id, external_id, at } => Some((i, id, external_id, *at)),
                        _ => None,
                    })
                    .collect();
                if !sent.is_empty() {
                    for chunk in cacheable_chunks(&sent, $max_rows) {
                        let mut qb = QueryBuilder::<$db>::new(OUTBOX_SENT);
                        for (_, id, external_id, _) in chunk {
                            qb.push(" WHEN ").push_bind(*id).push(" THEN ").push_bind(*external_id);
                        }
                        let latest = chunk.iter().map(|(.., at)| *at).max().unwrap_or(now);
                        qb.push(" END, updated_at = ").push_bind(latest).push(" WHERE id IN (");
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
                }

                // Rare writes: one statement each.
                for (i, op) in ops.iter().enumerate() {
                    match op {
                        WriteOp::OutboxFailed { id, error, permanent, at } => {
                            sqlx::query(OUTBOX_FAILED)
                                .bind(id)
                                .bind(error)
                                .bind(*permanent)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(WriteOutcome::Done);
                        }
                        WriteOp::DeliveryStatus { channel, external_id, status, error, at } => {
                            let status = match status.as_str() {
                                "error" => "failed",
                                s @ ("delivered" | "read") => s,
                                // `sent`, `edited`, unknown: nothing to record.
                                _ => {
                                    outcomes[i] = Some(WriteOutcome::Done);
                                    continue;
                                }
                            };
                            sqlx::query(OUTBOX_DELIVERY)
                                .bind(channel.as_str())
                                .bind(external_id)
                                .bind(status)
                                .bind(error)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(WriteOutcome::Done);
                        }
                        WriteOp::EscalationAnnounced { id, at } => {
                            sqlx::query("UPDATE escalations SET notified_at = $2 WHERE id = $1")
                                .bind(id)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(WriteOutcome::Done);
                        }
                        WriteOp::FollowUpsRelayed { ids, at } => {
                            for id in ids {
                                sqlx::query(FOLLOW_UP_RELAYED)
                                    .bind(id)
                                    .bind(*at)
                                    .execute(&mut *conn)
                                    .await?;
                            }
                            outcomes[i] = Some(WriteOutcome::Done);
                        }
                        WriteOp::MarkUnreachable { conversation_id, at } => {
                            sqlx::query(MARK_UNREACHABLE)
                                .bind(conversation_id)
                                .bind(true)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(WriteOutcome::Done);
                        }
                        WriteOp::ParkTurn { turn, error } => {
                            // Parked once: the apology and the escalation are written only
                            // by the write that moves the first message from pending.
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
                            if live {
                                write_turns(conn, &[turn.as_ref()]).await?;
                            }
                            outcomes[i] = Some(if live {
                                WriteOutcome::Committed
                            } else {
                                WriteOutcome::AlreadyHandled
                            });
                        }
                        WriteOp::RequeueInbound { id } => {
                            let done = sqlx::query(REQUEUE_INBOX)
                                .bind(*id)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(done_or_not_found(done.rows_affected()));
                        }
                        WriteOp::ParkInbound { id, error, at } => {
                            let parked = sqlx::query(PARK_INBOX)
                                .bind(*id)
                                .bind(error)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(if parked.rows_affected() == 0 {
                                WriteOutcome::AlreadyHandled
                            } else {
                                WriteOutcome::Done
                            });
                        }
                        WriteOp::CrmStarted { id, attempts, at } => {
                            let r = sqlx::query(CRM_STARTED)
                                .bind(id)
                                .bind(*at)
                                .bind(*attempts)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(done_or_handled(r.rows_affected()));
                        }
                        WriteOp::CrmDone { id, result, at } => {
                            let r = sqlx::query(CRM_DONE)
                                .bind(id)
                                .bind(Json(result))
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(done_or_handled(r.rows_affected()));
                        }
                        WriteOp::CrmRetry { id, error, next_attempt_at, at } => {
                            let r = sqlx::query(CRM_RETRY)
                                .bind(id)
                                .bind(error)
                                .bind(*next_attempt_at)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(done_or_handled(r.rows_affected()));
                        }
                        WriteOp::CrmFailed { id, error, at } => {
                            let r = sqlx::query(CRM_FAILED)
                                .bind(id)
                                .bind(error)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(done_or_handled(r.rows_affected()));
                        }
                        WriteOp::CrmRequeue { id, at } => {
                            let r = sqlx::query(CRM_REQUEUE).bind(id).bind(*at).execute(&mut *conn).await?;
                            outcomes[i] = Some(done_or_handled(r.rows_affected()));
                        }
                        WriteOp::CrmHold { id, error, at } => {
                            let r = sqlx::query(CRM_HOLD)
                                .bind(id)
                                .bind(error)
                                .bind(crate::store::HELD_UNTIL)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(done_or_handled(r.rows_affected()));
                        }
                        WriteOp::CrmRelease { at } => {
                            let r = sqlx::query(CRM_RELEASE).bind(*at).execute(&mut *conn).await?;
                            outcomes[i] = Some(WriteOutcome::Released(r.rows_affected()));
                        }
                        WriteOp::LeadSynced(u) => {
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
                            outcomes[i] = Some(WriteOutcome::Done);
                        }
                        WriteOp::InsertPromptVersion { name, content, author, at } => {
                            let version: i32 = sqlx::query_scalar(INSERT_PROMPT_VERSION)
                                .bind(name)
                                .bind(content)
                                .bind(author)
                                .bind(*at)
                                .fetch_one(&mut *conn)
                                .await?;
                            outcomes[i] = Some(WriteOutcome::PromptVersionAdded(version));
                        }
                        WriteOp::CrmOutboxRetry { id, at } => {
                            let done = sqlx::query(CRM_OUTBOX_RETRY)
                                .bind(id)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(if done.rows_affected() == 0 {
                                WriteOutcome::NotFound
                            } else {
                                WriteOutcome::Done
                            });
                        }
                        WriteOp::OutboxUndelivered { id, conversation_id, text, error, escalation_id, at } => {
                            let given_up = sqlx::query(OUTBOX_GIVE_UP)
                                .bind(id)
                                .bind(error)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            if given_up.rows_affected() == 0 {
                                outcomes[i] = Some(WriteOutcome::AlreadyHandled);
                                continue;
                            }
                            let details = serde_json::json!({"outbox_id": id, "text": text, "error": error});
                            let escalated = sqlx::query(INSERT_UNDELIVERED_ESCALATION)
                                .bind(escalation_id)
                                .bind(conversation_id)
                                .bind(Json(&details))
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            if escalated.rows_affected() == 0 {
                                sqlx::query(INSERT_FOLLOW_UP)
                                    .bind(new_id())
                                    .bind(conversation_id)
                                    .bind(format!("Не доставлено клиенту: {text}"))
                                    .bind(None::<&str>)
                                    .bind(true)
                                    .bind(*at)
                                    .execute(&mut *conn)
                                    .await?;
                            }
                            outcomes[i] = Some(WriteOutcome::Done);
                        }
                        WriteOp::OutboxRequeue { id, at } => {
                            let done = sqlx::query(OUTBOX_REQUEUE)
                                .bind(id)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(if done.rows_affected() == 0 {
                                WriteOutcome::NotFound
                            } else {
                                WriteOutcome::Done
                            });
                        }
                        WriteOp::ResolveEscalation { id, at } => {
                            let done = sqlx::query(RESOLVE_ESCALATION)
                                .bind(id)
                                .bind(*at)
                                .execute(&mut *conn)
                                .await?;
                            outcomes[i] = Some(if done.rows_affected() == 0 {
                                WriteOutcome::NotFound
                            } else {
                                WriteOutcome::Done
                            });
                        }
                        _ => {}
                    }
                }
                Ok(outcomes
                    .into_iter()
                    .map(|o| o.expect("every write kind is applied above"))
                    .collect())
            }

            /// `Done` when the update touched its row, `AlreadyHandled` when the row had moved on.
            fn done_or_handled(rows: u64) -> WriteOutcome {
                if rows == 0 { WriteOutcome::AlreadyHandled } else { WriteOutcome::Done }
            }

            fn done_or_not_found(rows: u64) -> WriteOutcome {
                if rows == 0 { WriteOutcome::NotFound } else { WriteOutcome::Done }
            }

            /// Writes what the live turns of a batch produced: conversations, transcript lines,
            /// outbox rows, escalations — one statement each.
            async fn write_turns(conn: &mut Conn, turns: &[&TurnCommit]) -> Result<(), StoreError> {
                for chunk in cacheable_chunks(turns, $max_wide_rows) {
                let mut qb = QueryBuilder::<$db>::new(UPSERT_CONVERSATIONS);
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
                let mut lines: Vec<(&str, &str, &str, Option<i64>, Option<&str>, DateTime<Utc>)> = Vec::new();
                for t in turns {
                    let c = t.conversation.id.as_str();
                    for m in &t.inbound {
                        lines.push((c, m.direction, &m.text, Some(m.inbox_id), None, t.at));
                    }
                    // Replies of a turn with no inbound message are a manager's words.
                    let by = if t.inbound.is_empty() { "manager" } else { "out" };
                    for r in &t.replies {
                        lines.push((c, by, &r.text, None, Some(&r.id), t.at));
                    }
                }
                for chunk in cacheable_chunks(&lines, $max_wide_rows) {
                let mut qb = QueryBuilder::<$db>::new(INSERT_TRANSCRIPT);
                qb.push_values(chunk, |mut row, (c, direction, text, inbox_id, outbox_id, at)| {
                    row.push_bind(*c)
                        .push_bind(*direction)
                        .push_bind(*text)
                        .push_bind(*inbox_id)
                        .push_bind(*outbox_id)
                        .push_bind(*at);
                });
                qb.build().execute(&mut *conn).await?;
                }

                let replies: Vec<&OutboxMessage> = turns.iter().flat_map(|t| &t.replies).collect();
                if !replies.is_empty() {
                    for chunk in cacheable_chunks(&replies, $max_wide_rows) {
                    let mut qb = QueryBuilder::<$db>::new(INSERT_OUTBOX);
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
                }

                let escalations: Vec<(&TurnCommit, &NewEscalation)> =
                    turns.iter().flat_map(|t| t.escalations.iter().map(move |e| (*t, e))).collect();
                if !escalations.is_empty() {
                    let mut qb = QueryBuilder::<$db>::new(INSERT_ESCALATIONS);
                    qb.push_values(&escalations, |mut row, (t, e)| {
                        row.push_bind(&e.id)
                            .push_bind(&t.conversation.id)
                            .push_bind(&e.reason)
                            .push_bind(Json(&e.details))
                            .push_bind(t.at);
                    });
                    qb.build().execute(&mut *conn).await?;
                }

                let crm: Vec<(&TurnCommit, &NewCrmCommand)> =
                    turns.iter().flat_map(|t| t.crm.iter().map(move |c| (*t, c))).collect();
                for chunk in cacheable_chunks(&crm, $max_wide_rows) {
                    let mut qb = QueryBuilder::<$db>::new(INSERT_CRM_OUTBOX);
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

                // Follow-ups, rare: one statement each, after the batch's escalations (a turn's
                // follow-up may belong to the escalation of the turn before it) and before its
                // changes of hands (a release resolves the escalation it belongs to).
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

                // Changes of hands, rare: one statement each, after the turn's escalations so a
                // chat taken over claims them.
                for t in turns {
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
                                sqlx::query(CLAIM_ESCALATIONS).bind(c).bind(&change.by).bind(t.at)
                                    .execute(&mut *conn).await?;
                            }
                            Owner::Bot => {
                                sqlx::query(RESOLVE_ESCALATIONS).bind(c).bind(t.at)
                                    .execute(&mut *conn).await?;
                            }
                            Owner::Waiting => {}
                        }
                    }
                    if t.inbound.is_empty() && !t.replies.is_empty() {
                        sqlx::query(FIRST_ANSWER).bind(c).bind(t.at).execute(&mut *conn).await?;
                    }
                }

                // The lead list follows the newest snapshot of each conversation in the batch
                // (one row per conversation: an upsert may not touch a row twice).
                let mut leads: Vec<(&TurnCommit, &LeadSnapshot)> = Vec::new();
                for (t, c) in &crm {
                    if let CrmCommand::SyncLead { lead } = &c.command {
                        leads.retain(|(o, _)| o.conversation.id != t.conversation.id);
                        leads.push((t, lead));
                    }
                }
                for chunk in cacheable_chunks(&leads, $max_rows) {
                    let mut qb = QueryBuilder::<$db>::new(UPSERT_LEADS);
                    qb.push_values(chunk, |mut row, (t, l)| {
                        row.push_bind(new_id())
                            .push_bind(&t.conversation.id)
                            .push_bind(&l.name)
                            .push_bind(&l.phone)
                            .push_bind(&l.email)
                            .push_bind(Json(&l.slots))
                            .push_bind(serde_json::to_value(l.stage).ok().and_then(|v| v.as_str().map(str::to_owned)))
                            .push_bind(t.at)
                            .push_bind(t.at);
                    });
                    qb.push(UPSERT_LEADS_TAIL);
                    qb.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            fn follow_up_from(row: &DbRow) -> Result<FollowUpRecord, StoreError> {
                let urgency: Option<String> = row.try_get("urgency")?;
                Ok(FollowUpRecord {
                    id: row.try_get("id")?,
                    escalation_id: row.try_get("escalation_id")?,
                    conversation_id: row.try_get("conversation_id")?,
                    text: row.try_get("text")?,
                    urgency: match urgency {
                        None => None,
                        Some(u) => Some(Urgency::parse(&u).ok_or_else(|| StoreError::Corrupt {
                            table: "escalation_notes",
                            reason: format!("unknown urgency `{u}`"),
                        })?),
                    },
                    relay: row.try_get("relay")?,
                    relayed_at: row.try_get("relayed_at")?,
                    created_at: row.try_get("created_at")?,
                })
            }

            fn escalation_row(row: &DbRow) -> Result<EscalationRecord, StoreError> {
                Ok(EscalationRecord {
                    id: row.try_get("id")?,
                    conversation_id: row.try_get("conversation_id")?,
                    reason: row.try_get("reason")?,
                    details: json(row, "details")?,
                    status: row.try_get("status")?,
                    claimed_by: row.try_get("claimed_by")?,
                    claimed_at: row.try_get("claimed_at")?,
                    first_answer_at: row.try_get("first_answer_at")?,
                    notified_at: row.try_get("notified_at")?,
                    created_at: row.try_get("created_at")?,
                })
            }

            impl $store {
                async fn apply_in_one_transaction(
                    &self,
                    ops: &[WriteOp],
                ) -> Result<Vec<WriteOutcome>, StoreError> {
                    use sqlx::Acquire;
                    let mut conn = self.pool.acquire().await?;
                    let result = async {
                        let mut tx = conn.begin().await?;
                        let outcomes = apply_batch(&mut tx, ops).await?;
                        tx.commit().await?;
                        Ok(outcomes)
                    }
                    .await;
                    if result.is_err() {
                        // Never hand a connection that failed mid-transaction back to the
                        // pool. SQLite may roll a transaction back by itself (a full disk, an
                        // I/O error); the driver's own ROLLBACK then fails and it still
                        // counts the connection as inside a transaction, so the next BEGIN
                        // becomes a SAVEPOINT and a later "commit" only releases it: writes
                        // acknowledged but never committed, and the write lock held until a
                        // restart. A fresh connection knows exactly where it stands.
                        conn.close_on_drop();
                    }
                    result
                }
            }

            #[async_trait::async_trait]
            impl Store for $store {
                fn backend(&self) -> &'static str {
                    $backend
                }

                async fn ping(&self) -> Result<(), StoreError> {
                    sqlx::query("SELECT 1").execute(&self.pool).await?;
                    Ok(())
                }

                async fn prepare(&self) -> Result<(), StoreError> {
                    self.prepare_backend().await
                }

                async fn write_batch(
                    &self,
                    ops: Vec<WriteOp>,
                ) -> Vec<Result<WriteOutcome, StoreError>> {
                    match self.apply_in_one_transaction(&ops).await {
                        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
                        // An outage fails every write alike: trying them one by one would
                        // only wait for the database once per write.
                        Err(batch_error) if batch_error.is_transient() => {
                            let reason = batch_error.to_string();
                            let mut results = vec![Err(batch_error)];
                            results.extend(
                                (1..ops.len()).map(|_| Err(StoreError::Unavailable(reason.clone()))),
                            );
                            results
                        }
                        Err(batch_error) if ops.len() > 1 => {
                            tracing::warn!(error = %batch_error, ops = ops.len(),
                                "batch failed; applying its writes one by one");
                            let mut results = Vec::with_capacity(ops.len());
                            for op in &ops {
                                results.push(
                                    self.apply_in_one_transaction(std::slice::from_ref(op))
                                        .await
                                        .map(|mut o| o.remove(0)),
                                );
                            }
                            results
                        }
                        Err(e) => vec![Err(e)],
                    }
                }

                async fn conversation_by_chat(
                    &self,
                    key: &ChatKey,
                ) -> Result<Option<ConversationRecord>, StoreError> {
                    sqlx::query(select_conversations!("channel = $1 AND chat_id = $2"))
                        .bind(key.channel.as_str())
                        .bind(&key.chat_id)
                        .fetch_optional(&self.pool)
                        .await?
                        .as_ref()
                        .map(conversation_from)
                        .transpose()
                }

                async fn conversation(
                    &self,
                    id: &str,
                ) -> Result<Option<ConversationRecord>, StoreError> {
                    sqlx::query(select_conversations!("id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?
                        .as_ref()
                        .map(conversation_from)
                        .transpose()
                }

                async fn pending_inbox(&self) -> Result<Vec<InboxMessage>, StoreError> {
                    sqlx::query(select_inbox!("status = 'pending' ORDER BY id"))
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(|r| inbox_from(r).map(|r| r.message))
                        .collect()
                }

                async fn parked_inbox(&self, limit: i64) -> Result<Vec<InboxRecord>, StoreError> {
                    sqlx::query(select_inbox!("status = 'failed' ORDER BY id LIMIT $1"))
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(inbox_from)
                        .collect()
                }

                async fn inbox_by_id(&self, id: i64) -> Result<Option<InboxRecord>, StoreError> {
                    sqlx::query(select_inbox!("id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?
                        .as_ref()
                        .map(inbox_from)
                        .transpose()
                }

                async fn inbox_entry(
                    &self,
                    channel: Channel,
                    external_id: &str,
                ) -> Result<Option<InboxRecord>, StoreError> {
                    sqlx::query(select_inbox!("channel = $1 AND external_id = $2"))
                        .bind(channel.as_str())
                        .bind(external_id)
                        .fetch_optional(&self.pool)
                        .await?
                        .as_ref()
                        .map(inbox_from)
                        .transpose()
                }

                async fn unsent_outbox(&self) -> Result<Vec<OutboxMessage>, StoreError> {
                    sqlx::query(select_outbox!("status = 'pending' ORDER BY id"))
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(|r| outbox_from(r).map(|r| r.message))
                        .collect()
                }

                async fn outbox_of(
                    &self,
                    conversation_id: &str,
                ) -> Result<Vec<OutboxRecord>, StoreError> {
                    sqlx::query(select_outbox!("conversation_id = $1 ORDER BY id"))
                        .bind(conversation_id)
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(outbox_from)
                        .collect()
                }

                async fn transcript(
                    &self,
                    conversation_id: &str,
                ) -> Result<Vec<TranscriptEntry>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, direction, text, inbox_id, outbox_id, created_at \
                         FROM transcript WHERE conversation_id = $1 ORDER BY id",
                    )
                    .bind(conversation_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            Ok(TranscriptEntry {
                                id: row.try_get("id")?,
                                direction: row.try_get("direction")?,
                                text: row.try_get("text")?,
                                inbox_id: row.try_get("inbox_id")?,
                                outbox_id: row.try_get("outbox_id")?,
                                created_at: row.try_get("created_at")?,
                            })
                        })
                        .collect()
                }

                async fn escalations_of(
                    &self,
                    conversation_id: &str,
                ) -> Result<Vec<EscalationRecord>, StoreError> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", escalation_columns!(),
                        " FROM escalations WHERE conversation_id = $1 ORDER BY id"
                    ))
                    .bind(conversation_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(escalation_row).collect()
                }

                async fn escalation_by_id(&self, id: &str) -> Result<Option<EscalationRecord>, StoreError> {
                    let row = sqlx::query(concat!(
                        "SELECT ", escalation_columns!(), " FROM escalations WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.as_ref().map(escalation_row).transpose()
                }

                async fn escalations_to_announce(
                    &self,
                    told_before: DateTime<Utc>,
                ) -> Result<Vec<EscalationRecord>, StoreError> {
                    let rows = sqlx::query(concat!(
                        "SELECT ", escalation_columns!(),
                        " FROM escalations WHERE status = 'open' \
                          AND (notified_at IS NULL OR notified_at < $1) ORDER BY created_at LIMIT 100"
                    ))
                    .bind(told_before)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(escalation_row).collect()
                }

                async fn is_own_outgoing(
                    &self,
                    key: &ChatKey,
                    external_id: &str,
                    text: Option<&str>,
                ) -> Result<bool, StoreError> {
                    let recent = Utc::now() - chrono::Duration::minutes(10);
                    let row = sqlx::query(OWN_OUTGOING)
                        .bind(key.channel.as_str())
                        .bind(&key.chat_id)
                        .bind(external_id)
                        .bind(external_id)
                        .bind(text)
                        .bind(recent)
                        .fetch_one(&self.pool)
                        .await?;
                    let n: i64 = row.try_get("n")?;
                    Ok(n > 0)
                }

                async fn follow_ups_of(
                    &self,
                    escalation_id: &str,
                ) -> Result<Vec<FollowUpRecord>, StoreError> {
                    sqlx::query(concat!(
                        "SELECT ", follow_up_columns!(),
                        " FROM escalation_notes n WHERE n.escalation_id = $1 \
                         ORDER BY n.created_at, n.id"
                    ))
                    .bind(escalation_id)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(follow_up_from)
                    .collect()
                }

                async fn follow_ups_due(&self) -> Result<Vec<FollowUpRecord>, StoreError> {
                    sqlx::query(concat!(
                        "SELECT ", follow_up_columns!(),
                        " FROM escalation_notes n JOIN escalations e ON e.id = n.escalation_id \
                         WHERE n.relay = $1 AND n.relayed_at IS NULL AND (e.status = 'claimed' \
                         OR (e.status = 'open' AND n.urgency IS NOT NULL)) \
                         ORDER BY n.created_at, n.id LIMIT 100"
                    ))
                    .bind(true)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(follow_up_from)
                    .collect()
                }

                async fn ownership_changes(
                    &self,
                    conversation_id: &str,
                ) -> Result<Vec<OwnershipRecord>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT from_owner, to_owner, changed_by, reason, created_at \
                         FROM ownership_changes WHERE conversation_id = $1 ORDER BY id",
                    )
                    .bind(conversation_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            let from: String = row.try_get("from_owner")?;
                            let to: String = row.try_get("to_owner")?;
                            Ok(OwnershipRecord {
                                from: parse_owner(&from)?,
                                to: parse_owner(&to)?,
                                by: row.try_get("changed_by")?,
                                reason: row.try_get("reason")?,
                                at: row.try_get("created_at")?,
                            })
                        })
                        .collect()
                }

                async fn count_conversations(&self) -> Result<i64, StoreError> {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
                        .fetch_one(&self.pool)
                        .await?)
                }

                async fn due_crm_commands(
                    &self,
                    now: DateTime<Utc>,
                    limit: i64,
                ) -> Result<Vec<CrmOutboxRecord>, StoreError> {
                    sqlx::query(select_crm_outbox!(
                        "c.status = 'pending' AND c.next_attempt_at <= $1 AND NOT EXISTS ( \
                         SELECT 1 FROM crm_outbox e WHERE e.status = 'pending' \
                         AND e.conversation_id = c.conversation_id \
                         AND (e.created_at < c.created_at \
                              OR (e.created_at = c.created_at AND e.id < c.id))) \
                         ORDER BY c.created_at, c.id LIMIT $2"
                    ))
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(crm_outbox_from)
                    .collect()
                }

                async fn crm_commands(
                    &self,
                    status: &str,
                    limit: i64,
                ) -> Result<Vec<CrmOutboxRecord>, StoreError> {
                    sqlx::query(select_crm_outbox!(
                        "c.status = $1 ORDER BY c.created_at, c.id LIMIT $2"
                    ))
                    .bind(status)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(crm_outbox_from)
                    .collect()
                }

                async fn crm_commands_of(
                    &self,
                    conversation_id: &str,
                ) -> Result<Vec<CrmOutboxRecord>, StoreError> {
                    sqlx::query(select_crm_outbox!(
                        "c.conversation_id = $1 ORDER BY c.created_at, c.id"
                    ))
                    .bind(conversation_id)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(crm_outbox_from)
                    .collect()
                }

                async fn crm_command(
                    &self,
                    id: &str,
                ) -> Result<Option<CrmOutboxRecord>, StoreError> {
                    sqlx::query(select_crm_outbox!("c.id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?
                        .as_ref()
                        .map(crm_outbox_from)
                        .transpose()
                }

                async fn list_conversations(
                    &self,
                    query: &ConversationQuery,
                ) -> Result<Vec<ConversationRecord>, StoreError> {
                    let mut qb = QueryBuilder::<$db>::new(select_conversations!("1 = 1"));
                    if let Some(channel) = query.channel {
                        qb.push(" AND channel = ").push_bind(channel.as_str());
                    }
                    if let Some(owner) = query.owner {
                        qb.push(" AND owner = ").push_bind(owner.as_str());
                    }
                    if let Some(since) = query.updated_since {
                        qb.push(" AND updated_at >= ").push_bind(since);
                    }
                    if let Some((at, id)) = &query.after {
                        qb.push(" AND (updated_at < ").push_bind(*at);
                        qb.push(" OR (updated_at = ").push_bind(*at);
                        qb.push(" AND id < ").push_bind(id.clone()).push("))");
                    }
                    qb.push(" ORDER BY updated_at DESC, id DESC LIMIT ").push_bind(query.limit);
                    qb.build()
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(conversation_from)
                        .collect()
                }

                async fn prompt_versions(&self, name: &str) -> Result<Vec<PromptVersion>, StoreError> {
                    sqlx::query(
                        "SELECT name, version, content, author, created_at FROM prompt_versions \
                         WHERE name = $1 ORDER BY version DESC",
                    )
                    .bind(name)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(prompt_version_from)
                    .collect()
                }

                async fn prompt_version(
                    &self,
                    name: &str,
                    version: i32,
                ) -> Result<Option<PromptVersion>, StoreError> {
                    sqlx::query(
                        "SELECT name, version, content, author, created_at FROM prompt_versions \
                         WHERE name = $1 AND version = $2",
                    )
                    .bind(name)
                    .bind(version)
                    .fetch_optional(&self.pool)
                    .await?
                    .as_ref()
                    .map(prompt_version_from)
                    .transpose()
                }

                async fn latest_prompt_versions(&self) -> Result<Vec<PromptVersion>, StoreError> {
                    sqlx::query(
                        "SELECT p.name, p.version, p.content, p.author, p.created_at \
                         FROM prompt_versions p JOIN (SELECT name, MAX(version) AS version \
                         FROM prompt_versions GROUP BY name) latest \
                         ON latest.name = p.name AND latest.version = p.version ORDER BY p.name",
                    )
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(prompt_version_from)
                    .collect()
                }

                async fn list_escalations(
                    &self,
                    status: Option<&str>,
                    limit: i64,
                ) -> Result<Vec<EscalationRecord>, StoreError> {
                    let mut qb = QueryBuilder::<$db>::new(select_escalations!("1 = 1"));
                    if let Some(status) = status {
                        qb.push(" AND status = ").push_bind(status.to_owned());
                    }
                    // Ids are UUIDv7: their order is the order of creation.
                    let waiting = matches!(status, Some("open" | "claimed"));
                    qb.push(if waiting { " ORDER BY id ASC" } else { " ORDER BY id DESC" });
                    qb.push(" LIMIT ").push_bind(limit);
                    qb.build()
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(escalation_row)
                        .collect()
                }

                async fn escalation(&self, id: &str) -> Result<Option<EscalationRecord>, StoreError> {
                    sqlx::query(select_escalations!("id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?
                        .as_ref()
                        .map(escalation_row)
                        .transpose()
                }

                async fn list_leads(&self, limit: i64, offset: i64) -> Result<Vec<LeadRecord>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT l.id, l.conversation_id, c.channel, l.name, l.phone, l.email, \
                         l.slots, l.stage, l.crm_contact_id, l.crm_deal_id, l.crm_stage, l.crm_phone, \
                         l.crm_email, l.crm_lead_id, l.created_at, l.updated_at \
                         FROM leads l JOIN conversations c ON c.id = l.conversation_id \
                         ORDER BY l.updated_at DESC, l.id DESC LIMIT $1 OFFSET $2",
                    )
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            let channel: String = row.try_get("channel")?;
                            Ok(LeadRecord {
                                id: row.try_get("id")?,
                                conversation_id: row.try_get("conversation_id")?,
                                channel: Some(parse_channel("leads", &channel)?),
                                name: row.try_get("name")?,
                                phone: row.try_get("phone")?,
                                email: row.try_get("email")?,
                                slots: json(row, "slots")?,
                                stage: row.try_get("stage")?,
                                crm_contact_id: row.try_get("crm_contact_id")?,
                                crm_deal_id: row.try_get("crm_deal_id")?,
                                crm_stage: row.try_get("crm_stage")?,
                                crm_phone: row.try_get("crm_phone")?,
                                crm_email: row.try_get("crm_email")?,
                                crm_lead_id: row.try_get("crm_lead_id")?,
                                created_at: row.try_get("created_at")?,
                                updated_at: row.try_get("updated_at")?,
                            })
                        })
                        .collect()
                }

                async fn crm_outbox_list(
                    &self,
                    status: Option<&str>,
                    limit: i64,
                ) -> Result<Vec<CrmOutboxRecord>, StoreError> {
                    let mut qb = QueryBuilder::<$db>::new(select_crm_outbox!("1 = 1"));
                    if let Some(status) = status {
                        qb.push(" AND status = ").push_bind(status.to_owned());
                    }
                    qb.push(" ORDER BY created_at, id LIMIT ").push_bind(limit);
                    qb.build()
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(crm_outbox_from)
                        .collect()
                }

                async fn crm_outbox_entry(&self, id: &str) -> Result<Option<CrmOutboxRecord>, StoreError> {
                    sqlx::query(select_crm_outbox!("id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?
                        .as_ref()
                        .map(crm_outbox_from)
                        .transpose()
                }

                async fn lead(
                    &self,
                    conversation_id: &str,
                ) -> Result<Option<LeadRecord>, StoreError> {
                    sqlx::query(select_leads!("conversation_id = $1"))
                        .bind(conversation_id)
                        .fetch_optional(&self.pool)
                        .await?
                        .as_ref()
                        .map(lead_from)
                        .transpose()
                }

                async fn lead_with_contact(
                    &self,
                    phone: Option<&str>,
                    email: Option<&str>,
                    except_conversation: &str,
                ) -> Result<Option<LeadRecord>, StoreError> {
                    if phone.is_none() && email.is_none() {
                        return Ok(None);
                    }
                    sqlx::query(select_leads!(
                        "crm_contact_id IS NOT NULL AND conversation_id <> $3 \
                         AND (phone = $1 OR email = $2) ORDER BY created_at, id LIMIT 1"
                    ))
                    .bind(phone)
                    .bind(email)
                    .bind(except_conversation)
                    .fetch_optional(&self.pool)
                    .await?
                    .as_ref()
                    .map(lead_from)
                    .transpose()
                }

                async fn outbox_list(
                    &self,
                    status: &str,
                    limit: i64,
                ) -> Result<Vec<OutboxRecord>, StoreError> {
                    sqlx::query(select_outbox!("status = $1 ORDER BY created_at, id LIMIT $2"))
                        .bind(status)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(outbox_from)
                        .collect()
                }

                async fn outbox_entry(&self, id: &str) -> Result<Option<OutboxRecord>, StoreError> {
                    sqlx::query(select_outbox!("id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?
                        .as_ref()
                        .map(outbox_from)
                        .transpose()
                }

                async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
                    let row = sqlx::query(QUEUE_DEPTHS).fetch_one(&self.pool).await?;
                    Ok(QueueDepths {
                        inbox_pending: row.try_get("inbox_pending")?,
                        inbox_failed: row.try_get("inbox_failed")?,
                        outbox_pending: row.try_get("outbox_pending")?,
                        outbox_failed: row.try_get("outbox_failed")?,
                        crm_pending: row.try_get("crm_pending")?,
                        crm_failed: row.try_get("crm_failed")?,
                        crm_held: row.try_get("crm_held")?,
                        escalations_open: row.try_get("escalations_open")?,
                        escalations_claimed: row.try_get("escalations_claimed")?,
                    })
                }
            }
        }
    };
}

pub(crate) use impl_store;

#[cfg(test)]
mod tests {
    #[test]
    fn rows_split_into_few_reusable_shapes() {
        let rows: Vec<u32> = (0..100).collect();
        let sizes: Vec<usize> = super::cacheable_chunks(&rows, 64)
            .map(<[u32]>::len)
            .collect();
        assert_eq!(sizes, [64, 32, 4]);
        let sizes: Vec<usize> = super::cacheable_chunks(&rows, 16)
            .map(<[u32]>::len)
            .collect();
        assert_eq!(sizes, [16, 16, 16, 16, 16, 16, 4]);
        let flat: Vec<u32> = super::cacheable_chunks(&rows, 64)
            .flatten()
            .copied()
            .collect();
        assert_eq!(flat, rows, "order kept, nothing lost");
        assert_eq!(super::cacheable_chunks::<u32>(&[], 64).count(), 0);
    }
}
