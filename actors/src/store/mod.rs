//! The durable store: conversations, transcript, inbox, outbox, CRM outbox, escalations, prompt
//! versions and leads. One [`Store`] trait, two implementations — SQLite (embedded default)
//! and PostgreSQL (production) — checked by one conformance suite (`tests/engine/store.rs`).
//!
//! - [`model`]: the records and the write operations, as plain values.
//! - `statements`: the SQL text, one for both backends.
//! - `rows`: the rows reads fetch (`sqlx::FromRow`), and how each becomes a record.
//! - `sql/`: the reads (`sql/reads.rs`) and the writes (`sql/writes.rs`) over that SQL, one
//!   source compiled once per backend.
//! - [`sqlite`] / [`postgres`]: connecting, migrations and backend-specific settings, and
//!   the backend `sql/` is compiled for.
//!
//! All writes go through [`Store::write_batch`], which the Store actor calls with many operations
//! at once: one transaction per batch, and if the batch fails, each operation alone, so one bad
//! operation never takes the others down with it.

pub mod model;
pub mod postgres;
mod rows;
pub mod sqlite;
mod statements;

pub use model::*;

use async_trait::async_trait;
use dialogs::ChatKey;
use std::sync::Arc;

/// Everything that can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unreadable row in `{table}`: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("unsupported DATABASE_URL `{0}`: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error("the store writer has stopped")]
    WriterGone,
    /// The database did not answer a moment ago (or cannot write): the write was not tried.
    /// Transient; try again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

/// Whether trying again later can succeed: the one classification of failures, used by the
/// Conversation (retry or park), the Store actor (fail fast while the database is away) and
/// the webhooks (503: the channel delivers again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// An outage: the database does not answer, a connection was reset, the pool timed out,
    /// an I/O error, a full disk, a read-only database (a fail-over). Waited out.
    Transient,
    /// Our own fault (a bad row, a constraint, a bug): trying again gives the same answer.
    Permanent,
}

impl StoreError {
    /// Transient or permanent; see [`FailureKind`].
    pub fn kind(&self) -> FailureKind {
        let transient = match self {
            StoreError::Database(e)
            | StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e))
            | StoreError::Migrate(sqlx::migrate::MigrateError::ExecuteMigration(e, _)) => {
                sqlx_is_transient(e)
            }
            StoreError::Unavailable(_) | StoreError::WriterGone => true,
            StoreError::Migrate(_) | StoreError::Corrupt { .. } | StoreError::UnsupportedUrl(_) => {
                false
            }
        };
        if transient {
            FailureKind::Transient
        } else {
            FailureKind::Permanent
        }
    }

    pub fn is_transient(&self) -> bool {
        self.kind() == FailureKind::Transient
    }
}

/// Transient sqlx errors: the connection, the pool, the disk; and the database codes that
/// say "not now" rather than "never".
fn sqlx_is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else {
                return false;
            };
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                sqlite_transient(&code)
            } else {
                postgres_transient(&code)
            }
        }
        _ => false,
    }
}

/// SQLite result codes of an outage: the (extended) code's primary code is its low byte.
fn sqlite_transient(code: &str) -> bool {
    code.parse::<i32>().is_ok_and(|n| {
        matches!(
            n & 0xff,
            5 /* BUSY */ | 6 /* LOCKED */ | 7 /* NOMEM */ | 8 /* READONLY */ | 10 /* IOERR */
                | 13 /* FULL */ | 14 /* CANTOPEN */ | 15 /* PROTOCOL */
        )
    })
}

/// PostgreSQL SQLSTATEs of an outage.
fn postgres_transient(code: &str) -> bool {
    // Connection exceptions (08), insufficient resources (53: disk full, out of
    // memory, too many connections), operator intervention (57: shutdown, cannot connect
    // now), system errors (58), serialization failure and deadlock (40001, 40P01), and a
    // read-only transaction (25006: a standby after a fail-over).
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57")
        || code.starts_with("58")
        || matches!(code, "40001" | "40P01" | "25006")
}

/// The one interface to the database, table by table. Reads may come from anywhere; writes come
/// only from the Store actor, through [`Store::write_batch`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Answers when the database does (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Makes the store usable: PostgreSQL, opened without a connection, creates its schema and
    /// migrates the first time this succeeds; SQLite was migrated when opened. Called at
    /// start-up (again until the database answers).
    async fn prepare(&self) -> Result<(), StoreError>;

    /// Applies `ops` in one transaction; one result per operation, in order.
    async fn write_batch(&self, ops: Vec<WriteOp>) -> Vec<Result<WriteOutcome, StoreError>>;

    // --- Conversations, their transcript and changes of hands ---

    /// The conversation of a chat, if it has one yet.
    async fn conversation_by_chat(
        &self,
        key: &ChatKey,
    ) -> Result<Option<ConversationRecord>, StoreError>;

    async fn conversation(&self, id: &str) -> Result<Option<ConversationRecord>, StoreError>;

    /// Conversations matching `query`, most recently updated first (ties: highest id first).
    async fn list_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<Vec<ConversationRecord>, StoreError>;

    /// How many conversations are stored.
    async fn count_conversations(&self) -> Result<i64, StoreError>;

    /// The transcript of a conversation, oldest first.
    async fn transcript(&self, conversation_id: &str) -> Result<Vec<TranscriptEntry>, StoreError>;

    /// Changes of hands of a conversation, oldest first.
    async fn ownership_changes(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<OwnershipRecord>, StoreError>;

    // --- Inbox ---

    /// Inbox rows not yet handled, oldest first (replayed at start-up).
    async fn pending_inbox(&self) -> Result<Vec<InboxMessage>, StoreError>;

    /// Parked inbox rows (`failed`: their handling failed for good), oldest first.
    async fn parked_inbox(&self, limit: i64) -> Result<Vec<InboxRecord>, StoreError>;

    /// One inbox row by its id.
    async fn inbox_by_id(&self, id: i64) -> Result<Option<InboxRecord>, StoreError>;

    /// The inbox row of one external message.
    async fn inbox_entry(
        &self,
        channel: dialogs::Channel,
        external_id: &str,
    ) -> Result<Option<InboxRecord>, StoreError>;

    // --- Outbox ---

    /// Outbox rows not yet sent, oldest first (sent at start-up).
    async fn unsent_outbox(&self) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Every outbox row of a conversation, oldest first.
    async fn outbox_of(&self, conversation_id: &str) -> Result<Vec<OutboxRecord>, StoreError>;

    /// Outbox rows with this status (`pending`, `failed`, …), oldest first, at most `limit`
    /// (the admin API lists undelivered replies).
    async fn outbox_list(
        &self,
        status: OutboxStatus,
        limit: i64,
    ) -> Result<Vec<OutboxRecord>, StoreError>;

    /// One outbox row.
    async fn outbox_entry(&self, id: &str) -> Result<Option<OutboxRecord>, StoreError>;

    /// Whether an outgoing message the channel reports (an echo) is one the engine sent: by
    /// the channel's id for it, our outbox id, or (for an echo that outran the answer to our
    /// send) the same text to the same chat within ten minutes.
    async fn is_own_outgoing(
        &self,
        key: &ChatKey,
        external_id: &str,
        text: Option<&str>,
    ) -> Result<bool, StoreError>;

    // --- Escalations and their follow-ups ---

    /// One escalation.
    async fn escalation(&self, id: &str) -> Result<Option<EscalationRecord>, StoreError>;

    /// Escalations of a conversation, oldest first.
    async fn escalations_of(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<EscalationRecord>, StoreError>;

    /// Escalations with this status (all when `None`): open and claimed ones oldest first
    /// (the longest waiting on top), the others newest first.
    async fn list_escalations(
        &self,
        status: Option<EscalationStatus>,
        limit: i64,
    ) -> Result<Vec<EscalationRecord>, StoreError>;

    /// Open escalations the managers were never told about, or last told about before
    /// `told_before`: oldest first, at most 100.
    async fn escalations_to_announce(
        &self,
        told_before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<EscalationRecord>, StoreError>;

    /// The follow-ups of an escalation, oldest first.
    async fn follow_ups_of(&self, escalation_id: &str) -> Result<Vec<FollowUpRecord>, StoreError>;

    /// Follow-ups to relay to the managers' chat now, oldest first, at most 100: those of a
    /// claimed escalation, and the urgent ones of an open escalation (the others of an open
    /// escalation go with its next announcement or reminder).
    async fn follow_ups_due(&self) -> Result<Vec<FollowUpRecord>, StoreError>;

    // --- CRM outbox ---

    /// The CRM commands to execute now: pending, due (`next_attempt_at <= now`), and each the
    /// oldest pending command of its conversation (a later one waits for it, even when the
    /// earlier one waits for a retry). In creation order, at most `limit`.
    async fn due_crm_commands(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> Result<Vec<CrmOutboxRecord>, StoreError>;

    /// CRM commands with this status (all when `None`), oldest first, at most `limit` (the
    /// admin API lists them).
    async fn crm_commands(
        &self,
        status: Option<CrmStatus>,
        limit: i64,
    ) -> Result<Vec<CrmOutboxRecord>, StoreError>;

    /// Every CRM command of a conversation, oldest first.
    async fn crm_commands_of(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<CrmOutboxRecord>, StoreError>;

    /// One CRM command.
    async fn crm_command(&self, id: &str) -> Result<Option<CrmOutboxRecord>, StoreError>;

    // --- Leads ---

    /// The lead of a conversation, with its Bitrix24 ids.
    async fn lead(&self, conversation_id: &str) -> Result<Option<LeadRecord>, StoreError>;

    /// Another conversation's lead with the same phone or email whose Bitrix24 contact is
    /// known: the same person on another channel.
    async fn lead_with_contact(
        &self,
        phone: Option<&str>,
        email: Option<&str>,
        except_conversation: &str,
    ) -> Result<Option<LeadRecord>, StoreError>;

    /// Leads, most recently updated first.
    async fn list_leads(&self, limit: i64, offset: i64) -> Result<Vec<LeadRecord>, StoreError>;

    // --- Prompt versions ---

    /// Every version of a document, newest first.
    async fn prompt_versions(&self, name: &str) -> Result<Vec<PromptVersion>, StoreError>;

    /// One version of a document.
    async fn prompt_version(
        &self,
        name: &str,
        version: i32,
    ) -> Result<Option<PromptVersion>, StoreError>;

    /// The latest version of every document that has one (what is in force).
    async fn latest_prompt_versions(&self) -> Result<Vec<PromptVersion>, StoreError>;

    // --- Every queue ---

    /// Pending and failed work in every queue.
    async fn queue_depths(&self) -> Result<QueueDepths, StoreError>;
}

/// Opens the database named by `url` and applies its migrations.
///
/// `sqlite://path/to/file.db` creates the file and its folder when missing;
/// `postgres://…` names an existing database, connected (and migrated) by [`Store::prepare`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        // Connected and migrated by `prepare`, so the engine can start while the database is
        // away and become ready when it answers.
        Ok(Arc::new(postgres::PgStore::connect_lazy(url, None)?))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(url)))
    }
}

/// A database URL with its password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn outages_are_transient_and_our_faults_permanent() {
        use super::{postgres_transient, sqlite_transient};
        // SQLite: full disk, read-only, busy, I/O error (extended codes too).
        for code in ["13", "8", "5", "10", "266", "1032"] {
            assert!(sqlite_transient(code), "sqlite {code}");
        }
        // SQLite: constraint (19 and its extended 2067), generic error, corrupt.
        for code in ["19", "2067", "1", "11"] {
            assert!(!sqlite_transient(code), "sqlite {code}");
        }
        // PostgreSQL: connection failure, disk full, admin shutdown, read-only standby.
        for code in ["08006", "53100", "57P01", "25006", "40001"] {
            assert!(postgres_transient(code), "postgres {code}");
        }
        // PostgreSQL: unique violation, cardinality (all digits, not an SQLite code), syntax.
        for code in ["23505", "21000", "42601"] {
            assert!(!postgres_transient(code), "postgres {code}");
        }
        let pool = super::StoreError::Database(sqlx::Error::PoolTimedOut);
        assert_eq!(pool.kind(), super::FailureKind::Transient);
        let corrupt = super::StoreError::Corrupt {
            table: "inbox",
            reason: "x".into(),
        };
        assert_eq!(corrupt.kind(), super::FailureKind::Permanent);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_url("postgres://bot:s3cret@db:5432/cb"),
            "postgres://bot:***@db:5432/cb"
        );
        assert_eq!(
            super::redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
    }
}
