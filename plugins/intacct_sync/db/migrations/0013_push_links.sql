-- Push exactly once whatever the timing (issue 17 items 1-3, 7; plugins/intacct_sync/push/links.py).

-- What a push is about to create in Intacct, written and committed BEFORE the write goes
-- out: a pull that meets the record in Intacct links it to the local row through this
-- (intacct_sync.pushes only holds writes Intacct confirmed), and a push that ended without
-- an answer finds here what to look up before it writes anything. No foreign key: a link
-- outlives a local row a clerk deletes (its re-entry is matched against it).
CREATE TABLE intacct_sync.push_links (
    control_id      text PRIMARY KEY,
    object          text NOT NULL,   -- invoices | credit_notes | payments | convenience_fees
    local_id        bigint NOT NULL,
    intacct_object  text NOT NULL,   -- ARINVOICE | ARADJUSTMENT | ARPYMT
    document_number text,            -- RECORDID (invoice, adjustment) / DOCNUMBER (payment)
    customer_key    text,            -- the Intacct CUSTOMERID it was sent for
    amount          numeric(18, 2),
    document_date   date,
    lookup          jsonb NOT NULL DEFAULT '{}',  -- query fields that find it in Intacct
    sent            jsonb NOT NULL,  -- the local row (and lines) as the push read it
    intacct_key     bigint,
    state           text NOT NULL DEFAULT 'sending'
                    CHECK (state IN ('sending', 'unknown', 'posted', 'failed')),
    prepared_at     timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz
);
CREATE INDEX push_links_record ON intacct_sync.push_links (object, local_id);
CREATE INDEX push_links_document ON intacct_sync.push_links (intacct_object, document_number);
CREATE INDEX push_links_key ON intacct_sync.push_links (intacct_object, intacct_key);

-- A push that ends without knowing whether Intacct committed the write.
ALTER TABLE intacct_sync.reconciliation_errors
    DROP CONSTRAINT IF EXISTS reconciliation_errors_state_check,
    ADD CONSTRAINT reconciliation_errors_state_check
        CHECK (state IN ('open', 'retrying', 'ignored', 'resolved', 'outcome unknown'));

-- Push cut-over: when a local record became ready (left 'draft', or was entered ready), and
-- the records a person queued explicitly (older than the cut-over, posted all the same).
CREATE TABLE intacct_sync.push_ready (
    object    text NOT NULL,
    local_id  bigint NOT NULL,
    ready_at  timestamptz NOT NULL DEFAULT now(),
    queued    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (object, local_id)
);

CREATE FUNCTION intacct_sync.record_ready() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.origin = 'local' AND NEW.state <> 'draft'
       AND (TG_OP = 'INSERT' OR OLD.state = 'draft') THEN
        INSERT INTO intacct_sync.push_ready (object, local_id) VALUES (TG_ARGV[0], NEW.id)
        ON CONFLICT (object, local_id) DO UPDATE SET ready_at = now();
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER invoices_ready AFTER INSERT OR UPDATE OF state ON ar.invoices
    FOR EACH ROW EXECUTE FUNCTION intacct_sync.record_ready('invoices');
CREATE TRIGGER credit_notes_ready AFTER INSERT OR UPDATE OF state ON ar.credit_notes
    FOR EACH ROW EXECUTE FUNCTION intacct_sync.record_ready('credit_notes');
CREATE TRIGGER payments_ready AFTER INSERT OR UPDATE OF state ON ar.payments
    FOR EACH ROW EXECUTE FUNCTION intacct_sync.record_ready('payments');

-- A person posts a record older than the cut-over: SELECT intacct_sync.queue_push('invoices', 42)
CREATE FUNCTION intacct_sync.queue_push(object_name text, record_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO intacct_sync.push_ready (object, local_id, queued)
    VALUES (object_name, record_id, true)
    ON CONFLICT (object, local_id) DO UPDATE SET queued = true;
    PERFORM pg_notify('intacct_push', object_name);
    RETURN object_name;
END $$;

-- An AR table emptied (a rebuilt database) takes its links and readiness with it.
CREATE FUNCTION intacct_sync.forget_push_links() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM intacct_sync.push_links WHERE object = TG_ARGV[0];
    DELETE FROM intacct_sync.push_ready WHERE object = TG_ARGV[0];
    RETURN NULL;
END $$;

CREATE TRIGGER invoices_forget AFTER TRUNCATE ON ar.invoices
    FOR EACH STATEMENT EXECUTE FUNCTION intacct_sync.forget_push_links('invoices');
CREATE TRIGGER credit_notes_forget AFTER TRUNCATE ON ar.credit_notes
    FOR EACH STATEMENT EXECUTE FUNCTION intacct_sync.forget_push_links('credit_notes');
CREATE TRIGGER payments_forget AFTER TRUNCATE ON ar.payments
    FOR EACH STATEMENT EXECUTE FUNCTION intacct_sync.forget_push_links('payments');
CREATE TRIGGER convenience_fees_forget AFTER TRUNCATE ON ar.convenience_fees
    FOR EACH STATEMENT EXECUTE FUNCTION intacct_sync.forget_push_links('convenience_fees');
