-- Push (Postgres -> Intacct). Local records (origin = 'local') are posted when ready:
--   invoices / credit notes: state 'draft' is never posted; any other state is ready;
--     'void' after posting is posted as a reversal (invoices) or deletion (credit notes).
--   payments: state 'draft' is never posted; 'void' after posting reverses the A/R payment.
--   customers: posted (or linked to a match) once, then updated when their data changes.
--   convenience fees: posted with their payment (design.md, "Convenience fees").

-- One row per write Intacct accepted, written in the same transaction that links the key
-- to the local record. A record's next write is decided from here, so a push retried after
-- a crash sends the same control ids, which Intacct refuses as replays (uniqueid=true).
CREATE TABLE intacct_sync.pushes (
    control_id      text PRIMARY KEY,
    object          text NOT NULL,
    local_id        bigint NOT NULL,
    action          text NOT NULL,   -- create | link | update | void | apply_credit
    part            text NOT NULL DEFAULT '',  -- which application line (apply_credit)
    intacct_object  text NOT NULL,
    intacct_key     text,
    digest          text,            -- what was sent (customers: updates only on change)
    posted_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pushes_record ON intacct_sync.pushes (object, local_id, action);

-- Replaced by intacct_sync.pushes plus the key columns of the AR tables (never used).
DROP TABLE intacct_sync.key_links;

-- Near real time: a local record that changes (and is not a draft) wakes its push DAG
-- through LISTEN intacct_push (the PostgresNotifyTrigger asset watcher). The push itself
-- sets intacct_sync.pushing so linking keys does not wake anyone again.
CREATE FUNCTION intacct_sync.notify_push() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    rec jsonb := to_jsonb(NEW);
BEGIN
    IF coalesce(current_setting('intacct_sync.pushing', true), '') = 'on'
       OR coalesce(rec->>'origin', 'local') <> 'local'
       OR coalesce(rec->>'state', '') = 'draft' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('intacct_push', TG_ARGV[0]);
    RETURN NULL;
END $$;

CREATE TRIGGER customers_push AFTER INSERT OR UPDATE ON ar.customers
    FOR EACH ROW EXECUTE FUNCTION intacct_sync.notify_push('customers');
CREATE TRIGGER invoices_push AFTER INSERT OR UPDATE ON ar.invoices
    FOR EACH ROW EXECUTE FUNCTION intacct_sync.notify_push('invoices');
CREATE TRIGGER credit_notes_push AFTER INSERT OR UPDATE ON ar.credit_notes
    FOR EACH ROW EXECUTE FUNCTION intacct_sync.notify_push('credit_notes');
CREATE TRIGGER payments_push AFTER INSERT OR UPDATE ON ar.payments
    FOR EACH ROW EXECUTE FUNCTION intacct_sync.notify_push('payments');
CREATE TRIGGER convenience_fees_push AFTER INSERT OR UPDATE ON ar.convenience_fees
    FOR EACH ROW EXECUTE FUNCTION intacct_sync.notify_push('convenience_fees');

-- Reconciliation errors are handled by people: retry puts a record back in the queue (the
-- next push, or pull, tries it again), ignore silences it until it fails differently.
CREATE FUNCTION intacct_sync.retry_error(error_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    found_object text;
BEGIN
    UPDATE intacct_sync.reconciliation_errors SET state = 'retrying', last_seen_at = now()
    WHERE id = error_id AND state IN ('open', 'ignored')
    RETURNING object INTO found_object;
    IF found_object IS NULL THEN
        RAISE EXCEPTION 'reconciliation error % does not exist or is not open or ignored',
            error_id;
    END IF;
    PERFORM pg_notify('intacct_push', found_object);
    RETURN found_object;
END $$;

CREATE FUNCTION intacct_sync.ignore_error(error_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    found_object text;
BEGIN
    UPDATE intacct_sync.reconciliation_errors SET state = 'ignored'
    WHERE id = error_id AND state IN ('open', 'retrying')
    RETURNING object INTO found_object;
    IF found_object IS NULL THEN
        RAISE EXCEPTION 'reconciliation error % does not exist or is not open', error_id;
    END IF;
    RETURN found_object;
END $$;
