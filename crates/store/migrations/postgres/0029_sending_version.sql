-- Every submission reads its tenant's sending configuration: the sending domains it has proven,
-- its signing domains with their keys and findings, its return paths and its delivery mode, six
-- round trips each. Each tenant has a number that every change to those rows raises, so a node
-- can keep the configuration it read and ask only for the number. Triggers raise it, not the
-- code that writes, so no writer can forget: not a node, the CLI, nor a later migration's data
-- fix. A migration that rebuilds one of these tables must create its trigger again; a test
-- changes each table and fails when one is missing.
--
-- The number lives in its own table, which nothing but these triggers writes, and the triggers
-- are deferred to the end of the transaction. A lock on the number is therefore the last lock a
-- transaction takes: two transactions that change one tenant's rows in different orders (a key
-- promotion beside a DNS re-check, say) never hold the number while waiting for a row, so they
-- cannot deadlock over it. (Two transactions that each change several tenants, such as two
-- master key rotations at once, could still take the numbers in different orders; PostgreSQL
-- then fails one with a deadlock error.) The number commits with the change, so a reader that sees
-- the number sees the change. A tenant without a row has number 0; the row goes with its
-- tenant.
CREATE TABLE sending_versions (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    version BIGINT NOT NULL
);

-- Raises the number of the changed row's tenant, and of its former tenant when an update moved
-- it. A tenant deleted in the same transaction has no row to raise, and gets none.
CREATE FUNCTION raise_sending_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.tenant_id IS DISTINCT FROM NEW.tenant_id) THEN
        INSERT INTO sending_versions (tenant_id, version)
        SELECT id, 1 FROM tenants WHERE id = OLD.tenant_id
        ON CONFLICT (tenant_id) DO UPDATE SET version = sending_versions.version + 1;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO sending_versions (tenant_id, version)
        SELECT id, 1 FROM tenants WHERE id = NEW.tenant_id
        ON CONFLICT (tenant_id) DO UPDATE SET version = sending_versions.version + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER sending_domains_sending_version
    AFTER INSERT OR UPDATE OR DELETE ON sending_domains
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_sending_version();
CREATE CONSTRAINT TRIGGER signing_domains_sending_version
    AFTER INSERT OR UPDATE OR DELETE ON signing_domains
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_sending_version();
CREATE CONSTRAINT TRIGGER signing_keys_sending_version
    AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_sending_version();
CREATE CONSTRAINT TRIGGER signing_domain_records_sending_version
    AFTER INSERT OR UPDATE OR DELETE ON signing_domain_records
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_sending_version();
CREATE CONSTRAINT TRIGGER return_paths_sending_version
    AFTER INSERT OR UPDATE OR DELETE ON return_paths
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_sending_version();
CREATE CONSTRAINT TRIGGER delivery_settings_sending_version
    AFTER INSERT OR UPDATE OR DELETE ON delivery_settings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION raise_sending_version();
