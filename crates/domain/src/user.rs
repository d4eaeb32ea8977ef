//! People who sign in to the web UI (SPEC S8.3) and what they may see: an operator sees every
//! tenant, a tenant administrator only the one tenant the account belongs to.

use crate::{TenantId, Timestamp, UserId, names::NameError};

/// A sign-in address, trimmed and lowercased so that `Ann@Client.example` and
/// `ann@client.example` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let email = input.trim().to_lowercase();
        let shaped = match email.split_once('@') {
            Some((local, domain)) => !local.is_empty() && domain.contains('.'),
            None => false,
        };
        let clean = !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !shaped || !clean || email.len() > 254 || email.matches('@').count() != 1 {
            return Err(NameError::Email(input.to_owned()));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an account may reach. The tenant is part of the role, so a tenant administrator
/// without a tenant cannot be represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    Operator,
    TenantAdmin(TenantId),
}

impl UserRole {
    /// Whether this account may see the tenant's pages.
    pub fn may_access(&self, tenant: TenantId) -> bool {
        match self {
            Self::Operator => true,
            Self::TenantAdmin(own) => *own == tenant,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub role: UserRole,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expect: Option<&str>) {
        let parsed = Email::parse(input).ok();
        assert_eq!(parsed.as_ref().map(Email::as_str), expect);
    }

    #[test]
    fn emails() {
        check(" Ann@Client.Example ", Some("ann@client.example"));
        check("ann", None);
        check("@client.example", None);
        check("ann@localhost", None);
        check("a b@client.example", None);
        check("a@b@client.example", None);
    }

    #[test]
    fn tenant_admins_see_only_their_tenant() {
        let own = TenantId::new();
        assert!(UserRole::TenantAdmin(own).may_access(own));
        assert!(!UserRole::TenantAdmin(own).may_access(TenantId::new()));
        assert!(UserRole::Operator.may_access(own));
    }
}
