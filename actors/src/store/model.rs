//! Rows and write operations of the store, as plain values.

use chrono::{DateTime, Utc};
use dialogs::crm::{CrmCommand, LeadSource, NewCrmCommand};
use dialogs::handover::{Desk, Hands, Urgency};
use dialogs::turn::{Button, EscalationDetails, EscalationReason};
use dialogs::{Channel, ChatKey, DialogState, Owner};
use serde::{Deserialize, Serialize};

/// The current time at the precision both databases keep (microseconds), so a value reads back
/// exactly as it was written.
pub fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// A new id: UUIDv7, so ids sort by creation time in both databases.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub use channels::inbound::NewInbound;

/// A stored, not yet handled inbound message: what the Conversation actor works on.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxMessage {
    pub id: i64,
    pub inbound: NewInbound,
    pub received_at: DateTime<Utc>,
}

/// An inbox row with its handling status.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRecord {
    pub message: InboxMessage,
    pub status: InboxStatus,
    pub error: Option<String>,
}

/// Where an inbox row is in its handling (the `inbox.status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboxStatus {
    /// Stored, not yet answered by a committed turn.
    Pending,
    /// Answered: its turn committed.
    Handled,
    /// Parked: its turn failed for good (the error is kept; an admin may requeue it).
    Failed,
}

impl InboxStatus {
    /// The name stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxStatus::Pending => "pending",
            InboxStatus::Handled => "handled",
            InboxStatus::Failed => "failed",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Handled, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for InboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an outbox row is in its delivery (the `outbox.status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Committed, not yet accepted by the channel (waiting, or being retried).
    Pending,
    /// The channel accepted it.
    Sent,
    /// The channel says it reached the customer's device.
    Delivered,
    /// The channel says the customer read it.
    Read,
    /// Given up (refused for good, or past the outbox deadline).
    Failed,
}

impl OutboxStatus {
    /// The name stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Read => "read",
            OutboxStatus::Failed => "failed",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Sent,
            Self::Delivered,
            Self::Read,
            Self::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A conversation as stored: identity, customer, dialog state and owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRecord {
    pub id: String,
    pub key: ChatKey,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    pub route: serde_json::Value,
    /// The serialised `dialogs::DialogState`.
    pub state: serde_json::Value,
    pub owner: Owner,
    pub owner_since: DateTime<Utc>,
    /// Who owns it when a manager does (token or manager name).
    pub owned_by: Option<String>,
    /// Where that manager works from (managers' chat, admin API, the channel itself).
    #[serde(default)]
    pub owned_via: Option<Desk>,
    /// The channel refuses messages to this chat (e.g. the bot was blocked on Telegram).
    pub unreachable: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ConversationRecord {
    /// A conversation that has not been stored yet.
    pub fn new(key: ChatKey, now: DateTime<Utc>) -> Self {
        Self {
            id: new_id(),
            key,
            customer_name: None,
            customer_phone: None,
            customer_email: None,
            route: serde_json::json!({}),
            state: serde_json::json!({}),
            owner: Owner::Bot,
            owner_since: now,
            owned_by: None,
            owned_via: None,
            unreachable: false,
            created_at: now,
            updated_at: now,
        }
    }

    /// Who owns the chat, as the handover rules see it.
    pub fn hands(&self) -> Hands {
        Hands {
            owner: self.owner,
            since: self.owner_since,
            manager: self.owned_by.clone(),
            desk: self.owned_via,
        }
    }

    /// The dialog state stored here. A state that no longer parses (a bug, a manual edit)
    /// restarts the dialog rather than silencing the chat for ever. Parsed once per turn, by
    /// the Conversation actor.
    pub fn dialog_state(&self) -> DialogState {
        serde_json::from_value(self.state.clone()).unwrap_or_else(|e| {
            tracing::warn!(conversation = %self.id, error = %e,
                "stored dialog state unreadable; starting afresh");
            DialogState::default()
        })
    }

    /// What the conversation's lead is made of, with `state` its dialog state.
    pub fn lead_source<'a>(&'a self, state: &'a DialogState) -> LeadSource<'a> {
        LeadSource {
            channel: self.key.channel,
            customer_name: self.customer_name.as_deref(),
            customer_phone: self.customer_phone.as_deref(),
            customer_email: self.customer_email.as_deref(),
            state,
        }
    }

    /// Takes the owner the handover rules decided.
    pub fn set_hands(&mut self, hands: &Hands) {
        self.owner = hands.owner;
        self.owner_since = hands.since;
        self.owned_by = hands.manager.clone();
        self.owned_via = hands.desk;
    }
}

/// A reply waiting to be sent, or being sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Also the idempotency key at the channel (Wazzup `crmMessageId`).
    pub id: String,
    pub conversation_id: String,
    pub key: ChatKey,
    pub route: serde_json::Value,
    pub text: String,
    pub buttons: Vec<Button>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// An outbox row with its delivery status.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRecord {
    pub message: OutboxMessage,
    pub status: OutboxStatus,
    pub last_error: Option<String>,
    /// The channel's id of the sent message.
    pub external_id: Option<String>,
}

/// One line of a conversation's transcript.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TranscriptEntry {
    pub id: i64,
    /// `in` (customer), `out` (bot), `manager`, `system`.
    pub direction: String,
    pub text: String,
    pub inbox_id: Option<i64>,
    pub outbox_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A request for a manager.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationRecord {
    pub id: String,
    pub conversation_id: String,
    pub reason: EscalationKind,
    pub details: EscalationDetails,
    pub status: EscalationStatus,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    /// When a manager first wrote to the customer after claiming.
    pub first_answer_at: Option<DateTime<Utc>>,
    /// When the managers were last told about it.
    pub notified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Why a manager was called (the `reason` column of `escalations`): the dialog's reasons, and
/// the engine's own. Stored and serialised by its name ([`EscalationKind::as_str`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationKind {
    /// The dialog escalated (`human_request`, `booking_request`, …).
    Dialog(EscalationReason),
    /// A customer's message failed for good and was parked (`message_failed`): details
    /// `{error, inbox_ids, text}`.
    MessageFailed,
    /// The outbox gave a reply up (`undelivered`): details `{outbox_id, text, error}`.
    Undelivered,
    /// A name this build does not know (written by a newer one): kept and shown as it is.
    Other(String),
}

impl EscalationKind {
    /// The name stored in the column.
    pub fn as_str(&self) -> &str {
        match self {
            EscalationKind::Dialog(reason) => reason.as_str(),
            EscalationKind::MessageFailed => "message_failed",
            EscalationKind::Undelivered => "undelivered",
            EscalationKind::Other(name) => name,
        }
    }

    /// The kind of a stored name (an unknown name is [`EscalationKind::Other`]).
    pub fn parse(name: &str) -> Self {
        match name {
            "message_failed" => EscalationKind::MessageFailed,
            "undelivered" => EscalationKind::Undelivered,
            _ => EscalationReason::parse(name).map_or_else(
                || EscalationKind::Other(name.to_owned()),
                EscalationKind::Dialog,
            ),
        }
    }
}

impl From<EscalationReason> for EscalationKind {
    fn from(reason: EscalationReason) -> Self {
        EscalationKind::Dialog(reason)
    }
}

impl std::fmt::Display for EscalationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EscalationKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Where a request for a manager stands (the `status` column of `escalations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationStatus {
    /// Waiting for a manager to take it.
    Open,
    /// A manager took it.
    Claimed,
    /// Over: the chat is back with the bot, or an admin closed it.
    Resolved,
}

impl EscalationStatus {
    /// The name stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationStatus::Open => "open",
            EscalationStatus::Claimed => "claimed",
            EscalationStatus::Resolved => "resolved",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Claimed, Self::Resolved]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for EscalationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new escalation written with a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEscalation {
    pub id: String,
    pub reason: EscalationKind,
    pub details: EscalationDetails,
}

/// A customer's follow-up written with a turn: appended to the chat's open (or claimed)
/// escalation; not stored when the chat has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFollowUp {
    pub id: String,
    pub text: String,
    pub urgency: Option<Urgency>,
    /// Copy it to the managers' chat (not while the manager works through the admin API).
    pub relay: bool,
}

/// A follow-up as stored on its escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUpRecord {
    pub id: String,
    pub escalation_id: String,
    pub conversation_id: String,
    pub text: String,
    pub urgency: Option<Urgency>,
    pub relay: bool,
    /// When it reached the managers' chat (`None`: not yet, or never when `relay` is false).
    pub relayed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Everything one handled message changes, written in one transaction: the inbox row becomes
/// `handled`, the conversation is saved, the transcript grows, replies enter the outbox.
/// With no inbound message it records what a manager did (took the chat, wrote, released it).
#[derive(Debug, Clone, PartialEq)]
pub struct TurnCommit {
    /// The inbox messages this turn handles, oldest first (several when they came in one
    /// burst; none for a manager's action).
    pub inbound: Vec<HandledMessage>,
    pub conversation: ConversationRecord,
    pub replies: Vec<OutboxMessage>,
    pub escalations: Vec<NewEscalation>,
    /// What the customer added for the manager (after the turn's escalations, if any).
    pub follow_ups: Vec<NewFollowUp>,
    /// Commands for the CRM outbox; a `SyncLead` also updates the lead list.
    pub crm: Vec<NewCrmCommand>,
    /// The chat changed hands with this turn, in order (recorded; escalations claimed or
    /// resolved). Usually none; two when a quiet chat returned to the bot and escalated again.
    pub ownership: Vec<OwnershipChange>,
    pub at: DateTime<Utc>,
}

/// An inbox message handled by a turn, and its line in the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandledMessage {
    pub inbox_id: i64,
    /// As it goes into the transcript.
    pub text: String,
    /// `in` for the customer's words; `manager` for a manager's message that reached the
    /// inbox as an echo (written from the CRM or the phone).
    pub direction: &'static str,
}

/// Who took a chat from whom, and why. `by` is `bot`, a manager's name or token name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipChange {
    pub from: Owner,
    pub to: Owner,
    pub by: String,
    pub reason: String,
}

/// A change of a conversation's ownership as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipRecord {
    pub from: Owner,
    pub to: Owner,
    pub by: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A write the Store actor applies.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Store a received message unless (channel, external id) is already there.
    InsertInbound(NewInbound),
    CommitTurn(Box<TurnCommit>),
    /// The channel accepted the message.
    OutboxSent {
        id: String,
        external_id: Option<String>,
        at: DateTime<Utc>,
    },
    /// A send failed; `permanent` stops further attempts.
    OutboxFailed {
        id: String,
        error: String,
        permanent: bool,
        at: DateTime<Utc>,
    },
    /// What the channel says became of a sent message (delivered, read, failed), by the
    /// channel's message id. Never moves a message back (`read` stays `read`).
    DeliveryStatus {
        channel: Channel,
        external_id: String,
        delivery: channels::Delivery,
        error: Option<String>,
        at: DateTime<Utc>,
    },
    /// The managers were told about this escalation (now, or again as a reminder).
    EscalationAnnounced {
        id: String,
        at: DateTime<Utc>,
    },
    /// These follow-ups reached the managers' chat.
    FollowUpsRelayed {
        ids: Vec<String>,
        at: DateTime<Utc>,
    },
    /// The channel refuses messages to this conversation's chat for good (the customer blocked
    /// the bot): `unreachable` is set. The conversation's next turn (the customer wrote again)
    /// writes it back as the actor holds it.
    MarkUnreachable {
        conversation_id: String,
        at: DateTime<Utc>,
    },
    /// Messages whose handling failed for good: marked `failed` with the error and, in the
    /// same transaction, the turn that apologises and calls a manager (written only when the
    /// first message was still pending, so once). `Committed` or `AlreadyHandled`.
    ParkTurn {
        turn: Box<TurnCommit>,
        error: String,
    },
    /// A parked message back to `pending` (the admin API's retry): `Done` or `NotFound`.
    RequeueInbound {
        id: i64,
    },
    /// A message whose handling failed twice: kept, marked `failed`, with the error.
    ParkInbound {
        id: i64,
        error: String,
        at: DateTime<Utc>,
    },
    /// The Crm actor begins executing a pending CRM command (`attempts + 1`). Committed before
    /// the first call to Bitrix24. `attempts` is the count as read: of two engines that read
    /// the same row, only one claims it. `AlreadyHandled` when the row is no longer pending or
    /// was claimed by someone else.
    CrmStarted {
        id: String,
        attempts: i32,
        at: DateTime<Utc>,
    },
    /// A CRM command went through; `result` says what Bitrix24 gave back.
    CrmDone {
        id: String,
        result: serde_json::Value,
        at: DateTime<Utc>,
    },
    /// A CRM command failed in a way worth retrying: stays pending until `next_attempt_at`.
    CrmRetry {
        id: String,
        error: String,
        next_attempt_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// A CRM command failed for good (a permanent error, or out of attempts): kept, `failed`,
    /// with the error, until someone retries it.
    CrmFailed {
        id: String,
        error: String,
        at: DateTime<Utc>,
    },
    /// A CRM command waits for a Bitrix24 set-up problem to be fixed: pending, with its error,
    /// not due until [`WriteOp::CrmRelease`].
    CrmHold {
        id: String,
        error: String,
        at: DateTime<Utc>,
    },
    /// The set-up is right again: every held CRM command is due now, with fresh attempts
    /// ([`WriteOutcome::Released`] says how many).
    CrmRelease {
        at: DateTime<Utc>,
    },
    /// A failed CRM command goes back to pending, due at `at`, with fresh attempts and held no
    /// more (its last error is kept, so the next execution looks for what an earlier one may
    /// have created): `AlreadyHandled` when the row was not failed. With `pending_too` (the
    /// admin API's retry) a pending command is also taken, as if new and due now: `NotFound`
    /// when the row is neither pending nor failed.
    CrmRequeue {
        id: String,
        at: DateTime<Utc>,
        pending_too: bool,
    },
    /// Records Bitrix24 ids and what the bot last told Bitrix24 about a lead.
    LeadSynced(LeadCrmUpdate),
    /// A new version of an admin-edited document (prompt, template, FAQ): numbered one past
    /// the latest of that name ([`WriteOutcome::PromptVersionAdded`]).
    InsertPromptVersion {
        name: String,
        content: String,
        author: String,
        at: DateTime<Utc>,
    },
    /// The outbox gives a reply up (its deadline passed, or the channel refused it for good):
    /// the row becomes `failed` with `error`, and the conversation gets an open escalation
    /// (reason `undelivered`, details `{outbox_id, text, error}`) — or, when it already has an
    /// open `undelivered` escalation, a follow-up on it with the text. `AlreadyHandled` (and
    /// nothing escalated) when the row was no longer pending.
    OutboxUndelivered {
        id: String,
        conversation_id: String,
        text: String,
        error: String,
        /// The new escalation's id.
        escalation_id: String,
        at: DateTime<Utc>,
    },
    /// Admin API: a `failed` reply goes back to `pending` (its attempts and last error kept),
    /// to be handed to its channel again. Its `created_at` becomes `at`: the outbox's deadline
    /// counts from the retry, across restarts too. `NotFound` when the row was not failed.
    OutboxRequeue {
        id: String,
        at: DateTime<Utc>,
    },
    /// Admin API: resolve one open or claimed escalation (its chat is not held by anyone).
    /// [`WriteOutcome::NotFound`] when no such escalation is open or claimed.
    ResolveEscalation {
        id: String,
        at: DateTime<Utc>,
    },
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    /// The message is new and stored.
    Inserted(Box<InboxMessage>),
    /// The message was stored before: a redelivery.
    Duplicate,
    /// The turn is committed.
    Committed,
    /// The inbox row had already been handled or parked: nothing was written.
    AlreadyHandled,
    Done,
    /// The version number given to a new document version.
    PromptVersionAdded(i32),
    /// No row was in a state the write applies to: nothing was written.
    NotFound,
    /// This many held CRM commands are due again.
    Released(u64),
}

/// One stored version of an admin-edited document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PromptVersion {
    /// The document's name: `replies/<lang>/<name>`, `faq`, `llm/system`, `llm/extract`.
    pub name: String,
    /// 1, 2, … per name; the highest is in force.
    pub version: i32,
    pub content: String,
    /// The admin token's name that wrote it.
    pub author: String,
    pub created_at: DateTime<Utc>,
}

/// Which conversations to list, newest activity first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationQuery {
    pub channel: Option<Channel>,
    pub owner: Option<Owner>,
    /// Only conversations updated at or after this moment.
    pub updated_since: Option<DateTime<Utc>>,
    /// Keyset cursor: only conversations that sort after this `(updated_at, id)`.
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: i64,
}

/// How much work waits in each queue (admin status, metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct QueueDepths {
    pub inbox_pending: i64,
    /// Parked messages: their handling failed for good (listed and retried in the admin API).
    pub inbox_failed: i64,
    pub outbox_pending: i64,
    pub outbox_failed: i64,
    pub crm_pending: i64,
    pub crm_failed: i64,
    /// Pending CRM commands held by a Bitrix24 set-up problem (counted in `crm_pending` too).
    pub crm_held: i64,
    pub escalations_open: i64,
    pub escalations_claimed: i64,
}

/// The channel of a stored string, or a `Corrupt` error naming the table.
pub(crate) fn parse_channel(table: &'static str, s: &str) -> Result<Channel, super::StoreError> {
    s.parse()
        .map_err(|e: dialogs::chat::UnknownName| super::StoreError::Corrupt {
            table,
            reason: e.to_string(),
        })
}

/// An inbox row's `kind` column, with its data from the row's payload.
pub(crate) fn parse_kind(
    s: &str,
    payload: &serde_json::Value,
) -> Result<channels::InboundKind, super::StoreError> {
    channels::InboundKind::from_stored(s, payload).ok_or_else(|| super::StoreError::Corrupt {
        table: "inbox",
        reason: format!("unknown message kind {s:?}"),
    })
}

pub(crate) fn parse_owner(s: &str) -> Result<Owner, super::StoreError> {
    s.parse()
        .map_err(|e: dialogs::chat::UnknownName| super::StoreError::Corrupt {
            table: "conversations",
            reason: e.to_string(),
        })
}

/// The `next_attempt_at` of a held CRM command: never due on its own.
pub const HELD_UNTIL: DateTime<Utc> = DateTime::<Utc>::from_naive_utc_and_offset(
    match chrono::NaiveDate::from_ymd_opt(9999, 12, 31) {
        Some(d) => match d.and_hms_opt(0, 0, 0) {
            Some(t) => t,
            None => chrono::NaiveDateTime::MIN,
        },
        None => chrono::NaiveDateTime::MIN,
    },
    Utc,
);

/// Where a CRM command stands (the `status` column of `crm_outbox`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrmStatus {
    /// To be executed (now, after a back-off, or once a set-up problem is fixed).
    Pending,
    /// Went through.
    Done,
    /// Failed for good, until someone retries it.
    Failed,
}

impl CrmStatus {
    /// The name stored in the column.
    pub fn as_str(self) -> &'static str {
        match self {
            CrmStatus::Pending => "pending",
            CrmStatus::Done => "done",
            CrmStatus::Failed => "failed",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Done, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for CrmStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row of the CRM outbox: one command for Bitrix24 and how its execution went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrmOutboxRecord {
    pub id: String,
    /// The conversation the command belongs to; its commands run in creation order.
    pub conversation_id: Option<String>,
    /// `sync_lead`, `escalation_note` or `booking_task`.
    pub command: String,
    /// The serialised [`CrmCommand`].
    pub payload: serde_json::Value,
    pub status: CrmStatus,
    /// Executions begun (a claim is counted before the first call to Bitrix24, so a command
    /// interrupted by a crash is known to have been tried).
    pub attempts: i32,
    pub last_error: Option<String>,
    /// What Bitrix24 gave back (ids of what was created or found), once `done`.
    pub result: Option<serde_json::Value>,
    /// A pending command is not tried before this time (backoff after a failure;
    /// [`HELD_UNTIL`] while held).
    pub next_attempt_at: DateTime<Utc>,
    /// Held since then by a Bitrix24 set-up problem (its error is `last_error`); released when
    /// the set-up is right again.
    pub held_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CrmOutboxRecord {
    /// The command, or why the stored payload is not one.
    pub fn parse(&self) -> Result<CrmCommand, serde_json::Error> {
        serde_json::from_value(self.payload.clone())
    }

    /// An earlier execution was begun (and may have reached Bitrix24 before it was cut off):
    /// what it may have created must be looked for before creating anything.
    pub fn tried_before(&self) -> bool {
        self.attempts > 0 || self.last_error.is_some()
    }
}

/// A conversation's lead: what the bot knows of the customer, and what Bitrix24 has of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadRecord {
    pub id: String,
    pub conversation_id: String,
    /// The conversation's channel, when read with it (the lead list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The serialised `dialogs::analysis::Slots`.
    pub slots: serde_json::Value,
    /// The [`DealStage`](dialogs::crm::DealStage) the conversation reached, snake_case.
    pub stage: Option<String>,
    /// The Bitrix24 contact, once found or created.
    pub crm_contact_id: Option<i64>,
    /// The Bitrix24 deal, once created.
    pub crm_deal_id: Option<i64>,
    /// The stage last set on the deal by the bot (snake_case `DealStage`).
    pub crm_stage: Option<String>,
    /// The phone and email the contact is known to carry (so a value is never sent twice:
    /// Bitrix24 appends every multi-field value sent without its id).
    pub crm_phone: Option<String>,
    pub crm_email: Option<String>,
    /// Leads mode (`BITRIX_USE_LEADS`): the Bitrix24 lead, once created.
    pub crm_lead_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What became known in Bitrix24 about a conversation's lead. `None` leaves a value as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadCrmUpdate {
    pub conversation_id: String,
    pub contact_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub stage: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Leads mode: the Bitrix24 lead.
    pub lead_id: Option<i64>,
}
