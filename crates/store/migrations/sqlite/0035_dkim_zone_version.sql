-- A number that every change to what the DKIM zone serves raises (`dkim_zone.rs`): a key added,
-- deleted or changed in what its record says or whether it is served (its state), a signing
-- domain renamed or deleted, a tenant's deletion begun. The zone asked the database for every
-- served key, joined to its domain and tenant, every two seconds on every node; it now asks for
-- this number and reads the keys only when it moved. Triggers raise it, so no writer can forget,
-- as with the sending version (migration 0029); a migration that rebuilds one of these tables
-- must create its triggers again, and a test changes each and fails when one is missing. A key's
-- sealed parts (a master key rotation, a tenant's shredding) and a domain's DNS findings do not
-- raise it: they change no served record.
CREATE TABLE dkim_zone_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO dkim_zone_version (id, version) VALUES (1, 0);

CREATE TRIGGER signing_keys_insert_zone_version AFTER INSERT ON signing_keys BEGIN
    UPDATE dkim_zone_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER signing_keys_update_zone_version AFTER UPDATE ON signing_keys
WHEN OLD.state IS NOT NEW.state OR OLD.public_der IS NOT NEW.public_der
    OR OLD.selector IS NOT NEW.selector OR OLD.algorithm IS NOT NEW.algorithm
    OR OLD.signing_domain_id IS NOT NEW.signing_domain_id OR OLD.tenant_id IS NOT NEW.tenant_id
BEGIN
    UPDATE dkim_zone_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER signing_keys_delete_zone_version AFTER DELETE ON signing_keys BEGIN
    UPDATE dkim_zone_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER signing_domains_update_zone_version AFTER UPDATE ON signing_domains
WHEN OLD.domain IS NOT NEW.domain OR OLD.tenant_id IS NOT NEW.tenant_id
BEGIN
    UPDATE dkim_zone_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER signing_domains_delete_zone_version AFTER DELETE ON signing_domains BEGIN
    UPDATE dkim_zone_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER tenants_deleting_zone_version AFTER UPDATE ON tenants
WHEN OLD.deleting_since IS NOT NEW.deleting_since
BEGIN
    UPDATE dkim_zone_version SET version = version + 1 WHERE id = 1;
END;
