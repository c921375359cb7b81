-- Bill-to contacts as the customer source (sync configuration customer_source =
-- 'bill_to_contact', issue 17): several local customers may be bill-to contacts of one Intacct
-- customer. Such a customer's identity is (intacct_customer_id, intacct_contact_name) —
-- Intacct's CONTACTNAME — instead of intacct_customer_id alone. Both stay unique among live
-- rows only (as 0012): a row without a contact name is a whole Intacct customer (the default
-- source, unchanged), one with a contact name is one of its bill-to contacts.
ALTER TABLE ar.customers ADD COLUMN IF NOT EXISTS intacct_contact_name text;

DROP INDEX IF EXISTS ar.customers_live_intacct_customer_id;
CREATE UNIQUE INDEX customers_live_intacct_customer_id
    ON ar.customers (intacct_customer_id)
    WHERE deleted_at IS NULL AND intacct_contact_name IS NULL;
CREATE UNIQUE INDEX customers_live_intacct_contact
    ON ar.customers (intacct_customer_id, intacct_contact_name)
    WHERE deleted_at IS NULL AND intacct_contact_name IS NOT NULL;
