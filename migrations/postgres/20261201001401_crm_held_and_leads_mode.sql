-- A CRM command held by a Bitrix24 set-up problem (a pipeline or stage the portal lacks, a
-- refused webhook) stays pending but is not due until the set-up is right again: the Crm actor
-- re-reads the portal and releases every held command at once. `held_since` says since when.
ALTER TABLE crm_outbox ADD COLUMN held_since TIMESTAMPTZ;

-- Leads mode (BITRIX_USE_LEADS): the conversation's Bitrix24 lead, instead of a contact and a deal.
ALTER TABLE leads ADD COLUMN crm_lead_id BIGINT;
