-- What the scheduled re-check found of each record beside DKIM (SPEC S11.2): the domain's SPF,
-- its DMARC policy, and the return-path domain's MX and SPF. One row per record; a re-check
-- replaces a domain's rows together with its DNS state and its events.
CREATE TABLE signing_domain_records (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    signing_domain_id TEXT NOT NULL REFERENCES signing_domains (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL
                      CHECK (kind IN ('spf', 'dmarc', 'return_path_mx', 'return_path_spf')),
    name              TEXT NOT NULL,
    outcome           TEXT NOT NULL
                      CHECK (outcome IN ('found', 'missing', 'wrong', 'temporary_error')),
    detail            TEXT NOT NULL,
    checked_at        INTEGER NOT NULL,
    settled           TEXT CHECK (settled IN ('found', 'missing', 'wrong')),
    settled_since     INTEGER,
    found_at          INTEGER,
    PRIMARY KEY (signing_domain_id, kind)
);

CREATE INDEX signing_domain_records_tenant ON signing_domain_records (tenant_id, signing_domain_id);
