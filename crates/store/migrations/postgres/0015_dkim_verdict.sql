-- The last DKIM verification of each stored message (SPEC S5.5), so that lists can show a
-- message whose signature does not verify as such without reading its source or asking DNS:
-- NULL until the message is first verified, then 'pass' or 'fail' and when.
ALTER TABLE messages ADD COLUMN dkim_verdict TEXT CHECK (dkim_verdict IN ('pass', 'fail'));
ALTER TABLE messages ADD COLUMN dkim_verdict_at BIGINT;
