//! The real binary, driven as an operator would, with `--json` where scripts read it.

mod bounce;
mod dns;
mod doctor;
mod input;
mod mail;
mod operator;
mod support;
