//! Per-destination traffic shaping, without I/O: which destination an MX host belongs to
//! (hosts roll up to a provider, so every Google MX is one "google"), the limits each
//! destination has (connections, messages per connection, messages per minute), and how a
//! destination backs off when its receiver throttles ([`Throttle`]) and paces itself
//! ([`RateWindow`]). Time is passed in as a monotonic [`Instant`](std::time::Instant).

mod destination;
mod rate;
mod throttle;

pub use destination::{Destination, HostPattern, Limits, Profile, Shaping};
pub use rate::RateWindow;
pub use throttle::{Backoff, Throttle};
