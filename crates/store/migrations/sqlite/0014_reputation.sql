-- The tenant reputation guard (SPEC S10.5): a tenant whose bounce or complaint rate crossed a
-- pause threshold has sending_paused_at set (its mail is accepted and held, not claimed for
-- delivery) until an operator resumes it; reputation_warning holds the reason while a warning
-- threshold is crossed.

ALTER TABLE tenants ADD COLUMN sending_paused_at INTEGER;
ALTER TABLE tenants ADD COLUMN paused_reason TEXT;
ALTER TABLE tenants ADD COLUMN reputation_warning TEXT;

CREATE INDEX events_tenant_at ON events (tenant_id, at);
