//! Printing results: text for people, or JSON (`--json`) in the same shapes as the HTTP API.

use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
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

    /// Reports a failure on stderr (as `{"error": {"message"}}` with `--json`).
    pub fn error(&self, error: &anyhow::Error) {
        if self.json {
            let body = serde_json::json!({"error": {"message": format!("{error:#}")}});
            eprintln!("{body}");
        } else {
            eprintln!("error: {error:#}");
        }
    }
}
