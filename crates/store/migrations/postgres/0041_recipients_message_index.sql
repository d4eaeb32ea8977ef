-- `recipients_message` (message_id) repeats the first column of `recipients_message_state`
-- (message_id, state), which serves every read by message and the cascade from `messages`
-- as well. Every recipient written paid for both: on PostgreSQL, where a change of state
-- writes a new entry into every index of the table, three times over its delivery.
DROP INDEX recipients_message;
