-- Three deletions that read a whole table for the rows they take with them or must not leave
-- behind:
--
-- Deleting a tenant removes its UI accounts (and their sessions) by tenant, and its tenants row
-- then has the foreign key look up the accounts that name it; no index held accounts by tenant,
-- so each read every account of every tenant.
--
-- Deleting a signing domain takes its keys with it by the foreign key, which looks them up by
-- domain; the indexes that lead with the domain hold only active keys, or keys not retired, so
-- the lookup read every key of every tenant.
--
-- Deleting a contact (one from the address book, or all of a deleted tenant's) has the foreign
-- keys make sure no mailing names it, as a recipient or as the sender; no index held mailings
-- or their recipients by contact, so each contact deleted read those of every tenant.
CREATE INDEX users_tenant ON users (tenant_id);
CREATE INDEX signing_keys_domain ON signing_keys (signing_domain_id);
CREATE INDEX mailing_recipients_contact ON mailing_recipients (contact_id);
CREATE INDEX mailings_sender ON mailings (sender_contact_id);
