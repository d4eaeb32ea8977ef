-- Sending identities: the domains a tenant has proven in DNS that it controls. Mail is accepted
-- only when its From and MAIL FROM domains are covered by a proven one, so that no tenant can
-- send as another tenant's domain. The token is public once published; it only has to differ
-- between tenants.

CREATE TABLE sending_domains (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    domain       TEXT NOT NULL,
    token        TEXT NOT NULL,
    proof_method TEXT,
    proven_at    INTEGER,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, domain),
    CHECK ((proof_method IS NULL) = (proven_at IS NULL))
);

-- A repeated Idempotency-Key must carry the same request: the SHA-256 of the first one is kept
-- so that a different payload under the same key is refused instead of silently dropped.
ALTER TABLE messages ADD COLUMN idempotency_hash TEXT;
