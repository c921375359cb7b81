-- Versions that DST and same-second edits cannot fool (plugins/intacct_sync/pull/versions.py).
-- WHENMODIFIED is company-local with one-second resolution: on a fall-back night a later edit
-- (01:10 PST) reads as earlier than the first (01:30 PDT), and two edits in one second look
-- equal. Each pulled row therefore also keeps the UTC instants its WHENMODIFIED can mean
-- (one instant, or two an hour apart in a repeated hour) and when the read that saw it
-- started; raw_records keeps that start for each landed record.
ALTER TABLE intacct_sync.raw_records ADD COLUMN read_at timestamptz;

ALTER TABLE ar.customers
    ADD COLUMN intacct_modified_from timestamptz,
    ADD COLUMN intacct_modified_to timestamptz,
    ADD COLUMN intacct_read_at timestamptz;
ALTER TABLE ar.invoices
    ADD COLUMN intacct_modified_from timestamptz,
    ADD COLUMN intacct_modified_to timestamptz,
    ADD COLUMN intacct_read_at timestamptz;
ALTER TABLE ar.credit_notes
    ADD COLUMN intacct_modified_from timestamptz,
    ADD COLUMN intacct_modified_to timestamptz,
    ADD COLUMN intacct_read_at timestamptz;
ALTER TABLE ar.payments
    ADD COLUMN intacct_modified_from timestamptz,
    ADD COLUMN intacct_modified_to timestamptz,
    ADD COLUMN intacct_read_at timestamptz;

-- The one rule: is snapshot "new" at least as new as snapshot "old" of the same record?
-- Modified definitely later (its earliest instant after the other's latest): yes; definitely
-- earlier: no. Otherwise (the same second, or a repeated hour) the snapshot whose read
-- started later wins: a read shows every change committed before it started. A row without
-- these stamps (loaded before this migration, or created by the push) takes the new one.
CREATE FUNCTION intacct_sync.not_older(
    new_from timestamptz, new_to timestamptz, new_read timestamptz,
    old_from timestamptz, old_to timestamptz, old_read timestamptz
) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN new_from IS NOT NULL AND old_to IS NOT NULL AND new_from > old_to THEN true
        WHEN new_to IS NOT NULL AND old_from IS NOT NULL AND new_to < old_from THEN false
        ELSE coalesce(new_read >= old_read, true)
    END
$$;
