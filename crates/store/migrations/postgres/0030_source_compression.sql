-- PostgreSQL compresses a value of more than about 2 KB before it stores it, so it compresses
-- every message source. Its default method, pglz, took about 3% of the database's CPU time in
-- `bench/run --postgres` (1.2% of the machine's, where the database shares two cores with the
-- rest). lz4 took a tenth of that. The sources already stored keep pglz; PostgreSQL reads both.
-- A server built without lz4 refuses the method: it keeps pglz, and the migration still
-- succeeds. SQLite does not compress, so it has no counterpart to this migration.
DO $$
BEGIN
    ALTER TABLE message_sources ALTER COLUMN raw SET COMPRESSION lz4;
    ALTER TABLE checker_reports ALTER COLUMN raw SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL server has no lz4: message sources stay compressed with pglz';
END
$$;
