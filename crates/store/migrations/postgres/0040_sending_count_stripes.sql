-- A tenant's counts for an hour were one row, which every outcome of the tenant's deliveries
-- added to and kept locked until its commit: on PostgreSQL the outcomes of one tenant committed
-- one after another, each waiting for the previous one's flush to disk, across every node. An
-- hour's counts are now split over eight stripes, chosen by the database connection (its
-- backend's process id modulo 8, `sending_counts.rs`), summed when read: transactions on
-- different connections add to different rows, but for one pair in eight, and commit side by
-- side. The rows so far become stripe 0.
ALTER TABLE sending_counts ADD COLUMN stripe SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE sending_counts DROP CONSTRAINT sending_counts_pkey;
ALTER TABLE sending_counts ADD PRIMARY KEY (tenant_id, hour, stripe);
