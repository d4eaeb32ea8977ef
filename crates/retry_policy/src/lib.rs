//! The queue's rules as pure functions (SPEC S1.1, S1.2): what a recipient's state becomes after
//! a delivery attempt, given the route, the outcome, the time and the retry policy. No I/O and no
//! clock: the store applies what these functions decide, so every state change can be tested
//! on its own and is the same on every node.

mod policy;

pub use policy::{AttemptOutcome, RetryPolicy, Transition, after_attempt};
