//! Looking after accounts from the web UI: a person changes their own password (proving the
//! current one first), and an operator lists, adds and removes accounts. Removing an account
//! ends its sessions at once; no one removes their own account, so an operator cannot lock the
//! last door behind them by mistake.

use sealpost_domain::{User, UserId, UserRole};
use sealpost_store::StoreError;
use zeroize::Zeroizing;

use crate::users::{blocking, check_password_rules, hash_password, parse_email, password_matches};
use crate::{Accounts, ServiceError};

/// Accounts are the operator's to see: to anyone else they do not exist (404, as a tenant
/// that is not one's own).
fn only_operators(actor: &User) -> Result<(), ServiceError> {
    match actor.role {
        UserRole::Operator => Ok(()),
        UserRole::TenantAdmin(_) => Err(ServiceError::NotFound("user")),
    }
}

impl Accounts {
    /// Gives `user` a new password once `current` proves it is them; every session of the
    /// account ends, this one too, so whoever knew the old password is signed out.
    pub async fn change_own_password(
        &self,
        user: &User,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        let (_, stored) = self
            .store
            .user_for_sign_in(&user.email)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let current = Zeroizing::new(current.to_owned());
        let matches = blocking(move || password_matches(&current, &stored)).await?;
        if !matches {
            return Err(ServiceError::Invalid {
                field: "current_password",
                message: "is not your current password".to_owned(),
            });
        }
        check_password_rules(new)?;
        let new = Zeroizing::new(new.to_owned());
        let hash = blocking(move || hash_password(&new)).await??;
        self.store
            .set_password_hash(&user.email, &hash)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => ServiceError::NotFound("user"),
                other => other.into(),
            })
    }

    /// Every account, for an operator.
    pub async fn list_users(&self, actor: &User) -> Result<Vec<User>, ServiceError> {
        only_operators(actor)?;
        Ok(self.store.list_users().await?)
    }

    /// Adds an account, for an operator.
    pub async fn add_user(
        &self,
        actor: &User,
        email: &str,
        role: UserRole,
        password: &str,
    ) -> Result<User, ServiceError> {
        only_operators(actor)?;
        parse_email(email)?;
        self.create_user(email, role, password).await
    }

    /// Removes an account and ends its sessions, for an operator; not their own.
    pub async fn remove_user(&self, actor: &User, id: UserId) -> Result<(), ServiceError> {
        only_operators(actor)?;
        if actor.id == id {
            return Err(ServiceError::Conflict(
                "you cannot remove your own account; another operator can".to_owned(),
            ));
        }
        self.store
            .delete_user(id)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => ServiceError::NotFound("user"),
                other => other.into(),
            })
    }
}
