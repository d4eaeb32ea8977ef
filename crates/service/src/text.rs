//! Free text that people type once and that is shown back in lists, pages and CLI rows: names,
//! labels, subjects. One line, no control characters (a CR/LF would forge a row of a listing, a
//! NUL cuts text short in other programs), and bounded in length.

use crate::ServiceError;

/// A line that must not be empty.
pub(crate) fn one_line(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, ServiceError> {
    let value = optional_line(field, value, max)?;
    if value.is_empty() {
        return Err(invalid(field, "is required"));
    }
    Ok(value)
}

/// A line that may be empty; surrounding spaces are dropped.
pub(crate) fn optional_line(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, ServiceError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(invalid(field, format!("use at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "must be one line without control characters",
        ));
    }
    Ok(value.to_owned())
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}
