-- A message's recipients and attempts are read by the tenant and the message (a list page's
-- recipients, a message's page). With only an index by tenant, SQLite read every recipient of
-- the tenant for a page of 50 messages, and every attempt of every tenant for one message's
-- history, since attempts had no index but by recipient.
CREATE INDEX recipients_tenant_message ON recipients (tenant_id, message_id);
CREATE INDEX attempts_tenant_message ON attempts (tenant_id, message_id);
