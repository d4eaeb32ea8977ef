//! People who sign in to the web UI (SPEC S8.3) and what they may see: an operator sees every
//! tenant, a tenant administrator only the one tenant the account belongs to.

use crate::{EmailAddress, TenantId, Timestamp, UserId, names::NameError};

/// A sign-in address: an address by the one rule ([`EmailAddress`]), lowercased so that
/// `Ann@Client.example` and `ann@client.example` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, NameError> {
        match EmailAddress::parse(&input.trim().to_lowercase()) {
            Ok(address) => Ok(Self(address.to_string())),
            Err(_) => Err(NameError::Email(input.to_owned())),
        }
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
        check("ann\0@client.example", None);
        check("jöhn@client.example", None);
        check("ann@bücher.example", Some("ann@xn--bcher-kva.example"));
    }

    #[test]
    fn tenant_admins_see_only_their_tenant() {
        let own = TenantId::new(&crate::SystemClock);
        assert!(UserRole::TenantAdmin(own).may_access(own));
        assert!(!UserRole::TenantAdmin(own).may_access(TenantId::new(&crate::SystemClock)));
        assert!(UserRole::Operator.may_access(own));
    }
}
