//! The API through the real router (`oneshot`) on both backends, and through a real socket.

mod dkim;
mod foundation;
mod messages;
mod settings;
mod support;
