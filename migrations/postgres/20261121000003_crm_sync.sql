-- The Crm actor's work: the oldest pending command of each conversation, the due ones, failed
-- ones for the admin API, a conversation's commands. Partial indexes on pending and failed rows,
-- so done rows (nearly all of them, in time) weigh on nothing but the per-conversation index.
DROP INDEX crm_outbox_status;
CREATE INDEX crm_outbox_due ON crm_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX crm_outbox_failed ON crm_outbox (created_at) WHERE status = 'failed';
CREATE INDEX crm_outbox_conversation ON crm_outbox (conversation_id, created_at, id);

-- What the bot last told Bitrix24 about a lead: the stage it set (stages only move forward) and
-- the phone and email the contact carries (Bitrix24 appends every multi-field value sent
-- without its id, so a value must never be sent twice).
ALTER TABLE leads ADD COLUMN crm_stage TEXT;
ALTER TABLE leads ADD COLUMN crm_phone TEXT;
ALTER TABLE leads ADD COLUMN crm_email TEXT;
-- The same person on another channel is found by phone or email.
CREATE INDEX leads_email ON leads (email);
