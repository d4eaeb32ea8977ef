-- Automatic DKIM key rotation (SPEC S11.1): a tenant may have its active keys replaced every
-- dkim_rotation_days days (NULL: only by hand). A domain whose rotation failed is not tried
-- again before rotation_retry_at, so one failing domain neither loops nor holds others back.
ALTER TABLE tenants ADD COLUMN dkim_rotation_days INTEGER
    CHECK (dkim_rotation_days BETWEEN 30 AND 730);
ALTER TABLE signing_domains ADD COLUMN rotation_retry_at INTEGER;
