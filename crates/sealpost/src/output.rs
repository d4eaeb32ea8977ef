//! Printing results (text for people, or JSON with `--json` in the same shapes as the HTTP API)
//! and the exit status, which is decided here and nowhere else.

use std::process::ExitCode;

use sealpost_service::{ErrorKind, ServiceError};
use serde::Serialize;

use crate::InputError;

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

/// How a command ended. Scripts rely on these numbers, so every command uses them the same way
/// (and clap's own usage errors are 2 as well).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The command did its work; a check passed.
    Done,
    /// A check found a problem (a failing signature, an error finding, a failed connection
    /// test), or the command failed for a reason that is not in its input (a database that
    /// cannot be reached, an internal error).
    Problem,
    /// The input was wrong: an option value, a file, a name that does not exist. Running the
    /// same command again cannot help; changing the input can.
    BadInput,
}

impl Status {
    /// The status of a command that failed with `error`.
    pub fn of_failure(error: &anyhow::Error) -> Self {
        let bad_input = error.chain().any(|cause| {
            cause.is::<InputError>()
                || cause
                    .downcast_ref::<ServiceError>()
                    .is_some_and(caller_at_fault)
        });
        match bad_input {
            true => Self::BadInput,
            false => Self::Problem,
        }
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        match status {
            Status::Done => ExitCode::SUCCESS,
            Status::Problem => ExitCode::from(1),
            Status::BadInput => ExitCode::from(2),
        }
    }
}

/// Whether the service refused what the operator asked for (as the HTTP API answers 4xx), as
/// opposed to failing inside (a 500 there).
fn caller_at_fault(error: &ServiceError) -> bool {
    match error.kind() {
        // A verification that found no proof is a check that found a problem, like a failing
        // signature, not a mistake in the command.
        ErrorKind::DomainNotProven | ErrorKind::Internal => false,
        ErrorKind::Invalid
        | ErrorKind::KeyRefused
        | ErrorKind::NotFound
        | ErrorKind::Conflict
        | ErrorKind::NoKey
        | ErrorKind::SenderNotProven
        | ErrorKind::TooLarge
        | ErrorKind::Unauthorized
        | ErrorKind::TooManyAttempts => true,
    }
}

/// The error with its causes, joined by ": ", leaving out a cause whose text the message
/// before it already ends with (an error that displays its source as its own message).
fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if text.ends_with(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

impl Output {
    /// Prints `value` as JSON, or the text `human` makes.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).expect("views serialise")
            );
        } else {
            println!("{}", human());
        }
    }

    /// Reports a failure on stderr (as `{"error": {"message"}}` with `--json`) and returns the
    /// exit status it calls for.
    pub fn failure(&self, error: &anyhow::Error) -> ExitCode {
        let message = error_text(error);
        if self.json {
            let body = serde_json::json!({"error": {"message": message}});
            eprintln!("{body}");
        } else {
            eprintln!("error: {message}");
        }
        Status::of_failure(error).into()
    }
}
