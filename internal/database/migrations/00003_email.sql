-- +goose Up
-- Truss's outgoing mail (internal/email). A message is enqueued in the same
-- transaction as the action that causes it and sent by a worker that claims
-- rows with FOR UPDATE SKIP LOCKED; it is marked sent in that same
-- transaction, so a message is never lost and, short of a crash between the
-- SMTP server's acceptance and the commit, never sent twice.
CREATE TABLE truss_internal.email_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Template name (invitation, api_key_created, ...) or "raw".
    kind             text NOT NULL,
    to_address       text NOT NULL,
    to_name          text NOT NULL DEFAULT '',
    subject          text NOT NULL,
    -- Emptied once sent (they may carry invitation links).
    body_text        text NOT NULL,
    body_html        text NOT NULL DEFAULT '',
    -- Stable across retries: a receiver that saw a first copy can tell.
    message_id       text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- The last failure, as the SMTP server worded it when it answered.
    last_error       text,
    -- The server's reply to the accepted message (250 ... queued as ...).
    smtp_reply       text,
    tenant_id        uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    failed_at        timestamptz
);
-- The worker's claim: due pending messages, oldest first.
CREATE INDEX email_outbox_due_idx ON truss_internal.email_outbox (next_attempt_at, id) WHERE status = 'pending';
-- GET /api/email/outbox pages by id, optionally by status.
CREATE INDEX email_outbox_status_idx ON truss_internal.email_outbox (status, id DESC);

-- SMTP settings an admin set at run time (PUT /api/settings/smtp). One row
-- at most; when present it replaces the SMTP_* environment variables.
-- The password is sealed with AES-256-GCM under a key derived from
-- TRUSS_SECRET_KEY and never leaves the server.
CREATE TABLE truss_internal.smtp_settings (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    host          text NOT NULL,
    port          integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    username      text NOT NULL DEFAULT '',
    password_enc  bytea,
    from_address  text NOT NULL,
    sender_name   text NOT NULL DEFAULT '',
    tls_mode      text NOT NULL CHECK (tls_mode IN ('auto', 'starttls', 'tls', 'none')),
    timeout_ms    integer NOT NULL CHECK (timeout_ms BETWEEN 100 AND 300000),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    uuid
);

-- +goose Down
DROP TABLE truss_internal.smtp_settings;
DROP TABLE truss_internal.email_outbox;
