-- The cut-over: where the ongoing sync of an object starts, per direction. The hourly pull
-- never reads before it and the push never posts what was there before it; older data is the
-- initial data sync's job. Recorded when the object's sync is first enabled (or taken from
-- sync_start in the sync configuration, which wins): plugins/intacct_sync/db/sync_state.py cut_over.
ALTER TABLE intacct_sync.sync_state ADD COLUMN sync_start timestamptz;
