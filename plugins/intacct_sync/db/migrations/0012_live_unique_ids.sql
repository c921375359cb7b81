-- Uniqueness among live rows only. Intacct keeps a CUSTOMERID unique among the customers that
-- exist: a customer deleted and re-created with the same id is a new record (a new RECORDNO)
-- while the old row stays here, soft-deleted. The id is unique only among rows not deleted,
-- so the new record loads (its documents re-link to it, plugins/intacct_sync/pull/loading.py). RECORDNOs are
-- never reused by Intacct and stay unique across every row (the loader's upsert key).
ALTER TABLE ar.customers DROP CONSTRAINT IF EXISTS customers_intacct_customer_id_key;
CREATE UNIQUE INDEX customers_live_intacct_customer_id
    ON ar.customers (intacct_customer_id) WHERE deleted_at IS NULL;
