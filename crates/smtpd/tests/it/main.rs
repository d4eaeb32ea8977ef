//! Drives the real listener on 127.0.0.1 with a raw SMTP client and checks the exact replies.

mod support;

mod auth;
mod inbound;
mod limits;
mod logs;
mod session;
mod shutdown;
mod slow_clients;
mod tls;
mod transaction;
