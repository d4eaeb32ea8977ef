//! The destinations each delivering node publishes (migration 0022), and the queue depth
//! behind them, for the operator's view of the cluster.

use std::collections::HashMap;

use sealpost_domain::Timestamp;

use crate::{Store, StoreError, with_reader, with_writer};

/// One node's view of one destination.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DestinationStatus {
    pub node: String,
    pub destination: String,
    pub connections_in_use: i64,
    /// Connections the node allows itself now, after backing off and taking its part of
    /// what the delivering nodes share.
    pub connections_allowed: i64,
    pub connection_limit: i64,
    pub messages_per_connection: i64,
    pub messages_per_minute: i64,
    pub throttle_level: i64,
    pub paused_until: Option<i64>,
    pub last_throttle_reply: Option<String>,
    /// The recipient domains seen behind it, separated by spaces.
    pub domains: String,
    pub updated_at: i64,
}

impl Store {
    /// Replaces what `node` published before with `statuses`, in one transaction.
    pub async fn publish_destinations(
        &self,
        node: &str,
        statuses: &[DestinationStatus],
    ) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            sqlx::query("DELETE FROM destination_status WHERE node = $1")
                .bind(node)
                .execute(&mut *transaction)
                .await?;
            for status in statuses {
                sqlx::query(
                    "INSERT INTO destination_status (node, destination, connections_in_use, \
                     connections_allowed, connection_limit, messages_per_connection, \
                     messages_per_minute, throttle_level, paused_until, last_throttle_reply, \
                     domains, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(node)
                .bind(&status.destination)
                .bind(status.connections_in_use)
                .bind(status.connections_allowed)
                .bind(status.connection_limit)
                .bind(status.messages_per_connection)
                .bind(status.messages_per_minute)
                .bind(status.throttle_level)
                .bind(status.paused_until)
                .bind(status.last_throttle_reply.as_deref())
                .bind(&status.domains)
                .bind(status.updated_at)
                .execute(&mut *transaction)
                .await?;
            }
            transaction.commit().await?;
        });
        Ok(())
    }

    /// What every node published since `since`, by destination and node.
    pub async fn destination_statuses(
        &self,
        since: Timestamp,
    ) -> Result<Vec<DestinationStatus>, StoreError> {
        Ok(with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT node, destination, connections_in_use, connections_allowed, \
                 connection_limit, messages_per_connection, messages_per_minute, throttle_level, \
                 paused_until, last_throttle_reply, domains, updated_at \
                 FROM destination_status WHERE updated_at >= $1 ORDER BY destination, node",
            )
            .bind(since.0)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Recipients waiting (queued or deferred) per recipient domain. It reads only the waiting
    /// rows, through the index on the state.
    pub async fn waiting_by_domain(&self) -> Result<HashMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT domain, COUNT(*) FROM recipients \
                 WHERE state IN ('queued', 'deferred') GROUP BY domain",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().collect())
    }
}
