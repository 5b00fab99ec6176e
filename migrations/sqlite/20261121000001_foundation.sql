-- Foundation schema (SQLite). Ids are UUIDv7 text unless a strict order is needed (inbox,
-- transcript: integer sequences). Timestamps are RFC 3339 text in UTC; JSON is text.

CREATE TABLE conversations (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    customer_name   TEXT,
    customer_phone  TEXT,
    customer_email  TEXT,
    -- channel-specific reply address (e.g. Wazzup channelId/chatType), copied onto outbox rows
    route           TEXT NOT NULL DEFAULT '{}',
    state           TEXT NOT NULL DEFAULT '{}',
    owner           TEXT NOT NULL DEFAULT 'bot' CHECK (owner IN ('bot', 'waiting', 'manager')),
    owner_since     TEXT NOT NULL,
    owned_by        TEXT,
    unreachable     INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (channel, chat_id)
);
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE inbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'text',
    text            TEXT NOT NULL DEFAULT '',
    sender_name     TEXT,
    route           TEXT NOT NULL DEFAULT '{}',
    payload         TEXT NOT NULL DEFAULT '{}',
    sent_at         TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'handled', 'failed')),
    error           TEXT,
    handled_at      TEXT,
    UNIQUE (channel, external_id)
);
CREATE INDEX inbox_pending ON inbox (status, id);

CREATE TABLE transcript (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    direction       TEXT NOT NULL CHECK (direction IN ('in', 'out', 'manager', 'system')),
    text            TEXT NOT NULL,
    inbox_id        INTEGER,
    outbox_id       TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX transcript_conversation ON transcript (conversation_id, id);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    channel         TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    route           TEXT NOT NULL DEFAULT '{}',
    text            TEXT NOT NULL,
    buttons         TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    external_id     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX outbox_status ON outbox (status, created_at);
CREATE INDEX outbox_external ON outbox (external_id);

CREATE TABLE crm_outbox (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT REFERENCES conversations (id),
    command         TEXT NOT NULL,
    payload         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    result          TEXT,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX crm_outbox_status ON crm_outbox (status, next_attempt_at);

CREATE TABLE escalations (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    reason          TEXT NOT NULL,
    details         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'resolved')),
    claimed_by      TEXT,
    claimed_at      TEXT,
    first_answer_at TEXT,
    resolved_at     TEXT,
    notified_at     TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX escalations_status ON escalations (status, created_at);

CREATE TABLE ownership_changes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    from_owner      TEXT NOT NULL,
    to_owner        TEXT NOT NULL,
    changed_by      TEXT NOT NULL,
    reason          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX ownership_changes_conversation ON ownership_changes (conversation_id, id);

CREATE TABLE prompt_versions (
    name            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    content         TEXT NOT NULL,
    author          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE leads (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL UNIQUE REFERENCES conversations (id),
    name            TEXT,
    phone           TEXT,
    email           TEXT,
    slots           TEXT NOT NULL DEFAULT '{}',
    crm_contact_id  INTEGER,
    crm_deal_id     INTEGER,
    stage           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX leads_phone ON leads (phone);
