-- Return-path domains (SPEC S10.1): per tenant and signing domain (the From domain), the domain
-- its mail uses as MAIL FROM so that bounces come back to Sealpost. A return-path domain names one
-- tenant only: the inbound listener learns the tenant from it. verified_at is set while a DNS
-- check finds its MX and SPF records; delivery uses it only then.

CREATE TABLE return_paths (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    domain      TEXT NOT NULL,
    return_path TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    verified_at INTEGER,
    PRIMARY KEY (tenant_id, domain)
);
