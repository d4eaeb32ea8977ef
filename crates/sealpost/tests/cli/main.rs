//! The real binary, driven as an operator would, with `--json` where scripts read it.

mod bounce;
mod config_check;
mod destinations;
mod dkim_zone;
mod dns;
mod doctor;
mod ed25519;
mod feedback;
mod input;
mod mail;
mod master_key;
mod operator;
mod reload;
mod serving;
mod support;
mod suppression;
