//! The API through the real router (`oneshot`) on both backends, and through a real socket.

mod compose;
mod destinations;
mod dkim;
mod dkim_delegation;
mod ed25519;
mod errors;
mod foundation;
mod hostile;
mod identities;
mod lists;
mod mailings;
mod messages;
mod reputation;
mod return_paths;
mod serving;
mod settings;
mod support;
mod suppressions;
mod tenant_deletion;
mod unsubscribe;
mod webhooks;
