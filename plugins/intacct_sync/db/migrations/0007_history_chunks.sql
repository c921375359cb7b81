-- Initial data sync checkpoints: one row per (run, chunk). A chunk is `landed` once its
-- records are in intacct_sync.raw_records and `done` once they are loaded; a retried or
-- cleared run skips what is done and loads what is landed without reading Intacct again.
CREATE TABLE intacct_sync.history_chunks (
    run_key      text NOT NULL,            -- '<dag_id>/<run_id>': run ids repeat across DAGs
    label        text NOT NULL,            -- e.g. 'invoices 2023-03', 'customers all'
    object       text NOT NULL,
    range_start  date,                     -- NULL: every record (all_customers)
    range_end    date,
    options      jsonb NOT NULL DEFAULT '{}',
    state        text NOT NULL CHECK (state IN ('extracting', 'landed', 'done')),
    attempts     integer NOT NULL DEFAULT 0,
    extracted    jsonb,                    -- the extract summary: records, pages, seconds
    loaded       jsonb,                    -- the load counts
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    PRIMARY KEY (run_key, label)
);
