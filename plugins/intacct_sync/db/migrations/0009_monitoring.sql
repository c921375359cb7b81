-- Monitoring (the "Intacct Sync" page in the Airflow UI): one row per finished sync run, for
-- records in the last 24 h and the per-hour chart, and the latest tie-out per object.
CREATE TABLE intacct_sync.sync_runs (
    id           bigserial PRIMARY KEY,
    object       text NOT NULL,
    direction    text NOT NULL CHECK (direction IN ('pull', 'push')),
    run_id       text NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    records      integer NOT NULL DEFAULT 0,  -- pulled records loaded, or pushes posted
    counts       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX sync_runs_recent ON intacct_sync.sync_runs (finished_at, object, direction);

-- Counts and sums per entity, Postgres vs Intacct, as computed at computed_at.
CREATE TABLE intacct_sync.tieouts (
    object       text PRIMARY KEY,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    entities     jsonb NOT NULL
);
