//! The rows the reads fetch, as the database hands them over (`sqlx::FromRow`, by column
//! name), and the one place each becomes a record of [`model`](super::model): names parsed
//! into enums, JSON columns unwrapped. A value no longer understood is a
//! [`StoreError::Corrupt`] naming its table.

use super::StoreError;
use super::model::*;
use chrono::{DateTime, Utc};
use dialogs::ChatKey;
use dialogs::handover::{Desk, Urgency};
use serde_json::Value;
use sqlx::types::Json;

/// A row that becomes a record (or says why it cannot).
pub(crate) trait IntoRecord {
    type Record;
    fn record(self) -> Result<Self::Record, StoreError>;
}

/// A stored name that parses into `T`, or a `Corrupt` error naming the table and the column.
fn named<T>(
    table: &'static str,
    what: &str,
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(value).ok_or_else(|| StoreError::Corrupt {
        table,
        reason: format!("unknown {what} `{value}`"),
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct ConversationRow {
    id: String,
    channel: String,
    chat_id: String,
    customer_name: Option<String>,
    customer_phone: Option<String>,
    customer_email: Option<String>,
    route: Json<Value>,
    state: Json<Value>,
    owner: String,
    owner_since: DateTime<Utc>,
    owned_by: Option<String>,
    owned_via: Option<String>,
    unreachable: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl IntoRecord for ConversationRow {
    type Record = ConversationRecord;
    fn record(self) -> Result<ConversationRecord, StoreError> {
        Ok(ConversationRecord {
            id: self.id,
            key: ChatKey::new(parse_channel("conversations", &self.channel)?, self.chat_id),
            customer_name: self.customer_name,
            customer_phone: self.customer_phone,
            customer_email: self.customer_email,
            route: self.route.0,
            state: self.state.0,
            owner: parse_owner(&self.owner)?,
            owner_since: self.owner_since,
            owned_by: self.owned_by,
            owned_via: match self.owned_via {
                None => None,
                Some(d) => Some(named("conversations", "desk", &d, Desk::parse)?),
            },
            unreachable: self.unreachable,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct InboxRow {
    id: i64,
    channel: String,
    external_id: String,
    chat_id: String,
    kind: String,
    text: String,
    sender_name: Option<String>,
    route: Json<Value>,
    payload: Json<Value>,
    sent_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    status: String,
    error: Option<String>,
}

impl IntoRecord for InboxRow {
    type Record = InboxRecord;
    fn record(self) -> Result<InboxRecord, StoreError> {
        Ok(InboxRecord {
            message: InboxMessage {
                id: self.id,
                inbound: NewInbound {
                    key: ChatKey::new(parse_channel("inbox", &self.channel)?, self.chat_id),
                    external_id: self.external_id,
                    kind: parse_kind(&self.kind, &self.payload.0)?,
                    text: self.text,
                    sender_name: self.sender_name,
                    route: self.route.0,
                    payload: self.payload.0,
                    sent_at: self.sent_at,
                },
                received_at: self.received_at,
            },
            status: named("inbox", "status", &self.status, InboxStatus::parse)?,
            error: self.error,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: String,
    conversation_id: String,
    channel: String,
    chat_id: String,
    route: Json<Value>,
    text: String,
    buttons: Json<Value>,
    attempts: i32,
    created_at: DateTime<Utc>,
    status: String,
    last_error: Option<String>,
    external_id: Option<String>,
}

impl IntoRecord for OutboxRow {
    type Record = OutboxRecord;
    fn record(self) -> Result<OutboxRecord, StoreError> {
        let buttons = serde_json::from_value(self.buttons.0).map_err(|e| StoreError::Corrupt {
            table: "outbox",
            reason: format!("buttons: {e}"),
        })?;
        Ok(OutboxRecord {
            message: OutboxMessage {
                id: self.id,
                conversation_id: self.conversation_id,
                key: ChatKey::new(parse_channel("outbox", &self.channel)?, self.chat_id),
                route: self.route.0,
                text: self.text,
                buttons,
                attempts: self.attempts,
                created_at: self.created_at,
            },
            status: named("outbox", "status", &self.status, OutboxStatus::parse)?,
            last_error: self.last_error,
            external_id: self.external_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EscalationRow {
    id: String,
    conversation_id: String,
    reason: String,
    details: Json<Value>,
    status: String,
    claimed_by: Option<String>,
    claimed_at: Option<DateTime<Utc>>,
    first_answer_at: Option<DateTime<Utc>>,
    notified_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl IntoRecord for EscalationRow {
    type Record = EscalationRecord;
    fn record(self) -> Result<EscalationRecord, StoreError> {
        // Details written by an older version may not fit today's types (an offer's fields
        // change): such a row still reads, with empty details, rather than making every list
        // of escalations (and the managers' reminders) fail. The stored JSON is kept as it is.
        let details = serde_json::from_value(self.details.0).unwrap_or_else(|e| {
            tracing::warn!(escalation = %self.id, error = %e,
                "stored escalation details unreadable; shown empty");
            Default::default()
        });
        Ok(EscalationRecord {
            id: self.id,
            conversation_id: self.conversation_id,
            reason: EscalationKind::parse(&self.reason),
            details,
            status: named(
                "escalations",
                "status",
                &self.status,
                EscalationStatus::parse,
            )?,
            claimed_by: self.claimed_by,
            claimed_at: self.claimed_at,
            first_answer_at: self.first_answer_at,
            notified_at: self.notified_at,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FollowUpRow {
    id: String,
    escalation_id: String,
    conversation_id: String,
    text: String,
    urgency: Option<String>,
    relay: bool,
    relayed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl IntoRecord for FollowUpRow {
    type Record = FollowUpRecord;
    fn record(self) -> Result<FollowUpRecord, StoreError> {
        Ok(FollowUpRecord {
            id: self.id,
            escalation_id: self.escalation_id,
            conversation_id: self.conversation_id,
            text: self.text,
            urgency: match self.urgency {
                None => None,
                Some(u) => Some(named("escalation_notes", "urgency", &u, Urgency::parse)?),
            },
            relay: self.relay,
            relayed_at: self.relayed_at,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OwnershipRow {
    from_owner: String,
    to_owner: String,
    changed_by: String,
    reason: String,
    created_at: DateTime<Utc>,
}

impl IntoRecord for OwnershipRow {
    type Record = OwnershipRecord;
    fn record(self) -> Result<OwnershipRecord, StoreError> {
        Ok(OwnershipRecord {
            from: parse_owner(&self.from_owner)?,
            to: parse_owner(&self.to_owner)?,
            by: self.changed_by,
            reason: self.reason,
            at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CrmOutboxRow {
    id: String,
    conversation_id: Option<String>,
    command: String,
    payload: Json<Value>,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    result: Option<Json<Value>>,
    next_attempt_at: DateTime<Utc>,
    held_since: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl IntoRecord for CrmOutboxRow {
    type Record = CrmOutboxRecord;
    fn record(self) -> Result<CrmOutboxRecord, StoreError> {
        Ok(CrmOutboxRecord {
            id: self.id,
            conversation_id: self.conversation_id,
            command: self.command,
            payload: self.payload.0,
            status: named("crm_outbox", "status", &self.status, CrmStatus::parse)?,
            attempts: self.attempts,
            last_error: self.last_error,
            result: self.result.map(|j| j.0),
            next_attempt_at: self.next_attempt_at,
            held_since: self.held_since,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LeadRow {
    id: String,
    conversation_id: String,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    slots: Json<Value>,
    stage: Option<String>,
    crm_contact_id: Option<i64>,
    crm_deal_id: Option<i64>,
    crm_stage: Option<String>,
    crm_phone: Option<String>,
    crm_email: Option<String>,
    crm_lead_id: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl IntoRecord for LeadRow {
    type Record = LeadRecord;
    fn record(self) -> Result<LeadRecord, StoreError> {
        Ok(LeadRecord {
            id: self.id,
            conversation_id: self.conversation_id,
            channel: None,
            name: self.name,
            phone: self.phone,
            email: self.email,
            slots: self.slots.0,
            stage: self.stage,
            crm_contact_id: self.crm_contact_id,
            crm_deal_id: self.crm_deal_id,
            crm_stage: self.crm_stage,
            crm_phone: self.crm_phone,
            crm_email: self.crm_email,
            crm_lead_id: self.crm_lead_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A lead read with its conversation's channel (the lead list).
#[derive(sqlx::FromRow)]
pub(crate) struct LeadWithChannelRow {
    #[sqlx(flatten)]
    lead: LeadRow,
    channel: String,
}

impl IntoRecord for LeadWithChannelRow {
    type Record = LeadRecord;
    fn record(self) -> Result<LeadRecord, StoreError> {
        let channel = parse_channel("leads", &self.channel)?;
        let mut lead = self.lead.record()?;
        lead.channel = Some(channel);
        Ok(lead)
    }
}

/// Rows that become records as they are, one by one.
pub(crate) fn records<R: IntoRecord>(rows: Vec<R>) -> Result<Vec<R::Record>, StoreError> {
    rows.into_iter().map(R::record).collect()
}

/// A row, if any, as its record.
pub(crate) fn record<R: IntoRecord>(row: Option<R>) -> Result<Option<R::Record>, StoreError> {
    row.map(R::record).transpose()
}
