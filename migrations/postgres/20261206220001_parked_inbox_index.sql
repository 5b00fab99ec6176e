-- Parked inbox rows (handling failed for good) are listed and counted for the admin API,
-- `/admin/status` and `/metrics`: a partial index keeps that cheap however large the inbox.
CREATE INDEX inbox_failed ON inbox (id) WHERE status = 'failed';
