-- A number that every change to what the DKIM zone serves raises (`dkim_zone.rs`): a key added,
-- deleted or changed in what its record says or whether it is served (its state), a signing
-- domain renamed or deleted, a tenant's deletion begun. The zone asked the database for every
-- served key, joined to its domain and tenant, every two seconds on every node; it now asks for
-- this number and reads the keys only when it moved. Triggers raise it, so no writer can forget,
-- as with the sending version (migration 0029); a test changes each table and fails when one is
-- missing. A key's sealed parts (a master key rotation, a tenant's shredding) and a domain's DNS
-- findings do not raise it: they change no served record.
--
-- The number is one row for the whole installation, so its triggers are deferred to the end of
-- the transaction, as the sending version's are, and named to fire after those of the same
-- changed row (PostgreSQL fires one row's triggers in the order of their names; the changes of
-- several rows, in the order they were made): a transaction that changes one tenant's rows
-- takes that tenant's sending version first and this number last. The one change that raises
-- this number alone, a tenant's deletion mark, is the last statement of its transaction. No
-- transaction changes the served keys of two tenants.
CREATE TABLE dkim_zone_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO dkim_zone_version (id, version) VALUES (1, 0);

CREATE FUNCTION raise_dkim_zone_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE dkim_zone_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER signing_keys_zone_version
    AFTER INSERT OR DELETE ON signing_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_dkim_zone_version();
CREATE CONSTRAINT TRIGGER signing_keys_zone_version_update
    AFTER UPDATE ON signing_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.public_der IS DISTINCT FROM NEW.public_der
        OR OLD.selector IS DISTINCT FROM NEW.selector
        OR OLD.algorithm IS DISTINCT FROM NEW.algorithm
        OR OLD.signing_domain_id IS DISTINCT FROM NEW.signing_domain_id
        OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
    EXECUTE FUNCTION raise_dkim_zone_version();
CREATE CONSTRAINT TRIGGER signing_domains_zone_version
    AFTER DELETE ON signing_domains
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_dkim_zone_version();
CREATE CONSTRAINT TRIGGER signing_domains_zone_version_update
    AFTER UPDATE ON signing_domains
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.domain IS DISTINCT FROM NEW.domain OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
    EXECUTE FUNCTION raise_dkim_zone_version();
CREATE CONSTRAINT TRIGGER tenants_zone_version
    AFTER UPDATE ON tenants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.deleting_since IS DISTINCT FROM NEW.deleting_since)
    EXECUTE FUNCTION raise_dkim_zone_version();
