//! The SQL text both backends share. SQLite accepts `$1` placeholders, so one text serves both
//! (the reads and writes of `sql/` bind it, once per backend). Timestamps bind as
//! `DateTime<Utc>` (TEXT in SQLite, TIMESTAMPTZ in PostgreSQL) and JSON as `Json` (TEXT / JSONB).

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

/// The columns of a follow-up (table `n`), as `rows::FollowUpRow` reads them.
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

/// Completed with `<at> WHERE id IN (<ids>) AND status = 'pending' RETURNING id`: the inbox
/// rows of a batch's turns, claimed (those handled before are not returned).
pub(crate) const CLAIM_INBOX: &str = "UPDATE inbox SET status = 'handled', handled_at = ";

pub(crate) const ESCALATION_ANNOUNCED: &str =
    "UPDATE escalations SET notified_at = $2 WHERE id = $1";

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

/// `$1` id, `$2` error, `$3` at: a pending reply given up by the outbox.
pub(crate) const OUTBOX_GIVE_UP: &str = "UPDATE outbox SET status = 'failed', last_error = $2, \
    updated_at = $3 WHERE id = $1 AND status = 'pending'";

/// `$1` id, `$2` conversation, `$3` details, `$4` at: an `undelivered` escalation
/// ([`EscalationKind::Undelivered`](super::EscalationKind::Undelivered)), unless the
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

/// `$1` id, `$2` at, `$3` pending too: a failed command (or, with `$3`, a pending one too)
/// pending again, due at `$2`, with fresh attempts and held no more.
pub(crate) const CRM_REQUEUE: &str = "UPDATE crm_outbox SET status = 'pending', attempts = 0, \
    held_since = NULL, next_attempt_at = $2, updated_at = $2 \
    WHERE id = $1 AND (status = 'failed' OR ($3 AND status = 'pending'))";

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

/// The columns of an escalation, as `rows::EscalationRow` reads them.
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
