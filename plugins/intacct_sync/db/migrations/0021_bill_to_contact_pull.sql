-- The pull of bill-to contacts (customer_source = 'bill_to_contact', issue 17): local
-- customers are CONTACTs of Intacct customers (0018), so a pulled document belongs to the
-- local customer of its (CUSTOMERID, BILLTO.CONTACTNAME), not of its CUSTOMERID alone.

-- The bill-to contact each pulled document names (BILLTO.CONTACTNAME). ARPYMT has none: a
-- payment goes to the Intacct customer, so its column stays empty (see customer_of).
ALTER TABLE ar.invoices ADD COLUMN IF NOT EXISTS intacct_contact_name text;
ALTER TABLE ar.credit_notes ADD COLUMN IF NOT EXISTS intacct_contact_name text;
ALTER TABLE ar.payments ADD COLUMN IF NOT EXISTS intacct_contact_name text;

-- A document waiting for its customer (skipped_records) waits for that bill-to contact.
ALTER TABLE intacct_sync.skipped_records ADD COLUMN IF NOT EXISTS contact_key text;

-- The one rule (used by the loader, its relinks and the reactivation): the live local
-- customer a pulled record of Intacct customer `customer_key`, billed to `contact_name`,
-- belongs to —
--   1. the row of that bill-to contact (customer_key, contact_name);
--   2. else the row of the whole Intacct customer (no contact name: customer_source
--      'customer');
--   3. else, for a record that names no contact (a payment), the customer's only row.
-- Rows are unique per rule among live rows (0018), so there is at most one answer.
CREATE OR REPLACE FUNCTION intacct_sync.customer_of(customer_key text, contact_name text)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT id FROM ar.customers WHERE deleted_at IS NULL
          AND intacct_customer_id = customer_key AND intacct_contact_name = contact_name),
        (SELECT id FROM ar.customers WHERE deleted_at IS NULL
          AND intacct_customer_id = customer_key AND intacct_contact_name IS NULL),
        (SELECT min(id) FROM ar.customers WHERE contact_name IS NULL AND deleted_at IS NULL
          AND intacct_customer_id = customer_key HAVING count(*) = 1))
$$;
