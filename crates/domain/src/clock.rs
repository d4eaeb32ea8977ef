//! The clock, injected so that tests decide what time it is. It also makes new ids, because a
//! UUIDv7 id carries the time it was made: whoever reads the time makes the ids.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use uuid::Uuid;

use crate::Timestamp;

/// The time and new ids. Nothing outside [`SystemClock`] reads the wall clock; everything else
/// is given a `Clock`.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;

    /// A new unique id that sorts after the ids this clock made before.
    fn new_uuid(&self) -> Uuid;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }

    fn new_uuid(&self) -> Uuid {
        (**self).new_uuid()
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

// The one place that reads the wall clock; clippy.toml forbids it everywhere else.
#[allow(clippy::disallowed_methods)]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the system clock is after 1970");
        Timestamp(since_epoch.as_secs() as i64)
    }

    /// UUIDv7, so ids sort by creation time.
    fn new_uuid(&self) -> Uuid {
        Uuid::now_v7()
    }
}
