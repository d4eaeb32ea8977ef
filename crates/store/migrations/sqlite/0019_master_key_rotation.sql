-- Master key rotation (SPEC S11). One row, written when `sealpost master-key rotate` starts and
-- kept after it finishes. While phase is 'rewrapping', new_under_old and old_under_new hold each
-- key sealed under the other, so every node learns the other key of the rotation from here; the
-- cursor says how far the rewrap has come (a sealed column and the last id done), so a rotation
-- killed midway resumes there. Finishing stores new_check as meta's master_key_check and deletes
-- both wraps in one transaction; old_check stays, so that a node started with the replaced key is
-- told the key was rotated. Check values are constants sealed under a key, never a key.

CREATE TABLE master_key_rotation (
    id            INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    phase         TEXT NOT NULL,
    old_check     BLOB NOT NULL,
    new_check     BLOB NOT NULL,
    new_under_old BLOB,
    old_under_new BLOB,
    cursor_column TEXT NOT NULL,
    cursor_id     TEXT NOT NULL,
    rewrapped     INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER
);
