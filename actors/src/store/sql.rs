//! The SQL both backends share. SQLite accepts `$1` placeholders, so one text serves both; the
//! macro below instantiates the [`Store`](super::Store) implementation once per backend, with
//! the backend's pool type. Timestamps bind as `DateTime<Utc>` (TEXT in SQLite, TIMESTAMPTZ in
//! PostgreSQL) and JSON as `Json` (TEXT / JSONB).

pub(crate) const INSERT_INBOUND: &str = "INSERT INTO inbox \
    (channel, external_id, chat_id, kind, text, sender_name, route, payload, sent_at, received_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (channel, external_id) DO NOTHING RETURNING id";

pub(crate) const MARK_INBOX_HANDLED: &str =
    "UPDATE inbox SET status = 'handled', handled_at = $2 WHERE id = $1 AND status = 'pending'";

pub(crate) const PARK_INBOX: &str = "UPDATE inbox SET status = 'failed', error = $2, handled_at = $3 \
    WHERE id = $1 AND status = 'pending'";

pub(crate) const UPSERT_CONVERSATION: &str = "INSERT INTO conversations \
    (id, channel, chat_id, customer_name, customer_phone, customer_email, route, state, owner, \
     owner_since, owned_by, unreachable, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
    ON CONFLICT (id) DO UPDATE SET customer_name = excluded.customer_name, \
     customer_phone = excluded.customer_phone, customer_email = excluded.customer_email, \
     route = excluded.route, state = excluded.state, owner = excluded.owner, \
     owner_since = excluded.owner_since, owned_by = excluded.owned_by, \
     unreachable = excluded.unreachable, updated_at = excluded.updated_at";

pub(crate) const INSERT_TRANSCRIPT: &str = "INSERT INTO transcript \
    (conversation_id, direction, text, inbox_id, outbox_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const INSERT_OUTBOX: &str = "INSERT INTO outbox \
    (id, conversation_id, channel, chat_id, route, text, buttons, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";

pub(crate) const INSERT_ESCALATION: &str = "INSERT INTO escalations \
    (id, conversation_id, reason, details, created_at) VALUES ($1, $2, $3, $4, $5)";

pub(crate) const OUTBOX_SENT: &str = "UPDATE outbox SET status = 'sent', attempts = attempts + 1, \
    external_id = $2, last_error = NULL, updated_at = $3 WHERE id = $1 AND status = 'pending'";

pub(crate) const OUTBOX_FAILED: &str = "UPDATE outbox SET attempts = attempts + 1, last_error = $2, \
    status = CASE WHEN $3 THEN 'failed' ELSE status END, updated_at = $4 \
    WHERE id = $1 AND status = 'pending'";

/// `SELECT <every conversation column> FROM conversations WHERE <clause>`, as a literal.
macro_rules! select_conversations {
    ($clause:literal) => {
        concat!(
            "SELECT id, channel, chat_id, customer_name, customer_phone, customer_email, route, ",
            "state, owner, owner_since, owned_by, unreachable, created_at, updated_at ",
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

pub(crate) use {select_conversations, select_inbox, select_outbox};

/// Implements `Store` for `$store` (a struct with a `pool: sqlx::Pool<$db>` field).
macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:literal) => {
        mod shared_sql {
            use super::*;
            use crate::store::model::{parse_channel, parse_owner};
            use crate::store::sql::*;
            use crate::store::*;
            use chrono::{DateTime, Utc};
            use dialogs::{Channel, ChatKey};
            use sqlx::Row;
            use sqlx::types::Json;

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
                            kind: row.try_get("kind")?,
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

            async fn transcript_line(
                conn: &mut Conn,
                conversation_id: &str,
                direction: &str,
                text: &str,
                inbox_id: Option<i64>,
                outbox_id: Option<&str>,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(INSERT_TRANSCRIPT)
                    .bind(conversation_id)
                    .bind(direction)
                    .bind(text)
                    .bind(inbox_id)
                    .bind(outbox_id)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn commit_turn(conn: &mut Conn, t: &TurnCommit) -> Result<WriteOutcome, StoreError> {
                let marked = sqlx::query(MARK_INBOX_HANDLED)
                    .bind(t.inbox_id)
                    .bind(t.at)
                    .execute(&mut *conn)
                    .await?;
                if marked.rows_affected() == 0 {
                    return Ok(WriteOutcome::AlreadyHandled);
                }
                let c = &t.conversation;
                sqlx::query(UPSERT_CONVERSATION)
                    .bind(&c.id)
                    .bind(c.key.channel.as_str())
                    .bind(&c.key.chat_id)
                    .bind(&c.customer_name)
                    .bind(&c.customer_phone)
                    .bind(&c.customer_email)
                    .bind(Json(&c.route))
                    .bind(Json(&c.state))
                    .bind(c.owner.as_str())
                    .bind(c.owner_since)
                    .bind(&c.owned_by)
                    .bind(c.unreachable)
                    .bind(c.created_at)
                    .bind(c.updated_at)
                    .execute(&mut *conn)
                    .await?;
                transcript_line(conn, &c.id, "in", &t.inbound_text, Some(t.inbox_id), None, t.at)
                    .await?;
                for r in &t.replies {
                    sqlx::query(INSERT_OUTBOX)
                        .bind(&r.id)
                        .bind(&r.conversation_id)
                        .bind(r.key.channel.as_str())
                        .bind(&r.key.chat_id)
                        .bind(Json(&r.route))
                        .bind(&r.text)
                        .bind(Json(&r.buttons))
                        .bind(r.created_at)
                        .execute(&mut *conn)
                        .await?;
                    transcript_line(conn, &c.id, "out", &r.text, None, Some(&r.id), t.at).await?;
                }
                for e in &t.escalations {
                    sqlx::query(INSERT_ESCALATION)
                        .bind(&e.id)
                        .bind(&c.id)
                        .bind(&e.reason)
                        .bind(Json(&e.details))
                        .bind(t.at)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(WriteOutcome::Committed)
            }

            async fn apply(conn: &mut Conn, op: &WriteOp) -> Result<WriteOutcome, StoreError> {
                match op {
                    WriteOp::InsertInbound(m) => {
                        use chrono::SubsecRound;
                        let received_at = crate::store::model::now();
                        let mut m = m.clone();
                        m.sent_at = m.sent_at.trunc_subsecs(6);
                        let id: Option<i64> = sqlx::query_scalar(INSERT_INBOUND)
                            .bind(m.key.channel.as_str())
                            .bind(&m.external_id)
                            .bind(&m.key.chat_id)
                            .bind(&m.kind)
                            .bind(&m.text)
                            .bind(&m.sender_name)
                            .bind(Json(&m.route))
                            .bind(Json(&m.payload))
                            .bind(m.sent_at)
                            .bind(received_at)
                            .fetch_optional(&mut *conn)
                            .await?;
                        Ok(match id {
                            Some(id) => WriteOutcome::Inserted(Box::new(InboxMessage {
                                id,
                                inbound: m,
                                received_at,
                            })),
                            None => WriteOutcome::Duplicate,
                        })
                    }
                    WriteOp::CommitTurn(t) => commit_turn(conn, t).await,
                    WriteOp::OutboxSent { id, external_id, at } => {
                        sqlx::query(OUTBOX_SENT)
                            .bind(id)
                            .bind(external_id)
                            .bind(*at)
                            .execute(&mut *conn)
                            .await?;
                        Ok(WriteOutcome::Done)
                    }
                    WriteOp::OutboxFailed { id, error, permanent, at } => {
                        sqlx::query(OUTBOX_FAILED)
                            .bind(id)
                            .bind(error)
                            .bind(*permanent)
                            .bind(*at)
                            .execute(&mut *conn)
                            .await?;
                        Ok(WriteOutcome::Done)
                    }
                    WriteOp::ParkInbound { id, error, at } => {
                        let parked = sqlx::query(PARK_INBOX)
                            .bind(*id)
                            .bind(error)
                            .bind(*at)
                            .execute(&mut *conn)
                            .await?;
                        Ok(if parked.rows_affected() == 0 {
                            WriteOutcome::AlreadyHandled
                        } else {
                            WriteOutcome::Done
                        })
                    }
                }
            }

            impl $store {
                async fn apply_in_one_transaction(
                    &self,
                    ops: &[WriteOp],
                ) -> Result<Vec<WriteOutcome>, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    let mut outcomes = Vec::with_capacity(ops.len());
                    for op in ops {
                        outcomes.push(apply(&mut tx, op).await?);
                    }
                    tx.commit().await?;
                    Ok(outcomes)
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

                async fn write_batch(
                    &self,
                    ops: Vec<WriteOp>,
                ) -> Vec<Result<WriteOutcome, StoreError>> {
                    match self.apply_in_one_transaction(&ops).await {
                        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
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
                    let rows = sqlx::query(
                        "SELECT id, conversation_id, reason, details, status, created_at \
                         FROM escalations WHERE conversation_id = $1 ORDER BY id",
                    )
                    .bind(conversation_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            Ok(EscalationRecord {
                                id: row.try_get("id")?,
                                conversation_id: row.try_get("conversation_id")?,
                                reason: row.try_get("reason")?,
                                details: json(row, "details")?,
                                status: row.try_get("status")?,
                                created_at: row.try_get("created_at")?,
                            })
                        })
                        .collect()
                }

                async fn count_conversations(&self) -> Result<i64, StoreError> {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
                        .fetch_one(&self.pool)
                        .await?)
                }
            }
        }
    };
}

pub(crate) use impl_store;
