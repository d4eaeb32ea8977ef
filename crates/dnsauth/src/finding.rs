//! One conclusion of a DNS check, in the shape every check reports: how bad, a stable code, what
//! was found, what was expected, and what to change.

/// How a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// As it should be.
    Ok,
    /// Works, but should change.
    Warning,
    /// Does not work as needed.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// A conclusion for people: `found` and `expected` describe the state, `fix` the change that
/// makes `found` into `expected` (absent when there is nothing to change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub status: Status,
    /// A stable identifier such as `spf.include_missing`, for programs and translations.
    pub code: &'static str,
    pub found: String,
    pub expected: String,
    pub fix: Option<String>,
}

impl Finding {
    /// Something as it should be.
    pub fn ok(code: &'static str, found: impl Into<String>, expected: impl Into<String>) -> Self {
        Self {
            status: Status::Ok,
            code,
            found: found.into(),
            expected: expected.into(),
            fix: None,
        }
    }

    /// Something that works but should change, and how.
    pub fn warning(
        code: &'static str,
        found: impl Into<String>,
        expected: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            status: Status::Warning,
            code,
            found: found.into(),
            expected: expected.into(),
            fix: Some(fix.into()),
        }
    }

    /// Something that does not work, and how to change it.
    pub fn error(
        code: &'static str,
        found: impl Into<String>,
        expected: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            status: Status::Error,
            code,
            found: found.into(),
            expected: expected.into(),
            fix: Some(fix.into()),
        }
    }
}
