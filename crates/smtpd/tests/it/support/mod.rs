//! What the tests share: a recording backend, a running listener and a line-level client.

pub mod backend;
pub mod client;
pub mod server;
