//! The shapes the admin API answers with, for the OpenAPI document ([`super::openapi`]).
//!
//! Answers the handlers build themselves are typed where they are built (in each route's
//! file). The store's records (`actors::store`) are answered as they serialise; the types here
//! describe them. They are never built — `dead_code` is allowed for that — and cannot drift
//! unnoticed: the contract test (`tests/engine/admin.rs`) checks every answer of every
//! documented operation against its schema, and refuses a property the schema does not name.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde_json::Value;
use utoipa::ToSchema;

/// One line of a conversation's transcript (`actors::store::TranscriptEntry`).
#[derive(ToSchema)]
pub struct TranscriptLine {
    pub id: i64,
    /// `in` (customer), `out` (bot), `manager`, `system`.
    pub direction: String,
    pub text: String,
    pub inbox_id: Option<i64>,
    pub outbox_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A request for a manager (`actors::store::EscalationRecord`).
#[derive(ToSchema)]
pub struct Escalation {
    pub id: String,
    pub conversation_id: String,
    /// Why (`actors::store::EscalationKind`): the dialog's reason (`human_request`,
    /// `booking_request`, …) or the engine's own (`message_failed`, `undelivered`).
    pub reason: String,
    /// What the bot knew when it asked (`dialogs::turn::EscalationDetails`; reason-specific
    /// keys, absent when empty).
    #[schema(value_type = Object)]
    pub details: Value,
    /// `open`, `claimed` or `resolved`.
    pub status: String,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    /// When a manager first wrote to the customer after claiming.
    pub first_answer_at: Option<DateTime<Utc>>,
    /// When the managers were last told about it.
    pub notified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A conversation's lead (`actors::store::LeadRecord`).
#[derive(ToSchema)]
pub struct Lead {
    pub id: String,
    pub conversation_id: String,
    /// `telegram`, `wazzup`, `email` or `console`.
    pub channel: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// What the customer asked for: departure city, country, resort, dates, nights, party,
    /// budget.
    #[schema(value_type = Object)]
    pub slots: Value,
    /// The deal stage the conversation reached, snake_case.
    pub stage: Option<String>,
    pub crm_contact_id: Option<i64>,
    pub crm_deal_id: Option<i64>,
    pub crm_stage: Option<String>,
    pub crm_phone: Option<String>,
    pub crm_email: Option<String>,
    /// Leads mode (`BITRIX_USE_LEADS`): the Bitrix24 lead.
    pub crm_lead_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A command of the CRM outbox (`actors::store::CrmOutboxRecord`).
#[derive(ToSchema)]
pub struct CrmCommand {
    pub id: String,
    pub conversation_id: Option<String>,
    /// `sync_lead`, `escalation_note` or `booking_task`.
    pub command: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    /// `pending`, `done` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// What Bitrix24 gave back (ids of what was created or found), once `done`.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    pub next_attempt_at: DateTime<Utc>,
    /// Held since then by a Bitrix24 set-up problem.
    pub held_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One stored version of a document (`actors::store::PromptVersion`).
#[derive(ToSchema)]
pub struct PromptVersion {
    pub name: String,
    pub version: i32,
    pub content: String,
    /// The admin token's name that wrote it.
    pub author: String,
    pub created_at: DateTime<Utc>,
}
