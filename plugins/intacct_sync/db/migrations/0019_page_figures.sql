-- Issue 19, the Intacct Sync page. The tie-out is computed after every successful run (and
-- on demand from the page), so the page shows the latest figures instead of "not computed".
-- Keep what produced them:
-- the run after which they were computed (NULL: on demand, from the page or its API) and
-- the invoice_source the Intacct side was read with (intacct_sync_config).
ALTER TABLE intacct_sync.tieouts ADD COLUMN run_id text;
ALTER TABLE intacct_sync.tieouts ADD COLUMN invoice_source text;

-- The Intacct Sync page's first page of errors (newest first, open and retrying): read in
-- index order and stop after the page, instead of sorting every error (10,000 and more).
CREATE INDEX reconciliation_errors_last_seen
    ON intacct_sync.reconciliation_errors (last_seen_at DESC, id DESC);
