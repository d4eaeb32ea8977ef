-- The reputation guard counts a tenant's sent, bounced and complained events in a window: with
-- the kind in the index those counts read index ranges only, instead of every event of the
-- window (most of them acceptances and deliveries of other kinds) and its row.
DROP INDEX events_tenant_at;
CREATE INDEX events_tenant_kind_at ON events (tenant_id, kind, at);
