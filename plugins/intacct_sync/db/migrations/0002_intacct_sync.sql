-- The sync's own bookkeeping, apart from the AR platform's tables.
CREATE SCHEMA IF NOT EXISTS intacct_sync;

-- Where each object's sync stands, per direction. cursor_whenmodified is in Intacct's
-- company-local time (as WHENMODIFIED is); windows are stored as aware timestamps.
CREATE TABLE intacct_sync.sync_state (
    object                 text NOT NULL,
    direction              text NOT NULL CHECK (direction IN ('pull', 'push')),
    last_success_at        timestamptz,
    last_window_start      timestamptz,
    last_window_end        timestamptz,
    cursor_whenmodified    timestamp,
    last_run_id            text,
    last_counts            jsonb NOT NULL DEFAULT '{}',
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (object, direction)
);

-- One row per failing record: a later failure bumps attempts, a later success resolves it,
-- a person may retry or ignore it (design.md, "Reconciliation errors").
CREATE TABLE intacct_sync.reconciliation_errors (
    id             bigserial PRIMARY KEY,
    object         text NOT NULL,
    direction      text NOT NULL CHECK (direction IN ('pull', 'push')),
    record_id      text NOT NULL,
    error_numbers  text[] NOT NULL DEFAULT '{}',
    message        text NOT NULL,
    hint           text,
    attempts       integer NOT NULL DEFAULT 1,
    state          text NOT NULL DEFAULT 'open'
                   CHECK (state IN ('open', 'retrying', 'ignored', 'resolved')),
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    UNIQUE (object, direction, record_id)
);
CREATE INDEX reconciliation_errors_open ON intacct_sync.reconciliation_errors (object, state);

-- Local record <-> Intacct key, written in the same transaction that marks a push posted.
CREATE TABLE intacct_sync.key_links (
    object            text NOT NULL,
    local_id          bigint NOT NULL,
    intacct_recordno  bigint,
    intacct_id        text,
    control_id        text NOT NULL,
    linked_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (object, local_id),
    UNIQUE (object, intacct_recordno)
);

-- Raw Intacct records landed per run (COPY), read back by the map step; purged after load.
CREATE UNLOGGED TABLE intacct_sync.raw_records (
    run_id       text NOT NULL,
    object       text NOT NULL,
    chunk        text NOT NULL DEFAULT '',
    recordno     text NOT NULL,
    whenmodified text,
    payload      jsonb NOT NULL,
    landed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX raw_records_run ON intacct_sync.raw_records (run_id, object, chunk);
