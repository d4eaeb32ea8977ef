//! Cluster leases: work that one node of the cluster does at a time (the scheduled DNS re-check).
//! A node holds a named lease until a time; it renews it while it works, and when it dies the
//! lease runs out and another node takes it. Time comes from the caller's clock.

use sealpost_domain::Timestamp;

use crate::{Store, StoreError, with_reader, with_writer};

impl Store {
    /// Takes or renews the lease `name` for `holder` until `until`: granted when nobody holds it,
    /// when `holder` holds it already, or when its holder's time ran out before `now`. Returns
    /// whether `holder` holds it now. One statement, so two nodes cannot both win.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let taken = with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO cluster_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_at = excluded.expires_at \
                 WHERE cluster_leases.holder = excluded.holder OR cluster_leases.expires_at < $4",
            )
            .bind(name)
            .bind(holder)
            .bind(until.0)
            .bind(now.0)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(taken == 1)
    }

    /// Gives the lease up at once (a node shutting down), so another node need not wait for it
    /// to run out.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query("DELETE FROM cluster_leases WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Who holds the lease `name` and until when, if anyone does.
    pub async fn lease_holder(
        &self,
        name: &str,
    ) -> Result<Option<(String, Timestamp)>, StoreError> {
        let row: Option<(String, i64)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT holder, expires_at FROM cluster_leases WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(holder, until)| (holder, Timestamp(until))))
    }
}
