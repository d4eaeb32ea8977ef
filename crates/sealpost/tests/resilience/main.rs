//! Resilience of the real binary: `kill -9` during continuous submission, several nodes sharing
//! PostgreSQL with one killed and one stopped, and the database going away while a node runs.

mod cluster;
mod crash;
mod master_key;
mod outage;
mod pgbouncer;
mod support;
mod webhooks;
