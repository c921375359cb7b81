-- Without AUDITHISTORY permission, deletions come from comparing the complete key set: one
-- listing of every RECORDNO, so it runs periodically (default daily), not every hour.
ALTER TABLE intacct_sync.sync_state ADD COLUMN last_keyset_at timestamptz;
