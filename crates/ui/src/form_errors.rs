//! A refused form's errors as the page shows them: each next to its field, as a sentence that
//! names the field as the form labels it, never by the API's field name ("Enter the name",
//! not "name: is required"). What the person typed is given back by each page's form values.

use axum::http::StatusCode;
use sealpost_service::ServiceError;

use crate::error::service_status;

/// The errors of one form: by field, and one for the form as a whole.
#[derive(Debug, Default)]
pub struct FieldErrors {
    fields: Vec<(&'static str, String)>,
    general: Option<String>,
}

/// A form's fields: the service's field name and the label the form shows, in lower case.
pub type Labels = [(&'static str, &'static str)];

impl FieldErrors {
    /// No error: a form shown for the first time.
    pub fn none() -> Self {
        Self::default()
    }

    /// The error of a refused form: next to the field it names when the form has that field,
    /// otherwise above the form.
    pub fn of(error: &ServiceError, labels: &Labels) -> (StatusCode, Self) {
        let (status, message) = service_status(error);
        let named: Option<(&str, &str)> = match error {
            ServiceError::Invalid { field, message } => Some((field, message)),
            // A conflict about one field says so as "field: reason".
            ServiceError::Conflict(text) => text.split_once(": "),
            _ => None,
        };
        let labelled = named.and_then(|(field, text)| {
            labels
                .iter()
                .find(|(name, _)| *name == field)
                .map(|(name, label)| (*name, sentence(label, text)))
        });
        let errors = match (labelled, error) {
            (Some(field_error), _) => Self {
                fields: vec![field_error],
                general: None,
            },
            (None, ServiceError::Invalid { field, message }) => Self {
                fields: Vec::new(),
                general: Some(sentence(&field.replace('_', " "), message)),
            },
            (None, _) => Self {
                fields: Vec::new(),
                general: Some(full_stop(&message)),
            },
        };
        (status, errors)
    }

    /// An error that belongs to one field, worded by the page.
    pub fn field(field: &'static str, text: impl Into<String>) -> Self {
        Self {
            fields: vec![(field, full_stop(&text.into()))],
            general: None,
        }
    }

    /// The error next to `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, text)| text.as_str())
    }

    /// The one error of a form with a single field, wherever it stands.
    pub fn any(&self) -> Option<&str> {
        self.fields
            .first()
            .map(|(_, text)| text.as_str())
            .or(self.general.as_deref())
    }

    /// The error about the form as a whole, if any.
    pub fn general(&self) -> Option<&str> {
        self.general.as_deref()
    }
}

/// A service message about the field labelled `label` as a sentence of its own. The service's
/// short rules ("is required") read as instructions; anything else is its own sentence.
fn sentence(label: &str, message: &str) -> String {
    let message = message.trim();
    if message == "is required" {
        return format!("Enter the {label}.");
    }
    if let Some(rest) = message.strip_prefix("use at most ") {
        return format!("The {label} may have at most {rest}.");
    }
    if message == "must be one line without control characters" {
        return format!("Write the {label} on one line.");
    }
    full_stop(message)
}

/// The text with a capital first letter and a full stop.
pub fn full_stop(text: &str) -> String {
    let text = text.trim();
    let mut characters = text.chars();
    let mut sentence = match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect::<String>(),
        None => return String::new(),
    };
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: &Labels = &[("name", "name"), ("email", "e-mail address")];

    #[track_caller]
    fn check(error: ServiceError, field: Option<&str>, expect: &str) {
        let (_, errors) = FieldErrors::of(&error, LABELS);
        match field {
            Some(field) => assert_eq!(errors.get(field), Some(expect)),
            None => assert_eq!(errors.general(), Some(expect)),
        }
    }

    fn invalid(field: &'static str, message: &str) -> ServiceError {
        ServiceError::Invalid {
            field,
            message: message.to_owned(),
        }
    }

    #[test]
    fn errors_read_as_sentences_next_to_their_field() {
        check(
            invalid("name", "is required"),
            Some("name"),
            "Enter the name.",
        );
        check(
            invalid("name", "use at most 200 characters"),
            Some("name"),
            "The name may have at most 200 characters.",
        );
        check(
            invalid("email", "enter an e-mail address such as a@client.example"),
            Some("email"),
            "Enter an e-mail address such as a@client.example.",
        );
        check(
            ServiceError::Conflict("email: another contact has it".into()),
            Some("email"),
            "Another contact has it.",
        );
        check(
            invalid("subject", "is required"),
            None,
            "Enter the subject.",
        );
        check(
            ServiceError::Conflict("The draft uses it: delete it first".into()),
            None,
            "The draft uses it: delete it first.",
        );
    }
}
