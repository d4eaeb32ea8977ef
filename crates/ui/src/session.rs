//! Who is asking: the session cookie, the account behind it, and the tenant a page belongs to.
//! A tenant administrator asking for another tenant's page gets the same 404 as for a tenant
//! that does not exist, so the UI does not reveal which tenants there are.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use sealpost_domain::{Tenant, UserRole};
use sealpost_service::SessionUser;

use crate::UiState;
use crate::error::PageError;

/// The session cookie: HttpOnly, so scripts cannot read it; SameSite=Strict, so other sites
/// cannot send it.
pub const SESSION_COOKIE: &str = "sp_session";
/// The sign-in form's own CSRF token, compared with its hidden field before a session exists.
pub const LOGIN_COOKIE: &str = "sp_login";

/// The value of one cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Whether the browser reached us over https. Sealpost itself speaks plain HTTP, so https means
/// a proxy in front that says so; trusting the header can only make cookies stricter.
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value with the attributes every UI cookie needs; `max_age` 0 deletes it and
/// `None` makes it last until the browser closes.
pub fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Option<i64>) -> String {
    let secure = if over_https(headers) { "; Secure" } else { "" };
    let max_age = max_age
        .map(|seconds| format!("; Max-Age={seconds}"))
        .unwrap_or_default();
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{max_age}{secure}")
}

/// A signed-in account, found by the session cookie.
#[derive(Debug, Clone)]
pub struct Signed {
    pub session: SessionUser,
}

impl FromRequestParts<UiState> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, PageError> {
        // The CSRF check of a form post has looked the session up already.
        if let Some(session) = parts.extensions.get::<SessionUser>() {
            return Ok(Self {
                session: session.clone(),
            });
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(PageError::SignIn)?;
        match state.service.accounts().session(token).await? {
            Some(session) => Ok(Self { session }),
            None => Err(PageError::SignIn),
        }
    }
}

/// A tenant page: the signed-in account and the tenant named in the path, which it may see.
#[derive(Debug, Clone)]
pub struct Scope {
    pub session: SessionUser,
    pub tenant: Tenant,
}

impl Scope {
    pub fn is_operator(&self) -> bool {
        self.session.user.role == UserRole::Operator
    }
}

impl FromRequestParts<UiState> for Scope {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, PageError> {
        let asker = match parts.extensions.get::<SessionUser>() {
            Some(session) => Asker::Checked(session.clone()),
            None => Asker::Token(
                cookie(&parts.headers, SESSION_COOKIE)
                    .ok_or(PageError::SignIn)?
                    .to_owned(),
            ),
        };
        let Path(parameters) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| PageError::NotFound)?;
        let name = parameters.get("tenant").ok_or(PageError::NotFound)?;
        let (session, tenant) = match asker {
            Asker::Checked(session) => (session, tenant_named(state, name).await?),
            // The session and the tenant are read in one query.
            Asker::Token(token) => state
                .service
                .accounts()
                .session_with_tenant(&token, name)
                .await?
                .ok_or(PageError::SignIn)?,
        };
        let tenant = tenant.ok_or(PageError::NotFound)?;
        if !session.user.role.may_access(tenant.id) {
            tracing::warn!(user = %session.user.id, tenant = %tenant.id, "tenant page refused");
            return Err(PageError::NotFound);
        }
        Ok(Self { session, tenant })
    }
}

/// Who asks for a tenant page: a session the CSRF check of a form post has looked up already,
/// or the session cookie's token, yet to be looked up.
enum Asker {
    Checked(SessionUser),
    Token(String),
}

/// The tenant with this name or id, `None` when there is none.
async fn tenant_named(state: &UiState, name: &str) -> Result<Option<Tenant>, PageError> {
    match state.service.accounts().find_tenant(name).await {
        Ok(tenant) => Ok(Some(tenant)),
        Err(
            sealpost_service::ServiceError::NotFound(_)
            | sealpost_service::ServiceError::Invalid { .. },
        ) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn cookies_are_http_only_strict_and_secure_behind_https() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            set_cookie(&headers, SESSION_COOKIE, "t", None),
            "sp_session=t; Path=/; HttpOnly; SameSite=Strict"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(
            set_cookie(&headers, LOGIN_COOKIE, "v", Some(60)),
            "sp_login=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
    }

    #[test]
    fn a_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            axum::http::header::COOKIE,
            HeaderValue::from_static("a=1; sp_session=abc"),
        );
        headers.append(axum::http::header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, LOGIN_COOKIE), None);
    }
}
