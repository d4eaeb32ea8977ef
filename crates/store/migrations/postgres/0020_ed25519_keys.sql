-- Ed25519 beside RSA (RFC 8463, dual signing). A signing domain may hold Ed25519 keys next to its
-- RSA keys, each under a selector of its own and with the same life (pending, active, retiring,
-- retired). Every key so far is RSA. One key of each algorithm signs at any moment: the domain's
-- active RSA key, and its active Ed25519 key when it has one, whose signature goes below.

ALTER TABLE signing_keys ADD COLUMN algorithm TEXT NOT NULL DEFAULT 'rsa'
    CHECK (algorithm IN ('rsa', 'ed25519'));

DROP INDEX signing_keys_one_active;
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (signing_domain_id, algorithm)
    WHERE state = 'active';
