//! End-to-end tests of the web UI in headless Chromium (Debian's `chromium` and
//! `chromium-driver`), against the real router on loopback over SQLite, with a loopback DNS
//! server and a loopback SMTP server. Every test saves screenshots under
//! `target/ui-screenshots/`.

mod access;
mod dkim_badge;
mod dkim_delegation;
mod domain_actions;
mod domains;
mod ed25519;
mod layout;
mod lists;
mod mail_tester;
mod message_actions;
mod messages;
mod non_expert;
mod platform_health;
mod reputation;
mod return_path;
mod sending_domains;
mod settings;
mod smtp;
mod spf_handoff;
mod support;
mod tenant_deletion;
mod webhooks;
