-- Handover (issue 13): where the manager who owns a chat works from, and what the customer
-- adds while the chat waits for a manager or a manager owns it.

-- `managers_chat`, `admin_api` or `channel` (the CRM or the phone); NULL unless a manager owns
-- the chat.
ALTER TABLE conversations ADD COLUMN owned_via TEXT;

-- A customer's follow-up, kept on the chat's open (or claimed) escalation and relayed to the
-- managers: at once when urgent or when a manager owns the chat, else with the next
-- announcement or reminder.
CREATE TABLE escalation_notes (
    id              TEXT PRIMARY KEY,
    escalation_id   TEXT NOT NULL REFERENCES escalations (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    text            TEXT NOT NULL,
    -- why it cannot wait (`said`, `trip_soon`, `call_back`, `impatient`, `pings`); NULL: it can
    urgency         TEXT,
    -- copied to the managers' chat (not while the manager works through the admin API)
    relay           BOOLEAN NOT NULL,
    relayed_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX escalation_notes_escalation ON escalation_notes (escalation_id, created_at);
CREATE INDEX escalation_notes_to_relay ON escalation_notes (created_at)
    WHERE relay AND relayed_at IS NULL;
