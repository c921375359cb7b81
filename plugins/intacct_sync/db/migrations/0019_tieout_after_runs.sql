-- Issue 19: the tie-out is computed after every successful run (and on demand from the page),
-- so the page shows the latest figures instead of "not computed". Keep what produced them:
-- the run after which they were computed (NULL: on demand, from the page or its API) and
-- the invoice_source the Intacct side was read with (intacct_sync_config).
ALTER TABLE intacct_sync.tieouts ADD COLUMN run_id text;
ALTER TABLE intacct_sync.tieouts ADD COLUMN invoice_source text;
