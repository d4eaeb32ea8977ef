-- A resume released its tenant's held mail in statements of a few thousand rows, each taking
-- them from the front of the index of held mail by tenant. On PostgreSQL the rows released
-- earlier in the same transaction stay in that index until it commits, so every statement passed
-- over all those released before it; the store takes the same steps on both backends. Held mail
-- indexed by tenant and message lets a resume go on from the last message it released instead,
-- and stop after each step's messages.
DROP INDEX recipients_held;
CREATE INDEX recipients_held ON recipients (tenant_id, message_id) WHERE held;
