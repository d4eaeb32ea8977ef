-- People who sign in to the web UI and their sessions (SPEC S8.3). Passwords are stored only as
-- argon2id hashes and sessions only as the SHA-256 of their token, so a copy of the database
-- signs nobody in. An operator has no tenant; a tenant administrator has exactly one.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    tenant_id     TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    CHECK ((role = 'operator' AND tenant_id IS NULL)
        OR (role = 'tenant_admin' AND tenant_id IS NOT NULL))
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
