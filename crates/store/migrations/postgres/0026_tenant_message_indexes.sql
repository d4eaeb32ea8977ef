-- A message's recipients and attempts are read by the tenant and the message (a list page's
-- recipients, a message's page, the dashboard's counts, the search of addresses). With only an
-- index by tenant, SQLite read every recipient of the tenant for a page of 50 messages and every
-- attempt of every tenant for one message's history. The recipients' index carries the state
-- and the address, so the dashboard's counts and the search of addresses read the index alone.
CREATE INDEX recipients_tenant_message ON recipients (tenant_id, message_id, state, address);
CREATE INDEX attempts_tenant_message ON attempts (tenant_id, message_id);
