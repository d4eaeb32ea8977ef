-- Every submission reads its tenant's sending configuration: the sending domains it has proven,
-- its signing domains with their keys and findings, its return paths and its delivery mode, six
-- reads each a hand-off to a connection's thread. Each tenant carries a number that every change
-- to those rows raises, so a node can keep the configuration it read and ask only for the
-- number. Triggers raise it, not the code that writes, so no writer can forget: not the
-- service, the CLI, another process on the same file, nor a later migration's data fix. A
-- migration that rebuilds one of these tables must create its triggers again; a test changes
-- each table and fails when one is missing.
--
-- SQLite only: it has one writer at a time, so the tenant's row is never a lock taken in the
-- middle of a transaction. On PostgreSQL the same counter would lock the tenant's row after
-- the changed row, and two transactions changing one tenant's configuration in different orders
-- would deadlock; there the configuration is read for each message, as before.
ALTER TABLE tenants ADD COLUMN sending_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER sending_domains_insert_sending_version AFTER INSERT ON sending_domains BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER sending_domains_update_sending_version AFTER UPDATE ON sending_domains BEGIN
    UPDATE tenants SET sending_version = sending_version + 1
    WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER sending_domains_delete_sending_version AFTER DELETE ON sending_domains BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = OLD.tenant_id;
END;
CREATE TRIGGER signing_domains_insert_sending_version AFTER INSERT ON signing_domains BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER signing_domains_update_sending_version AFTER UPDATE ON signing_domains BEGIN
    UPDATE tenants SET sending_version = sending_version + 1
    WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER signing_domains_delete_sending_version AFTER DELETE ON signing_domains BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = OLD.tenant_id;
END;
CREATE TRIGGER signing_keys_insert_sending_version AFTER INSERT ON signing_keys BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER signing_keys_update_sending_version AFTER UPDATE ON signing_keys BEGIN
    UPDATE tenants SET sending_version = sending_version + 1
    WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER signing_keys_delete_sending_version AFTER DELETE ON signing_keys BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = OLD.tenant_id;
END;
CREATE TRIGGER return_paths_insert_sending_version AFTER INSERT ON return_paths BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER return_paths_update_sending_version AFTER UPDATE ON return_paths BEGIN
    UPDATE tenants SET sending_version = sending_version + 1
    WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER return_paths_delete_sending_version AFTER DELETE ON return_paths BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = OLD.tenant_id;
END;
CREATE TRIGGER delivery_settings_insert_sending_version AFTER INSERT ON delivery_settings BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER delivery_settings_update_sending_version AFTER UPDATE ON delivery_settings BEGIN
    UPDATE tenants SET sending_version = sending_version + 1
    WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER delivery_settings_delete_sending_version AFTER DELETE ON delivery_settings BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER signing_domain_records_insert_sending_version AFTER INSERT ON signing_domain_records BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = NEW.tenant_id;
END;
CREATE TRIGGER signing_domain_records_update_sending_version AFTER UPDATE ON signing_domain_records BEGIN
    UPDATE tenants SET sending_version = sending_version + 1
    WHERE id IN (OLD.tenant_id, NEW.tenant_id);
END;
CREATE TRIGGER signing_domain_records_delete_sending_version AFTER DELETE ON signing_domain_records BEGIN
    UPDATE tenants SET sending_version = sending_version + 1 WHERE id = OLD.tenant_id;
END;
