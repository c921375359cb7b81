-- Issue 15: invoices and credit notes come from Order Entry (SODOCUMENT), from Accounts
-- Receivable (ARINVOICE / ARADJUSTMENT entered there), or both (intacct_sync_config
-- invoice_source). SODOCUMENT and ARINVOICE RECORDNOs are separate number spaces and can
-- collide, so each row records its source and the loader's upsert key is (source, RECORDNO).
-- Existing rows came from Order Entry, today's only source.
ALTER TABLE ar.invoices ADD COLUMN intacct_source text NOT NULL DEFAULT 'order_entry'
    CHECK (intacct_source IN ('order_entry', 'accounts_receivable'));
ALTER TABLE ar.invoices DROP CONSTRAINT IF EXISTS invoices_intacct_recordno_key;
ALTER TABLE ar.invoices ADD CONSTRAINT invoices_source_recordno_key
    UNIQUE (intacct_source, intacct_recordno);

ALTER TABLE ar.credit_notes ADD COLUMN intacct_source text NOT NULL DEFAULT 'order_entry'
    CHECK (intacct_source IN ('order_entry', 'accounts_receivable'));
ALTER TABLE ar.credit_notes DROP CONSTRAINT IF EXISTS credit_notes_intacct_recordno_key;
ALTER TABLE ar.credit_notes ADD CONSTRAINT credit_notes_source_recordno_key
    UNIQUE (intacct_source, intacct_recordno);
