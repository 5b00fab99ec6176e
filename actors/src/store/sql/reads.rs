//! The [`Store`] of this backend: its reads, table by table, in the trait's order; writes go
//! to `writes`. Each read is one statement; its rows are fetched as the private row types of
//! `store::rows` and become records there.

use super::{Backend, Db, NAME, writes};
use crate::store::rows::{self, IntoRecord, record, records};
use crate::store::statements::*;
use crate::store::*;
use chrono::{DateTime, Utc};
use dialogs::{Channel, ChatKey};
use sqlx::{QueryBuilder, query_as};

#[async_trait::async_trait]
impl Store for Backend {
    fn backend(&self) -> &'static str {
        NAME
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn prepare(&self) -> Result<(), StoreError> {
        self.prepare_backend().await
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Vec<Result<WriteOutcome, StoreError>> {
        writes::write_batch(&self.pool, ops).await
    }

    // --- conversations, their transcript and changes of hands ---

    async fn conversation_by_chat(
        &self,
        key: &ChatKey,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let sql = select_conversations!("channel = $1 AND chat_id = $2");
        let row: Option<rows::ConversationRow> = query_as(sql)
            .bind(key.channel.as_str())
            .bind(&key.chat_id)
            .fetch_optional(&self.pool)
            .await?;
        record(row)
    }

    async fn conversation(&self, id: &str) -> Result<Option<ConversationRecord>, StoreError> {
        let row: Option<rows::ConversationRow> = query_as(select_conversations!("id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        record(row)
    }

    async fn list_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(select_conversations!("1 = 1"));
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
        qb.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
            .push_bind(query.limit);
        let rows: Vec<rows::ConversationRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        records(rows)
    }

    async fn count_conversations(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn transcript(&self, conversation_id: &str) -> Result<Vec<TranscriptEntry>, StoreError> {
        Ok(query_as(
            "SELECT id, direction, text, inbox_id, outbox_id, created_at \
             FROM transcript WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn ownership_changes(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<OwnershipRecord>, StoreError> {
        let rows: Vec<rows::OwnershipRow> = query_as(
            "SELECT from_owner, to_owner, changed_by, reason, created_at \
             FROM ownership_changes WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?;
        records(rows)
    }

    // --- inbox ---

    async fn pending_inbox(&self) -> Result<Vec<InboxMessage>, StoreError> {
        let rows: Vec<rows::InboxRow> = query_as(select_inbox!("status = 'pending' ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| r.record().map(|r| r.message))
            .collect()
    }

    async fn parked_inbox(&self, limit: i64) -> Result<Vec<InboxRecord>, StoreError> {
        let sql = select_inbox!("status = 'failed' ORDER BY id LIMIT $1");
        let rows: Vec<rows::InboxRow> = query_as(sql).bind(limit).fetch_all(&self.pool).await?;
        records(rows)
    }

    async fn inbox_by_id(&self, id: i64) -> Result<Option<InboxRecord>, StoreError> {
        let row: Option<rows::InboxRow> = query_as(select_inbox!("id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        record(row)
    }

    async fn inbox_entry(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> Result<Option<InboxRecord>, StoreError> {
        let row: Option<rows::InboxRow> =
            query_as(select_inbox!("channel = $1 AND external_id = $2"))
                .bind(channel.as_str())
                .bind(external_id)
                .fetch_optional(&self.pool)
                .await?;
        record(row)
    }

    // --- outbox ---

    async fn unsent_outbox(&self) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows: Vec<rows::OutboxRow> = query_as(select_outbox!("status = 'pending' ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| r.record().map(|r| r.message))
            .collect()
    }

    async fn outbox_of(&self, conversation_id: &str) -> Result<Vec<OutboxRecord>, StoreError> {
        let rows: Vec<rows::OutboxRow> =
            query_as(select_outbox!("conversation_id = $1 ORDER BY id"))
                .bind(conversation_id)
                .fetch_all(&self.pool)
                .await?;
        records(rows)
    }

    async fn outbox_list(
        &self,
        status: OutboxStatus,
        limit: i64,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let sql = select_outbox!("status = $1 ORDER BY created_at, id LIMIT $2");
        let rows: Vec<rows::OutboxRow> = query_as(sql)
            .bind(status.as_str())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        records(rows)
    }

    async fn outbox_entry(&self, id: &str) -> Result<Option<OutboxRecord>, StoreError> {
        let row: Option<rows::OutboxRow> = query_as(select_outbox!("id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        record(row)
    }

    async fn is_own_outgoing(
        &self,
        key: &ChatKey,
        external_id: &str,
        text: Option<&str>,
    ) -> Result<bool, StoreError> {
        let recent = Utc::now() - chrono::Duration::minutes(10);
        let n: i64 = sqlx::query_scalar(OWN_OUTGOING)
            .bind(key.channel.as_str())
            .bind(&key.chat_id)
            .bind(external_id)
            .bind(external_id)
            .bind(text)
            .bind(recent)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    // --- escalations and their follow-ups ---

    async fn escalation(&self, id: &str) -> Result<Option<EscalationRecord>, StoreError> {
        let row: Option<rows::EscalationRow> = query_as(select_escalations!("id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        record(row)
    }

    async fn escalations_of(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<EscalationRecord>, StoreError> {
        let sql = select_escalations!("conversation_id = $1 ORDER BY id");
        let rows: Vec<rows::EscalationRow> = query_as(sql)
            .bind(conversation_id)
            .fetch_all(&self.pool)
            .await?;
        records(rows)
    }

    async fn list_escalations(
        &self,
        status: Option<EscalationStatus>,
        limit: i64,
    ) -> Result<Vec<EscalationRecord>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(select_escalations!("1 = 1"));
        if let Some(status) = status {
            qb.push(" AND status = ").push_bind(status.as_str());
        }
        // Ids are UUIDv7: their order is the order of creation.
        let waiting = matches!(
            status,
            Some(EscalationStatus::Open | EscalationStatus::Claimed)
        );
        qb.push(if waiting {
            " ORDER BY id ASC"
        } else {
            " ORDER BY id DESC"
        });
        qb.push(" LIMIT ").push_bind(limit);
        let rows: Vec<rows::EscalationRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        records(rows)
    }

    async fn escalations_to_announce(
        &self,
        told_before: DateTime<Utc>,
    ) -> Result<Vec<EscalationRecord>, StoreError> {
        let sql = select_escalations!(
            "status = 'open' AND (notified_at IS NULL OR notified_at < $1) \
             ORDER BY created_at LIMIT 100"
        );
        let rows: Vec<rows::EscalationRow> = query_as(sql)
            .bind(told_before)
            .fetch_all(&self.pool)
            .await?;
        records(rows)
    }

    async fn follow_ups_of(&self, escalation_id: &str) -> Result<Vec<FollowUpRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            follow_up_columns!(),
            " FROM escalation_notes n WHERE n.escalation_id = $1 ORDER BY n.created_at, n.id"
        );
        let rows: Vec<rows::FollowUpRow> = query_as(sql)
            .bind(escalation_id)
            .fetch_all(&self.pool)
            .await?;
        records(rows)
    }

    async fn follow_ups_due(&self) -> Result<Vec<FollowUpRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            follow_up_columns!(),
            " FROM escalation_notes n JOIN escalations e ON e.id = n.escalation_id \
             WHERE n.relay = $1 AND n.relayed_at IS NULL AND (e.status = 'claimed' \
             OR (e.status = 'open' AND n.urgency IS NOT NULL)) \
             ORDER BY n.created_at, n.id LIMIT 100"
        );
        let rows: Vec<rows::FollowUpRow> = query_as(sql).bind(true).fetch_all(&self.pool).await?;
        records(rows)
    }

    // --- crm_outbox ---

    async fn due_crm_commands(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<CrmOutboxRecord>, StoreError> {
        let sql = select_crm_outbox!(
            "c.status = 'pending' AND c.next_attempt_at <= $1 AND NOT EXISTS ( \
             SELECT 1 FROM crm_outbox e WHERE e.status = 'pending' \
             AND e.conversation_id = c.conversation_id \
             AND (e.created_at < c.created_at \
                  OR (e.created_at = c.created_at AND e.id < c.id))) \
             ORDER BY c.created_at, c.id LIMIT $2"
        );
        let rows: Vec<rows::CrmOutboxRow> = query_as(sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        records(rows)
    }

    async fn crm_commands(
        &self,
        status: Option<CrmStatus>,
        limit: i64,
    ) -> Result<Vec<CrmOutboxRecord>, StoreError> {
        let rows: Vec<rows::CrmOutboxRow> = match status {
            Some(status) => {
                let sql = select_crm_outbox!("c.status = $1 ORDER BY c.created_at, c.id LIMIT $2");
                let query = query_as(sql).bind(status.as_str()).bind(limit);
                query.fetch_all(&self.pool).await?
            }
            None => {
                let sql = select_crm_outbox!("1 = 1 ORDER BY c.created_at, c.id LIMIT $1");
                query_as(sql).bind(limit).fetch_all(&self.pool).await?
            }
        };
        records(rows)
    }

    async fn crm_commands_of(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<CrmOutboxRecord>, StoreError> {
        let sql = select_crm_outbox!("c.conversation_id = $1 ORDER BY c.created_at, c.id");
        let rows: Vec<rows::CrmOutboxRow> = query_as(sql)
            .bind(conversation_id)
            .fetch_all(&self.pool)
            .await?;
        records(rows)
    }

    async fn crm_command(&self, id: &str) -> Result<Option<CrmOutboxRecord>, StoreError> {
        let row: Option<rows::CrmOutboxRow> = query_as(select_crm_outbox!("c.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        record(row)
    }

    // --- leads ---

    async fn lead(&self, conversation_id: &str) -> Result<Option<LeadRecord>, StoreError> {
        let row: Option<rows::LeadRow> = query_as(select_leads!("conversation_id = $1"))
            .bind(conversation_id)
            .fetch_optional(&self.pool)
            .await?;
        record(row)
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
        let sql = select_leads!(
            "crm_contact_id IS NOT NULL AND conversation_id <> $3 \
             AND (phone = $1 OR email = $2) ORDER BY created_at, id LIMIT 1"
        );
        let row: Option<rows::LeadRow> = query_as(sql)
            .bind(phone)
            .bind(email)
            .bind(except_conversation)
            .fetch_optional(&self.pool)
            .await?;
        record(row)
    }

    async fn list_leads(&self, limit: i64, offset: i64) -> Result<Vec<LeadRecord>, StoreError> {
        let rows: Vec<rows::LeadWithChannelRow> = query_as(
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
        records(rows)
    }

    // --- prompt_versions ---

    async fn prompt_versions(&self, name: &str) -> Result<Vec<PromptVersion>, StoreError> {
        Ok(query_as(
            "SELECT name, version, content, author, created_at FROM prompt_versions \
             WHERE name = $1 ORDER BY version DESC",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn prompt_version(
        &self,
        name: &str,
        version: i32,
    ) -> Result<Option<PromptVersion>, StoreError> {
        Ok(query_as(
            "SELECT name, version, content, author, created_at FROM prompt_versions \
             WHERE name = $1 AND version = $2",
        )
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn latest_prompt_versions(&self) -> Result<Vec<PromptVersion>, StoreError> {
        Ok(query_as(
            "SELECT p.name, p.version, p.content, p.author, p.created_at \
             FROM prompt_versions p JOIN (SELECT name, MAX(version) AS version \
             FROM prompt_versions GROUP BY name) latest \
             ON latest.name = p.name AND latest.version = p.version ORDER BY p.name",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    // --- every queue ---

    async fn queue_depths(&self) -> Result<QueueDepths, StoreError> {
        Ok(query_as(QUEUE_DEPTHS).fetch_one(&self.pool).await?)
    }
}
