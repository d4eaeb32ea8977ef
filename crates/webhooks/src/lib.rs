//! The webhook sender (SPEC S10.6): Standard Webhooks signatures (`signature`) and one HTTP POST
//! to an endpoint over connections to addresses the caller resolved and vetted (`client`), so
//! that the check against private addresses and the connection use the same address and a DNS
//! answer cannot change in between. No retries here: the service's outbox decides those.

mod client;
mod signature;

pub use client::{Client, Posted, SendError, Target};
pub use signature::{Secret, SecretError, sign};
