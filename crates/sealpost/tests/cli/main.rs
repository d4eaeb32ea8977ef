//! The real binary, driven as an operator would, with `--json` where scripts read it.

mod bounce;
mod config_check;
mod dns;
mod doctor;
mod ed25519;
mod feedback;
mod input;
mod mail;
mod operator;
mod reload;
mod serving;
mod support;
mod suppression;
