//! Web UI accounts (SPEC S8.3): creating them with an argon2id password hash, signing in with a
//! rate limit per client and address, and sessions. A session token is shown to the browser
//! once, in a cookie; the database keeps only its SHA-256, and the form token that protects
//! against cross-site requests is derived from it, so it needs no storage of its own.

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use sealpost_domain::{Email, Tenant, TenantId, TenantName, Timestamp, User, UserId, UserRole};
use sealpost_store::{StoreError, TenantKey};
use zeroize::Zeroizing;

use crate::tenants::token_hash;
use crate::{Accounts, ServiceError};

/// How long a session lasts after sign-in, in seconds: a working day.
const SESSION_SECONDS: i64 = 12 * 60 * 60;
/// The shortest password accepted; length is what makes a password hard to guess.
const MIN_PASSWORD_CHARS: usize = 12;
/// Mixed into the session token to derive its form token, so the two never coincide.
const CSRF_CONTEXT: &str = "sealpost-ui-csrf:";

/// A fresh session: the token for the cookie and when it ends.
#[derive(Debug)]
pub struct SignedIn {
    pub user: User,
    pub token: Zeroizing<String>,
    pub expires_at: Timestamp,
}

/// The account behind a live session, with the token every form of that session must carry.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: User,
    pub csrf_token: String,
}

fn random_hex(bytes: usize) -> Result<String, ServiceError> {
    let mut secret = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut secret)
        .map_err(|_| ServiceError::Internal("the system random generator failed".into()))?;
    Ok(hex::encode(secret))
}

/// The account of a session with the form token derived from the session's token.
fn session_user(user: User, token: &str) -> SessionUser {
    SessionUser {
        user,
        csrf_token: token_hash(&format!("{CSRF_CONTEXT}{token}")),
    }
}

/// Hashes with argon2id and the crate's recommended costs, under a random salt.
pub(crate) fn hash_password(password: &str) -> Result<String, ServiceError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt)
        .map_err(|_| ServiceError::Internal("the system random generator failed".into()))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| ServiceError::Internal(error.to_string().into()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ServiceError::Internal(error.to_string().into()))
}

pub(crate) fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

pub(crate) fn check_password_rules(password: &str) -> Result<(), ServiceError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServiceError::Invalid {
            field: "password",
            message: format!("use at least {MIN_PASSWORD_CHARS} characters"),
        });
    }
    Ok(())
}

pub(crate) fn parse_email(email: &str) -> Result<Email, ServiceError> {
    Email::parse(email).map_err(|error| ServiceError::invalid("email", error))
}

/// Hashing costs tens of milliseconds of CPU by design, so it runs off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ServiceError::Internal(error.into()))
}

impl Accounts {
    pub async fn create_user(
        &self,
        email: &str,
        role: UserRole,
        password: &str,
    ) -> Result<User, ServiceError> {
        let email = parse_email(email)?;
        check_password_rules(password)?;
        let password = Zeroizing::new(password.to_owned());
        let hash = blocking(move || hash_password(&password)).await??;
        let user = User {
            id: UserId::new(&self.clock),
            email,
            role,
            created_at: self.clock.now(),
        };
        match self.store.insert_user(&user, &hash).await {
            Ok(()) => Ok(user),
            Err(StoreError::NotFound) => Err(ServiceError::NotFound("tenant")),
            Err(other) => Err(other.into()),
        }
    }

    /// Gives an account a new password and ends its sessions.
    pub async fn set_user_password(&self, email: &str, password: &str) -> Result<(), ServiceError> {
        let email = parse_email(email)?;
        check_password_rules(password)?;
        let password = Zeroizing::new(password.to_owned());
        let hash = blocking(move || hash_password(&password)).await??;
        self.store
            .set_password_hash(&email, &hash)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => ServiceError::NotFound("user"),
                other => other.into(),
            })
    }

    /// Checks the password and opens a session. An unknown address and a wrong password get
    /// the same answer after the same work, so the form does not reveal which accounts exist.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<SignedIn, ServiceError> {
        let now = self.clock.now();
        let key = email.trim().to_lowercase();
        if let Err(seconds) = self.sign_in_limit.check(client, &key, now) {
            return Err(ServiceError::TooManyAttempts {
                retry_after_seconds: seconds,
            });
        }
        let account = match Email::parse(email) {
            Ok(email) => self.store.user_for_sign_in(&email).await?,
            Err(_) => None,
        };
        let stored = account.as_ref().map(|(_, hash)| hash.clone());
        let password = Zeroizing::new(password.to_owned());
        let matches = blocking(move || match stored {
            Some(stored) => password_matches(&password, &stored),
            None => {
                // Same cost as a real check, so timing does not tell unknown addresses apart.
                let _ = hash_password(&password);
                false
            }
        })
        .await?;
        let user = match (account, matches) {
            (Some((user, _)), true) => user,
            _ => {
                self.sign_in_limit.record_failure(client, &key, now);
                return Err(ServiceError::SignInRefused);
            }
        };
        self.sign_in_limit.record_success(client, &key);
        let token = Zeroizing::new(random_hex(32)?);
        let expires_at = Timestamp(now.0 + SESSION_SECONDS);
        self.store
            .insert_session(&token_hash(&token), user.id, now, expires_at)
            .await?;
        Ok(SignedIn {
            user,
            token,
            expires_at,
        })
    }

    /// The account of a live session; `None` for an unknown or expired token.
    pub async fn session(&self, token: &str) -> Result<Option<SessionUser>, ServiceError> {
        let user = self
            .store
            .session_user(&token_hash(token), self.clock.now())
            .await?;
        Ok(user.map(|user| session_user(user, token)))
    }

    /// The account of a live session and the tenant a page names by name or id, read in one
    /// query since every tenant page needs both: `None` for an unknown or expired token; no
    /// tenant when none has that name or id (or the text is neither). Whether the account may
    /// see the tenant is the caller's decision.
    pub async fn session_with_tenant(
        &self,
        token: &str,
        name_or_id: &str,
    ) -> Result<Option<(SessionUser, Option<Tenant>)>, ServiceError> {
        let hash = token_hash(token);
        let now = self.clock.now();
        let name = TenantName::parse(name_or_id);
        let key = match (name_or_id.parse::<TenantId>(), &name) {
            (Ok(id), _) => TenantKey::Id(id),
            (Err(_), Ok(name)) => TenantKey::Name(name),
            (Err(_), Err(_)) => {
                let user = self.store.session_user(&hash, now).await?;
                return Ok(user.map(|user| (session_user(user, token), None)));
            }
        };
        let found = self.store.session_user_with_tenant(&hash, now, key).await?;
        Ok(found.map(|(user, tenant)| (session_user(user, token), tenant)))
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), ServiceError> {
        Ok(self.store.delete_session(&token_hash(token)).await?)
    }
}
