-- Mapped batches between the map and load tasks (tasks share only PostgreSQL): one row per
-- batch of up to 5,000 records, with its child rows and the records mapping rejected.
CREATE UNLOGGED TABLE intacct_sync.staged_batches (
    run_id    text NOT NULL,
    object    text NOT NULL,
    batch     integer NOT NULL,
    rows      jsonb NOT NULL,
    children  jsonb,
    rejected  jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, object, batch)
);
