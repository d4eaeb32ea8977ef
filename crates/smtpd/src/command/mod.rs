//! The SMTP commands, one file each, as `impl Session` blocks that turn a parsed command into
//! a [`crate::session::Step`].

pub(crate) mod auth;
mod data;
mod ehlo;
mod help;
mod mail;
mod noop;
mod quit;
mod rcpt;
mod rset;
mod starttls;
mod vrfy;
