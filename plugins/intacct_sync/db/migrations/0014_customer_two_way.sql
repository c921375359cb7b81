-- Customers sync both ways (plugins/intacct_sync/customer_sync.py): for each linked customer, the synced
-- fields as the AR platform and Intacct last agreed. A side whose values differ from these
-- changed since; both changed is a conflict (Intacct wins, recorded).
CREATE TABLE intacct_sync.customer_sync (
    customer_id  bigint PRIMARY KEY REFERENCES ar.customers (id) ON DELETE CASCADE,
    synced       jsonb NOT NULL,   -- customer_sync.snapshot(): name, status, email, ...
    synced_at    timestamptz NOT NULL DEFAULT now()
);

-- Customers linked before this migration are taken as in sync (the same normalisation as
-- customer_sync.snapshot: empty text is null, only the five address keys that are synced).
INSERT INTO intacct_sync.customer_sync (customer_id, synced)
SELECT c.id, jsonb_build_object(
    'name', c.name,
    'status', lower(c.status),
    'email', nullif(c.email, ''),
    'currency', nullif(c.currency, ''),
    'billing_address', (
        SELECT coalesce(jsonb_object_agg(a.key, a.value), '{}'::jsonb)
        FROM jsonb_each(c.billing_address) a
        WHERE a.key IN ('address1', 'city', 'country', 'state', 'zip')
          AND a.value NOT IN ('""'::jsonb, 'null'::jsonb)))
FROM ar.customers c
WHERE c.intacct_recordno IS NOT NULL;

-- (0008 says a posted credit note's void is a deletion: it is a reversal now,
-- reverse_aradjustment, see plugins/intacct_sync/push/plans.py.)
