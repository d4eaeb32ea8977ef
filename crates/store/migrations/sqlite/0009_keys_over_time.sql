-- Keys and domains over time (SPEC S11.1, S11.2). A signing domain holds several keys, each
-- under its own selector and in a state (pending, active, retiring, retired); the domain keeps
-- a pointer to its active key, so the rule "an active domain has a key" stays a CHECK. The
-- domain has a DNS state that one node of the cluster re-checks on a schedule (the lease), and
-- every change of a key or a domain is an event.

CREATE TABLE signing_keys (
    id                TEXT PRIMARY KEY NOT NULL,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    signing_domain_id TEXT NOT NULL REFERENCES signing_domains (id) ON DELETE CASCADE,
    selector          TEXT NOT NULL,
    state             TEXT NOT NULL
                      CHECK (state IN ('pending', 'active', 'retiring', 'retired')),
    state_since       INTEGER NOT NULL,
    forced            BOOLEAN NOT NULL,
    public_der        BLOB NOT NULL,
    bits              INTEGER NOT NULL,
    origin            TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    encrypted_pkcs8   TEXT NOT NULL,
    sealed_password   BLOB NOT NULL,
    UNIQUE (signing_domain_id, selector)
);

-- Exactly one key signs at any moment: never two.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (signing_domain_id)
    WHERE state = 'active';
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, signing_domain_id);

-- A domain's single key becomes its one active key.
INSERT INTO signing_keys (id, tenant_id, signing_domain_id, selector, state, state_since, forced,
                          public_der, bits, origin, created_at, encrypted_pkcs8, sealed_password)
SELECT key_id, tenant_id, id, selector, 'active', key_created_at, FALSE, key_public_der,
       key_bits, key_origin, key_created_at, key_encrypted_pkcs8, key_sealed_password
FROM signing_domains WHERE key_id IS NOT NULL;

ALTER TABLE signing_domains RENAME COLUMN key_id TO active_key_id;
ALTER TABLE signing_domains DROP COLUMN key_public_der;
ALTER TABLE signing_domains DROP COLUMN key_bits;
ALTER TABLE signing_domains DROP COLUMN key_origin;
ALTER TABLE signing_domains DROP COLUMN key_created_at;
ALTER TABLE signing_domains DROP COLUMN key_encrypted_pkcs8;
ALTER TABLE signing_domains DROP COLUMN key_sealed_password;

-- Every existing domain starts pending and is due for a check at once.
ALTER TABLE signing_domains ADD COLUMN dns_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (dns_state IN ('pending', 'verified', 'warning', 'failed'));
ALTER TABLE signing_domains ADD COLUMN dns_state_since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE signing_domains ADD COLUMN dns_failing_since INTEGER;
ALTER TABLE signing_domains ADD COLUMN dns_checked_at INTEGER;
ALTER TABLE signing_domains ADD COLUMN dns_check_outcome TEXT;
ALTER TABLE signing_domains ADD COLUMN dns_check_summary TEXT;
ALTER TABLE signing_domains ADD COLUMN dns_next_check_at INTEGER NOT NULL DEFAULT 0;
UPDATE signing_domains SET dns_state_since = updated_at;
CREATE INDEX signing_domains_due ON signing_domains (dns_next_check_at);

-- No foreign key to the domain: its history stays when the domain is deleted (webhooks may still
-- carry it); the tenant's deletion removes it.
CREATE TABLE signing_domain_events (
    id                TEXT PRIMARY KEY NOT NULL,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    signing_domain_id TEXT NOT NULL,
    key_id            TEXT,
    kind              TEXT NOT NULL,
    warning           BOOLEAN NOT NULL,
    detail            TEXT NOT NULL,
    at                INTEGER NOT NULL
);

CREATE INDEX signing_domain_events_domain
    ON signing_domain_events (tenant_id, signing_domain_id, at);

-- Work that one node of the cluster does at a time: the holder renews its lease before it ends;
-- when a holder dies, its lease runs out and another node takes it.
CREATE TABLE cluster_leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
