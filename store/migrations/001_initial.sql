-- Applicants verified through the e-ID service. Tokens carry only `sub`.
CREATE TABLE applicants (
    sub          text PRIMARY KEY,
    name         text NOT NULL,
    id_number    text NOT NULL,
    phone        text NOT NULL,
    verified_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE materials (
    material_id   uuid PRIMARY KEY,
    owner_sub     text NOT NULL,
    kind          text NOT NULL,
    content_type  text NOT NULL,
    size          integer NOT NULL CHECK (size > 0 AND size <= 10485760),
    sha256        text NOT NULL,
    content       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX materials_owner ON materials (owner_sub, created_at DESC);

-- The projection clerks list; written by the workflow's activities (newer version wins).
CREATE TABLE applications (
    application_id    uuid PRIMARY KEY,
    workflow_id       text NOT NULL UNIQUE,
    applicant_sub     text NOT NULL,
    district          text NOT NULL,
    channel           text NOT NULL,
    status            text NOT NULL,
    step              text,
    vin_digest        text NOT NULL,
    submitted_at      timestamptz NOT NULL,
    accepted_on       date,
    insurance_due_on  date,
    decision_due_on   date,
    permit_number     text,
    view              jsonb NOT NULL,
    version           integer NOT NULL DEFAULT 0,
    start_input       jsonb,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- One application in progress per vehicle.
CREATE UNIQUE INDEX applications_one_open_per_vehicle ON applications (vin_digest)
    WHERE status NOT IN ('completed', 'rejected', 'withdrawn', 'expired');
CREATE INDEX applications_inbox ON applications (district, status, submitted_at DESC, application_id);
CREATE INDEX applications_by_applicant ON applications (applicant_sub, submitted_at DESC, application_id);

CREATE TABLE idempotency_keys (
    applicant_sub   text NOT NULL,
    key             text NOT NULL,
    request_sha256  text NOT NULL,
    application_id  uuid NOT NULL REFERENCES applications ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (applicant_sub, key)
);

CREATE TABLE documents (
    document_id     uuid PRIMARY KEY,
    application_id  uuid NOT NULL,
    kind            text NOT NULL,
    data            jsonb NOT NULL,
    sha256          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_by_application ON documents (application_id);

CREATE TABLE permit_counters (
    city      text PRIMARY KEY,
    last_seq  bigint NOT NULL DEFAULT 0
);
INSERT INTO permit_counters (city) VALUES ('330300');

CREATE TABLE permits (
    application_id  uuid PRIMARY KEY,
    city            text NOT NULL,
    seq             bigint NOT NULL,
    number          text NOT NULL UNIQUE,
    issued_on       date NOT NULL,
    valid_until     date NOT NULL,
    UNIQUE (city, seq)
);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    role        text NOT NULL,
    district    text,
    action      text NOT NULL,
    target      text,
    outcome     text NOT NULL,
    source_ip   text,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_target ON audit_log (target, at);

-- Signed callbacks already taken, so a replay is refused.
CREATE TABLE callback_receipts (
    signature    text PRIMARY KEY,
    source       text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
