-- On PostgreSQL every change of a recipient's state (its claim, its outcome) writes a new entry
-- into every index of the table, whatever columns the index holds, so each index of recipients
-- costs three entries per recipient delivered; on SQLite an index costs an entry at the insert
-- and at each change of a column it holds. Two of them repeat another:
--
-- `recipients_message` (message_id) is the first column of `recipients_message_state`
-- (message_id, state), which serves every read by message and the cascade from `messages`.
--
-- `recipients_tenant_message` (tenant_id, message_id) served the reads of a message's
-- recipients and of a list page's recipients, and the cancel or retry of a message, by tenant
-- and message. A message has few recipients, all of one tenant: the index by message finds them
-- as directly, and the tenant is checked on the rows.
DROP INDEX recipients_message;
DROP INDEX recipients_tenant_message;
