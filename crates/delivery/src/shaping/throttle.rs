//! How a destination backs off when its receiver throttles: every throttling reply (see
//! [`Cause::is_throttle`](crate::Cause::is_throttle)) raises the destination's level, which
//! halves its connections and rate and pauses it for a time that doubles with the level; a
//! run of deliveries lowers the level again step by step, and so does a quiet time without a
//! throttling reply after the pause. Pure: the time is passed in.

use std::time::{Duration, Instant};

use super::destination::Limits;

/// How far and how long a destination backs off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The pause after the first throttle; each further level doubles it.
    pub first_pause: Duration,
    /// The longest pause, however often the receiver throttles.
    pub longest_pause: Duration,
    /// Deliveries in a row that lower the level by one.
    pub deliveries_to_recover: u32,
    /// How long after its pause (or its last step down) a destination that was not throttled
    /// again comes down one level, with or without deliveries; each further stretch as long
    /// brings it down one more. A receiver that throttled an hour ago and was sent nothing since
    /// (the queue ran dry) is no reason to send slowly now.
    pub quiet_to_recover: Duration,
    /// The highest level: limits shrink by half per level down to one connection.
    pub highest_level: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first_pause: Duration::from_secs(30),
            longest_pause: Duration::from_secs(30 * 60),
            deliveries_to_recover: 50,
            quiet_to_recover: Duration::from_secs(10 * 60),
            highest_level: 6,
        }
    }
}

/// A destination's throttle state; the default is "not throttled".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Throttle {
    level: u32,
    paused_until: Option<Instant>,
    deliveries: u32,
    /// Where the quiet time towards the next step down starts: the end of the pause, then each
    /// step down.
    quiet_since: Option<Instant>,
}

impl Throttle {
    /// After a throttling reply at `now`. Replies that arrive while the destination is already
    /// paused come from work started before the pause, so they do not raise the level again.
    pub fn throttled(self, now: Instant, backoff: &Backoff) -> Self {
        let settled = self.settled(now, backoff);
        if settled.is_paused(now) {
            return settled;
        }
        let level = (settled.level + 1).min(backoff.highest_level.max(1));
        let until = now + pause(level, backoff);
        Self {
            level,
            paused_until: Some(until),
            deliveries: 0,
            quiet_since: Some(until),
        }
    }

    /// The state at `now` once the quiet time since the pause (or the last step down) has
    /// lowered the level: one level per [`Backoff::quiet_to_recover`] that passed.
    pub fn settled(self, now: Instant, backoff: &Backoff) -> Self {
        let Some(since) = self.quiet_since else {
            return self;
        };
        let step = backoff.quiet_to_recover;
        if self.level == 0 || step.is_zero() {
            return self;
        }
        let quiet = now.saturating_duration_since(since);
        let steps = (quiet.as_nanos() / step.as_nanos()).min(u128::from(self.level));
        let steps = u32::try_from(steps).unwrap_or(self.level);
        if steps == 0 {
            return self;
        }
        Self {
            level: self.level - steps,
            deliveries: 0,
            quiet_since: Some(since + step * steps),
            ..self
        }
    }

    /// The throttle in force when another node's receiver throttled this destination to
    /// `level` and paused it until `until`: the deeper of the two levels, and the later of the
    /// two pauses still running at `now`. The receiver sees one sender in all the nodes, so
    /// each backs off as far as the one it throttled.
    pub fn adopt(self, level: u32, until: Instant, now: Instant) -> Self {
        let own_until = self.paused_until(now);
        let peer_until = Some(until).filter(|until| now < *until);
        Self {
            level: self.level.max(level),
            paused_until: own_until.max(peer_until),
            ..self
        }
    }

    /// After a delivery at `now`: enough of them in a row lower the level by one.
    pub fn delivered(self, now: Instant, backoff: &Backoff) -> Self {
        let settled = self.settled(now, backoff);
        let deliveries = settled.deliveries.saturating_add(1);
        if settled.level > 0 && deliveries >= backoff.deliveries_to_recover {
            return Self {
                level: settled.level - 1,
                deliveries: 0,
                quiet_since: settled.quiet_since.max(Some(now)),
                ..settled
            };
        }
        Self {
            deliveries,
            ..settled
        }
    }

    /// Whether nothing may start at `now`.
    pub fn is_paused(&self, now: Instant) -> bool {
        self.paused_until.is_some_and(|until| now < until)
    }

    /// Until when the destination is paused, if it is at `now`.
    pub fn paused_until(&self, now: Instant) -> Option<Instant> {
        self.paused_until.filter(|until| now < *until)
    }

    /// 0 when not throttled; each throttle adds one, deliveries and quiet time take them away
    /// (as of the last [`Self::settled`]).
    pub fn level(&self) -> u32 {
        self.level
    }

    /// The limits in force: connections and rate halved per level, never below one.
    pub fn limits(&self, limits: Limits) -> Limits {
        let shrink = |value: u32| value.checked_shr(self.level).unwrap_or(0).max(1);
        Limits {
            connections: shrink(limits.connections),
            messages_per_connection: limits.messages_per_connection,
            messages_per_minute: shrink(limits.messages_per_minute),
        }
    }
}

fn pause(level: u32, backoff: &Backoff) -> Duration {
    let doublings = level.saturating_sub(1).min(20);
    backoff
        .first_pause
        .saturating_mul(1 << doublings)
        .min(backoff.longest_pause)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        connections: 8,
        messages_per_connection: 100,
        messages_per_minute: 600,
    };

    fn backoff() -> Backoff {
        Backoff {
            first_pause: Duration::from_secs(10),
            longest_pause: Duration::from_secs(60),
            deliveries_to_recover: 3,
            quiet_to_recover: Duration::from_secs(100),
            highest_level: 4,
        }
    }

    /// Runs `events` ('t' throttle, 'd' delivery, digits: seconds pass) from a fresh state and
    /// returns the state and the time it ends at.
    fn play(events: &str) -> (Throttle, Instant) {
        let mut now = Instant::now();
        let mut state = Throttle::default();
        for event in events.split_whitespace() {
            match event {
                "t" => state = state.throttled(now, &backoff()),
                "d" => state = state.delivered(now, &backoff()),
                seconds => now += Duration::from_secs(seconds.parse().unwrap()),
            }
        }
        (state, now)
    }

    /// Seconds `state` is still paused at `now`.
    fn paused(state: &Throttle, now: Instant) -> u64 {
        state
            .paused_until(now)
            .map_or(0, |until| (until - now).as_secs())
    }

    /// `events` (as in [`play`]) give (level, seconds still paused, connections allowed).
    #[track_caller]
    fn check(events: &str, expect: (u32, u64, u32)) {
        let (state, now) = play(events);
        let state = state.settled(now, &backoff());
        assert_eq!(
            (
                state.level(),
                paused(&state, now),
                state.limits(LIMITS).connections
            ),
            expect,
            "{events}"
        );
    }

    #[test]
    fn backs_off_and_recovers() {
        check("", (0, 0, 8));
        check("d d d", (0, 0, 8));
        check("t", (1, 10, 4));
        check("t 4", (1, 6, 4));
        check("t 10", (1, 0, 4));
        // Replies from connections opened before the pause do not raise the level again.
        check("t t t", (1, 10, 4));
        check("t 10 t", (2, 20, 2));
        check("t 10 t 20 t", (3, 40, 1));
        check("t 10 t 20 t 40 t", (4, 60, 1));
        check("t 10 t 20 t 40 t 60 t", (4, 60, 1));
        check("t 10 d d", (1, 0, 4));
        check("t 10 d d d", (0, 0, 8));
        check("t 10 t 20 d d d", (1, 0, 4));
        check("t 10 t 20 d d d d d d", (0, 0, 8));
        check("t 10 d d t", (2, 20, 2));
        check("t 10 d d 20 t d d", (2, 20, 2));
    }

    /// Another node's throttle: (own events as in [`play`], the peer's level, seconds from
    /// now the peer rests) gives (level, seconds still paused).
    #[track_caller]
    fn check_adopt(events: &str, level: u32, rest: u64, expect: (u32, u64)) {
        let (state, now) = play(events);
        let state = state.adopt(level, now + Duration::from_secs(rest), now);
        assert_eq!(
            (state.level(), paused(&state, now)),
            expect,
            "{events} + ({level}, {rest})"
        );
    }

    #[test]
    fn adopts_a_longer_or_deeper_pause_of_another_node() {
        check_adopt("", 1, 10, (1, 10));
        check_adopt("", 3, 40, (3, 40));
        // A pause that is over still leaves its level, which deliveries have not lowered.
        check_adopt("", 2, 0, (2, 0));
        // Its own longer pause stays; a deeper level is still taken over.
        check_adopt("t", 1, 5, (1, 10));
        check_adopt("t", 2, 5, (2, 10));
        check_adopt("t 10 t", 1, 30, (2, 30));
        // After its own pause ended, another node's pause holds it again.
        check_adopt("t 10", 1, 10, (1, 10));
    }

    /// With the test's backoff a level comes down after 100 quiet seconds past the pause (or
    /// past the last step down), whether deliveries came or not; a throttle starts the quiet
    /// time afresh.
    #[test]
    fn quiet_time_lowers_the_level() {
        check("t 109", (1, 0, 4));
        check("t 110", (0, 0, 8));
        // Level 4 rests until second 130; 240 quiet seconds later it is two levels down.
        check("t 10 t 20 t 40 t 300", (2, 0, 2));
        check("t 10 t 20 t 40 t 900", (0, 0, 8));
        // Level 2 rests until second 30; a step down by deliveries at second 80 starts the
        // quiet time there.
        check("t 10 t 20 50 d d d 99", (1, 0, 4));
        check("t 10 t 20 50 d d d 100", (0, 0, 8));
        // A throttle 80 s into the quiet time: level 2 rests until 110 and is not quiet
        // long enough at 190.
        check("t 90 t 100", (2, 0, 2));
        check("t 90 t 120", (1, 0, 4));
        // Deliveries counted before a step down by quiet time start again from none.
        check("t 10 t 20 d d 100 d", (1, 0, 4));
    }

    #[test]
    fn limits_shrink_but_never_to_nothing() {
        let mut state = Throttle::default();
        let start = Instant::now();
        // Each throttle comes less than the 100 s quiet step after the last pause ends, so quiet
        // time lowers nothing in between.
        for step in 0..10 {
            state = state.throttled(start + Duration::from_secs(60 * step), &backoff());
        }
        let limits = state.limits(LIMITS);
        assert_eq!(limits.connections, 1);
        assert_eq!(limits.messages_per_minute, 600 >> 4);
        assert_eq!(limits.messages_per_connection, 100);
    }
}
