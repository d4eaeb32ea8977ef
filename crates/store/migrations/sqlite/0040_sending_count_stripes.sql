-- A tenant's counts for an hour are split over stripes on PostgreSQL, where transactions on
-- different connections then add to different rows and do not wait for each other's commit
-- (`sending_counts.rs`). SQLite has one writer, so its counts stay in stripe 0; the column is
-- here so that both backends run the same statements. SQLite cannot change a primary key in
-- place: the table is built anew with the rows so far in stripe 0.
CREATE TABLE sending_counts_striped (
    tenant_id  TEXT NOT NULL,
    hour       BIGINT NOT NULL,
    stripe     SMALLINT NOT NULL DEFAULT 0,
    sent       BIGINT NOT NULL,
    bounced    BIGINT NOT NULL,
    complained BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, hour, stripe)
);
INSERT INTO sending_counts_striped (tenant_id, hour, stripe, sent, bounced, complained)
SELECT tenant_id, hour, 0, sent, bounced, complained FROM sending_counts;
DROP TABLE sending_counts;
ALTER TABLE sending_counts_striped RENAME TO sending_counts;
