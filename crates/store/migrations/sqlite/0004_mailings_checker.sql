-- Mailings (SPEC S6): a tenant's contacts, and mailings from one sender contact to recipient
-- contacts, which become one queued message when sent. The mail tester (SPEC S7): the test
-- addresses issued to a tenant and the reports of the messages that arrived at them.

CREATE TABLE contacts (
    id         TEXT PRIMARY KEY NOT NULL,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, email)
);

CREATE TABLE mailings (
    id                TEXT PRIMARY KEY NOT NULL,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sender_contact_id TEXT NOT NULL REFERENCES contacts (id),
    subject           TEXT NOT NULL,
    body              TEXT NOT NULL,
    message_id        TEXT REFERENCES messages (id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL,
    sent_at           INTEGER
);

CREATE INDEX mailings_tenant ON mailings (tenant_id, created_at);

CREATE TABLE mailing_recipients (
    mailing_id TEXT NOT NULL REFERENCES mailings (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (mailing_id, contact_id)
);

CREATE TABLE checker_addresses (
    token      TEXT PRIMARY KEY NOT NULL,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    message_id TEXT REFERENCES messages (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX checker_addresses_tenant ON checker_addresses (tenant_id, created_at);

CREATE TABLE checker_reports (
    id          TEXT PRIMARY KEY NOT NULL,
    token       TEXT NOT NULL REFERENCES checker_addresses (token) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    client_ip   TEXT NOT NULL,
    helo        TEXT NOT NULL,
    mail_from   TEXT NOT NULL,
    raw         BLOB NOT NULL,
    score       REAL NOT NULL,
    report      TEXT NOT NULL
);

CREATE INDEX checker_reports_tenant ON checker_reports (tenant_id, received_at);
CREATE INDEX checker_reports_token ON checker_reports (token);
