//! The shapes in which results leave Sealpost, defined once: the JSON API answers them, the
//! command line prints them with `--json`, and the pages show them. Domain types stay free of
//! serialisation; these views decide exactly which fields leave the server, and no view has a
//! field for private key material. With the `openapi` feature each view has its schema for
//! the API's document.

pub mod destinations;
pub mod dkim_verification;
pub mod dns_report;
pub mod key_rotation;
pub mod mail_tester;
pub mod mailings;
pub mod messages;
pub mod platform;
pub mod relay;
pub mod reputation;
pub mod return_paths;
pub mod sending_domains;
pub mod signing_domains;
pub mod suppressions;
pub mod tenants;
pub mod troubleshoot;
pub mod webhooks;
