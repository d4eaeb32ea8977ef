-- A tenant's delivery mode (SPEC S1): native by default, or the tenant's own mail server, whose
-- password is stored only sealed with the master key.

CREATE TABLE delivery_settings (
    tenant_id       TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    mode            TEXT NOT NULL,
    host            TEXT,
    port            BIGINT,
    username        TEXT,
    sealed_password BYTEA,
    implicit_tls    BOOLEAN NOT NULL,
    tls_mode        TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
