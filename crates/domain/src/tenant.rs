//! Tenants: the client organisations on whose behalf the platform sends mail.

use crate::{TenantId, Timestamp, names::NameError};

/// A tenant's short name, used by operators on the command line (`--tenant acme`). Lowercase
/// letters, digits and hyphens, 1 to 63 characters, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantName(String);

impl TenantName {
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let name = input.trim();
        let valid_chars = name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        if name.is_empty() || name.len() > 63 || !valid_chars || name.starts_with('-') {
            return Err(NameError::TenantName(input.to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
    pub display_name: String,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, ok: bool) {
        assert_eq!(TenantName::parse(input).is_ok(), ok, "{input:?}");
    }

    #[test]
    fn tenant_names() {
        check("acme", true);
        check("acme-2", true);
        check("9lives", true);
        check("", false);
        check("-acme", false);
        check("Acme", false);
        check("acme corp", false);
        check(&"a".repeat(64), false);
    }
}
