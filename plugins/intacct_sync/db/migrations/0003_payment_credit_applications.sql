-- An ARPYMTDETAIL applies cash and/or a credit note to one A/R invoice: keep both parts
-- and both Intacct keys, so credits used as payment are visible per application.
ALTER TABLE ar.payment_applications
    ADD COLUMN intacct_credit_key bigint,
    ADD COLUMN credit_amount numeric(18, 2) NOT NULL DEFAULT 0;

-- Invoices skipped because their customer is not active (design.md): re-read and imported
-- by the invoices sync once the customer becomes active.
CREATE TABLE intacct_sync.skipped_records (
    object            text NOT NULL,
    intacct_recordno  bigint NOT NULL,
    customer_key      text,
    reason            text NOT NULL,
    skipped_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (object, intacct_recordno)
);

-- Landed child records (lines, payment details) carry their header's RECORDNO, so the map
-- step reads them per batch of headers instead of scanning the whole run.
ALTER TABLE intacct_sync.raw_records ADD COLUMN parent text;
CREATE INDEX raw_records_parent ON intacct_sync.raw_records (run_id, object, parent);
