//! Accounts of the web UI and their sessions. Password hashes are read only by
//! [`Store::user_for_sign_in`]; a session is found by the hash of its token, never by the token.

use sealpost_domain::{Email, Tenant, TenantId, TenantName, Timestamp, User, UserId, UserRole};

use crate::rows::TenantRow;
use crate::{Store, StoreError, with_reader, with_writer};

/// How a page names its tenant: by id or by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantKey<'a> {
    Id(TenantId),
    Name(&'a TenantName),
}

/// A session's account and the tenant named beside it, whose columns are NULL when no tenant
/// has that id or name.
#[derive(sqlx::FromRow)]
struct SessionTenantRow {
    #[sqlx(flatten)]
    user: UserRow,
    named_tenant_id: Option<TenantId>,
    named_tenant_name: Option<String>,
    named_tenant_display_name: Option<String>,
    named_tenant_created_at: Option<i64>,
}

impl SessionTenantRow {
    fn into_parts(self) -> Result<(User, Option<Tenant>), StoreError> {
        let tenant = match (
            self.named_tenant_id,
            self.named_tenant_name,
            self.named_tenant_display_name,
            self.named_tenant_created_at,
        ) {
            (Some(id), Some(name), Some(display_name), Some(created_at)) => Some(
                TenantRow {
                    id,
                    name,
                    display_name,
                    created_at,
                }
                .try_into()?,
            ),
            _ => None,
        };
        Ok((User::try_from(self.user)?, tenant))
    }
}

/// The session's account with the tenant joined by `$3`, its id or its name.
macro_rules! session_tenant_sql {
    ($tenant_column:literal) => {
        concat!(
            "SELECT users.id, users.email, users.role, users.tenant_id, users.created_at, \
             t.id AS named_tenant_id, t.name AS named_tenant_name, \
             t.display_name AS named_tenant_display_name, \
             t.created_at AS named_tenant_created_at \
             FROM sessions JOIN users ON users.id = sessions.user_id \
             LEFT JOIN tenants t ON t.",
            $tenant_column,
            " = $3 WHERE sessions.token_hash = $1 AND sessions.expires_at > $2"
        )
    };
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    email: String,
    role: String,
    tenant_id: Option<TenantId>,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let role = match (row.role.as_str(), row.tenant_id) {
            ("operator", None) => UserRole::Operator,
            ("tenant_admin", Some(tenant)) => UserRole::TenantAdmin(tenant),
            (other, _) => return Err(StoreError::Corrupt(format!("user role {other:?}"))),
        };
        Ok(User {
            id: row.id,
            email: Email::parse(&row.email)
                .map_err(|_| StoreError::Corrupt(format!("user e-mail {:?}", row.email)))?,
            role,
            created_at: Timestamp(row.created_at),
        })
    }
}

fn role_columns(role: UserRole) -> (&'static str, Option<TenantId>) {
    match role {
        UserRole::Operator => ("operator", None),
        UserRole::TenantAdmin(tenant) => ("tenant_admin", Some(tenant)),
    }
}

impl Store {
    /// Every account, operators first, then by address.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT id, email, role, tenant_id, created_at FROM users \
                 ORDER BY role DESC, email",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(User::try_from).collect()
    }

    /// Removes an account with its sessions (by the foreign key's cascade), so it is signed out
    /// everywhere at once; `NotFound` when there is no such account.
    pub async fn delete_user(&self, id: UserId) -> Result<(), StoreError> {
        let deleted = with_writer!(self, pool => {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        match deleted {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// Adds an account. A tenant administrator's tenant must exist.
    pub async fn insert_user(&self, user: &User, password_hash: &str) -> Result<(), StoreError> {
        let (role, tenant) = role_columns(user.role);
        with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, role, tenant_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(user.id)
            .bind(user.email.as_str())
            .bind(password_hash)
            .bind(role)
            .bind(tenant)
            .bind(user.created_at.0)
            .execute(pool)
            .await
            .map_err(|error| match &error {
                sqlx::Error::Database(database) if database.is_foreign_key_violation() => {
                    StoreError::NotFound
                }
                _ => StoreError::duplicate_as(error, "a user with this e-mail address"),
            })?;
        });
        Ok(())
    }

    /// The account and its password hash, for checking a sign-in.
    pub async fn user_for_sign_in(
        &self,
        email: &Email,
    ) -> Result<Option<(User, String)>, StoreError> {
        let row: Option<(UserId, String, String, Option<TenantId>, i64, String)> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT id, email, role, tenant_id, created_at, password_hash FROM users \
                 WHERE email = $1",
            )
            .bind(email.as_str())
            .fetch_optional(pool)
            .await?
        });
        let Some((id, email, role, tenant_id, created_at, hash)) = row else {
            return Ok(None);
        };
        let row = UserRow {
            id,
            email,
            role,
            tenant_id,
            created_at,
        };
        Ok(Some((User::try_from(row)?, hash)))
    }

    /// Replaces an account's password hash and ends all its sessions, so a changed password
    /// locks out whoever knew the old one.
    pub async fn set_password_hash(
        &self,
        email: &Email,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let updated = with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let updated = sqlx::query("UPDATE users SET password_hash = $1 WHERE email = $2")
                .bind(password_hash)
                .bind(email.as_str())
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            sqlx::query(
                "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE email = $1)",
            )
            .bind(email.as_str())
            .execute(&mut *transaction)
            .await?;
            transaction.commit().await?;
            updated
        });
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Records a session by the hash of its token; expired sessions are removed on the way.
    pub async fn insert_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now.0)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(user)
            .bind(now.0)
            .bind(expires_at.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The account of a session that has not expired at `now`.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT users.id, users.email, users.role, users.tenant_id, users.created_at \
                 FROM sessions JOIN users ON users.id = sessions.user_id \
                 WHERE sessions.token_hash = $1 AND sessions.expires_at > $2",
            )
            .bind(token_hash)
            .bind(now.0)
            .fetch_optional(pool)
            .await?
        });
        row.map(User::try_from).transpose()
    }

    /// The account of a session that has not expired at `now`, and the tenant with this id or
    /// name (`None` when there is none), in one query: every tenant page needs both. Whether
    /// the account may see the tenant is the caller's decision.
    pub async fn session_user_with_tenant(
        &self,
        token_hash: &str,
        now: Timestamp,
        tenant: TenantKey<'_>,
    ) -> Result<Option<(User, Option<Tenant>)>, StoreError> {
        let row: Option<SessionTenantRow> = with_reader!(self, pool => {
            let query = match tenant {
                TenantKey::Id(id) => sqlx::query_as(session_tenant_sql!("id"))
                    .bind(token_hash)
                    .bind(now.0)
                    .bind(id),
                TenantKey::Name(name) => sqlx::query_as(session_tenant_sql!("name"))
                    .bind(token_hash)
                    .bind(now.0)
                    .bind(name.as_str()),
            };
            query.fetch_optional(pool).await?
        });
        row.map(SessionTenantRow::into_parts).transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
