//! Messages per minute for one destination, as a virtual schedule (the generic cell rate
//! algorithm): each message books the next slot, and up to a second's worth may go at once.

use std::time::{Duration, Instant};

/// The next free slot of a destination; the default has every slot free.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateWindow {
    next_slot: Option<Instant>,
}

impl RateWindow {
    /// Books one message at `now` under `per_minute`, or says how long to wait first.
    pub fn book(&mut self, now: Instant, per_minute: u32) -> Result<(), Duration> {
        let per_minute = per_minute.max(1);
        let interval = Duration::from_secs(60) / per_minute;
        let burst = (per_minute / 60).max(1);
        let tolerance = interval * (burst - 1);
        let next_slot = self.next_slot.map_or(now, |slot| slot.max(now));
        let ahead = next_slot - now;
        if ahead > tolerance {
            return Err(ahead - tolerance);
        }
        self.next_slot = Some(next_slot + interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Books at the given millisecond offsets and shows each answer: "ok" or the wait in ms.
    #[track_caller]
    fn check(per_minute: u32, offsets: &[u64], expect: &[&str]) {
        let start = Instant::now();
        let mut window = RateWindow::default();
        let answers: Vec<String> = offsets
            .iter()
            .map(
                |offset| match window.book(start + Duration::from_millis(*offset), per_minute) {
                    Ok(()) => "ok".to_owned(),
                    Err(wait) => wait.as_millis().to_string(),
                },
            )
            .collect();
        assert_eq!(answers, expect);
    }

    #[test]
    fn paces_messages() {
        check(60, &[0, 0, 500, 1000], &["ok", "1000", "500", "ok"]);
        check(120, &[0, 0, 0, 500], &["ok", "ok", "500", "ok"]);
        check(
            600,
            &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[
                "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "100",
            ],
        );
        check(1, &[0, 30_000, 60_000], &["ok", "30000", "ok"]);
        // A rate of zero is taken as one a minute rather than as a standstill.
        check(0, &[0, 60_000], &["ok", "ok"]);
        // Idle time does not pile up into a burst larger than a second's worth.
        check(60, &[0, 600_000, 600_000], &["ok", "ok", "1000"]);
    }
}
