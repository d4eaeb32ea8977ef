-- PostgreSQL compresses the widest values of a row longer than about 2 KB, so it compresses
-- most message sources (and the sources of the mail tester's reports). Its default method,
-- pglz, took about 3% of the database's CPU time in `bench/run --postgres` (1.2% of the
-- machine's, where the database shares two cores with the rest); lz4 took a tenth of that.
-- The sources already stored keep pglz, and PostgreSQL reads both. A server older than 14 has
-- no choice of method, and one built without lz4 refuses it: both keep pglz, and the migration
-- still succeeds. The statements are run by EXECUTE so that an older server, which cannot
-- parse them, never sees them. SQLite does not compress, so it has no counterpart.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'ALTER TABLE message_sources ALTER COLUMN raw SET COMPRESSION lz4';
        EXECUTE 'ALTER TABLE checker_reports ALTER COLUMN raw SET COMPRESSION lz4';
    END IF;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL server has no lz4: message sources stay compressed with pglz';
END
$$;
