//! One test binary for the spamd client: against a real Debian spamd on loopback, and against
//! fake servers that misbehave in the ways a real deployment can.

mod fake_servers;
mod real_spamd;
