-- Admin API: failed outbox rows are counted (status, metrics) through a partial index, like
-- pending ones, so the count does not scan every message ever sent.
CREATE INDEX outbox_failed ON outbox (id) WHERE status = 'failed';
-- The lead list is read newest first.
CREATE INDEX leads_updated ON leads (updated_at);
