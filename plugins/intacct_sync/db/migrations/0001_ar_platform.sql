-- The AR platform's own tables. Rows either came from Intacct (origin = 'intacct', pulled,
-- never pushed back) or originated locally (origin = 'local', pushed, linked once posted).
-- Money is numeric, never float; every transaction carries its currency and entity
-- (Intacct location / MEGAENTITYID, '' for the top level). Intacct custom fields are kept in
-- JSONB. intacct_whenmodified is Intacct's WHENMODIFIED as given: company-local, no zone.
-- row_hash lets the loader skip rows whose data did not change.
CREATE SCHEMA IF NOT EXISTS ar;

CREATE TABLE ar.customers (
    id                   bigserial PRIMARY KEY,
    origin               text NOT NULL DEFAULT 'local' CHECK (origin IN ('intacct', 'local')),
    intacct_recordno     bigint UNIQUE,
    intacct_customer_id  text UNIQUE,
    account_number       text,
    name                 text NOT NULL,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    email                text,
    currency             text,
    entity               text NOT NULL DEFAULT '',
    billing_address      jsonb NOT NULL DEFAULT '{}',
    custom_fields        jsonb NOT NULL DEFAULT '{}',
    intacct_whenmodified timestamp,
    row_hash             text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz
);
CREATE INDEX customers_account_number ON ar.customers (account_number);
CREATE INDEX customers_name ON ar.customers (lower(name));

-- Invoices (Intacct: SODOCUMENT "Sales Invoice"; pushed as ARINVOICE) and credit notes
-- (SODOCUMENT "Sales Return"; pushed as ARADJUSTMENT) share one shape.
CREATE TABLE ar.invoices (
    id                   bigserial PRIMARY KEY,
    origin               text NOT NULL DEFAULT 'local' CHECK (origin IN ('intacct', 'local')),
    intacct_recordno     bigint UNIQUE,
    intacct_docid        text,
    ar_recordno          bigint,
    number               text NOT NULL,
    customer_id          bigint REFERENCES ar.customers (id),
    intacct_customer_id  text,
    state                text NOT NULL,
    currency             text NOT NULL,
    entity               text NOT NULL DEFAULT '',
    issue_date           date,
    due_date             date,
    total                numeric(18, 2) NOT NULL DEFAULT 0,
    total_paid           numeric(18, 2) NOT NULL DEFAULT 0,
    total_due            numeric(18, 2) NOT NULL DEFAULT 0,
    memo                 text,
    custom_fields        jsonb NOT NULL DEFAULT '{}',
    intacct_whenmodified timestamp,
    row_hash             text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz
);
CREATE INDEX invoices_customer ON ar.invoices (customer_id);
CREATE INDEX invoices_ar_recordno ON ar.invoices (ar_recordno);

CREATE TABLE ar.invoice_lines (
    invoice_id    bigint NOT NULL REFERENCES ar.invoices (id) ON DELETE CASCADE,
    line_no       integer NOT NULL,
    item_id       text,
    description   text,
    quantity      numeric,
    unit_price    numeric,
    amount        numeric(18, 2) NOT NULL,
    location_id   text,
    department_id text,
    -- Other dimensions and the per-line intacct_* overrides (design.md, "Dimensions").
    dimensions    jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (invoice_id, line_no)
);

CREATE TABLE ar.credit_notes (LIKE ar.invoices INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE ar.credit_notes ADD PRIMARY KEY (id),
    ADD UNIQUE (intacct_recordno),
    ADD FOREIGN KEY (customer_id) REFERENCES ar.customers (id);
CREATE SEQUENCE ar.credit_notes_id_seq OWNED BY ar.credit_notes.id;
ALTER TABLE ar.credit_notes ALTER COLUMN id SET DEFAULT nextval('ar.credit_notes_id_seq');
CREATE INDEX credit_notes_customer ON ar.credit_notes (customer_id);

CREATE TABLE ar.credit_note_lines (
    LIKE ar.invoice_lines INCLUDING DEFAULTS INCLUDING CONSTRAINTS
);
ALTER TABLE ar.credit_note_lines RENAME COLUMN invoice_id TO credit_note_id;
ALTER TABLE ar.credit_note_lines ADD PRIMARY KEY (credit_note_id, line_no),
    ADD FOREIGN KEY (credit_note_id) REFERENCES ar.credit_notes (id) ON DELETE CASCADE;

-- Payments (Intacct: ARPYMT) and where they were applied (ARPYMTDETAIL): to invoices, or
-- credit notes used as payment.
CREATE TABLE ar.payments (
    id                   bigserial PRIMARY KEY,
    origin               text NOT NULL DEFAULT 'local' CHECK (origin IN ('intacct', 'local')),
    intacct_recordno     bigint UNIQUE,
    customer_id          bigint REFERENCES ar.customers (id),
    intacct_customer_id  text,
    state                text NOT NULL,
    currency             text NOT NULL,
    entity               text NOT NULL DEFAULT '',
    payment_date         date,
    amount               numeric(18, 2) NOT NULL,
    method               text,
    reference            text,
    bank_account         text,
    memo                 text,
    warning              text,
    custom_fields        jsonb NOT NULL DEFAULT '{}',
    intacct_whenmodified timestamp,
    row_hash             text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz
);
CREATE INDEX payments_customer ON ar.payments (customer_id);

CREATE TABLE ar.payment_applications (
    payment_id         bigint NOT NULL REFERENCES ar.payments (id) ON DELETE CASCADE,
    line_no            integer NOT NULL,
    target             text NOT NULL CHECK (target IN ('invoice', 'credit_note', 'other')),
    invoice_id         bigint REFERENCES ar.invoices (id),
    credit_note_id     bigint REFERENCES ar.credit_notes (id),
    intacct_target_key bigint,
    amount             numeric(18, 2) NOT NULL,
    PRIMARY KEY (payment_id, line_no)
);

-- Card surcharges collected with a payment; push-only (design.md, "Convenience fees").
CREATE TABLE ar.convenience_fees (
    id          bigserial PRIMARY KEY,
    payment_id  bigint NOT NULL REFERENCES ar.payments (id),
    amount      numeric(18, 2) NOT NULL CHECK (amount > 0),
    currency    text NOT NULL,
    entity      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
