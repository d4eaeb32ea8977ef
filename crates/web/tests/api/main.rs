//! The API through the real router (`oneshot`) on both backends, and through a real socket.

mod compose;
mod dkim;
mod foundation;
mod mailings;
mod messages;
mod settings;
mod support;
