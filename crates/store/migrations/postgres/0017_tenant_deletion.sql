-- Deleting a tenant (SPEC S11.5) runs in two committed phases. The first sets deleting_since,
-- shreds every sealed secret of the tenant and revokes its credentials; the second deletes its
-- rows. A tenant with deleting_since set is one whose second phase has not finished (a crash
-- in between): its mail is not claimed, its webhooks are not sent, and the deletion is finished
-- at the next start or the next delete call.

ALTER TABLE tenants ADD COLUMN deleting_since BIGINT;
