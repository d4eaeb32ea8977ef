-- DKIM by CNAME delegation (SPEC S11.4). A delegated domain's keys alternate between the two
-- selectors its CNAMEs name, so a selector is taken again once the key that held it has retired:
-- a selector is unique among the domain's unretired keys only. SQLite cannot drop a table's
-- UNIQUE constraint, so the table is rebuilt with the same columns and rows; nothing refers to it.

CREATE TABLE signing_keys_new (
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
    algorithm         TEXT NOT NULL DEFAULT 'rsa' CHECK (algorithm IN ('rsa', 'ed25519'))
);

INSERT INTO signing_keys_new (id, tenant_id, signing_domain_id, selector, state, state_since,
                              forced, public_der, bits, origin, created_at, encrypted_pkcs8,
                              sealed_password, algorithm)
SELECT id, tenant_id, signing_domain_id, selector, state, state_since, forced, public_der, bits,
       origin, created_at, encrypted_pkcs8, sealed_password, algorithm
FROM signing_keys;

DROP TABLE signing_keys;
ALTER TABLE signing_keys_new RENAME TO signing_keys;

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (signing_domain_id, algorithm)
    WHERE state = 'active';
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, signing_domain_id);
CREATE UNIQUE INDEX signing_keys_selector_in_use ON signing_keys (signing_domain_id, selector)
    WHERE state <> 'retired';
