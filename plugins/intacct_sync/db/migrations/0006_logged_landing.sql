-- Landing and staging must survive a PostgreSQL crash: UNLOGGED tables come back empty, a
-- retried map or load would then find nothing, succeed, and the cursor would move past
-- records that were never loaded.
ALTER TABLE intacct_sync.raw_records SET LOGGED;
ALTER TABLE intacct_sync.staged_batches SET LOGGED;
