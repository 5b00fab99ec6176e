-- Pending inbox and outbox rows are found through partial indexes. The former (status, …)
-- indexes kept an entry for every row that had ever been pending; on PostgreSQL the updates
-- that claim inbox rows and record deliveries slowed down as those dead entries piled up.
DROP INDEX inbox_pending;
CREATE INDEX inbox_pending ON inbox (id) WHERE status = 'pending';
DROP INDEX outbox_status;
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
