//! Cross-site request forgery protection for every form: a request that is not GET or HEAD
//! must carry a `csrf` field equal to its session's form token (or, on the sign-in form, to
//! the sign-in cookie's value). Done once here as a middleware, so no handler can forget it.
//! It also sets the security headers of every response, and `Cache-Control: no-store` on every
//! one that does not say otherwise (only the static files do), so after signing out, Back
//! shows no page from the browser's cache.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::PageError;
use crate::session::{LOGIN_COOKIE, SESSION_COOKIE, cookie};
use crate::{FORM_LIMIT_BYTES, UiState};

/// The name of the hidden field every form carries.
pub const FIELD: &str = "csrf";

pub async fn require(State(state): State<UiState>, request: Request, next: Next) -> Response {
    let mut response = if matches!(*request.method(), Method::GET | Method::HEAD) {
        next.run(request).await
    } else {
        match checked(&state, request).await {
            Ok(request) => next.run(request).await,
            Err(error) => error.into_response(),
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn checked(state: &UiState, request: Request) -> Result<Request, PageError> {
    let (mut parts, body) = request.into_parts();
    let bytes = to_bytes(body, FORM_LIMIT_BYTES)
        .await
        .map_err(|_| PageError::Status(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."))?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let submitted = fields
        .iter()
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value.as_str())
        .unwrap_or_default();
    let expected = match cookie(&parts.headers, SESSION_COOKIE) {
        Some(token) => match state.service.accounts().session(token).await? {
            Some(session) => {
                let expected = session.csrf_token.clone();
                parts.extensions.insert(session);
                Some(expected)
            }
            None => None,
        },
        None => None,
    };
    let expected = match expected {
        Some(expected) => expected,
        // Only the sign-in form is posted without a session.
        None if parts.uri.path() == "/login" => cookie(&parts.headers, LOGIN_COOKIE)
            .unwrap_or_default()
            .to_owned(),
        None => return Err(PageError::SignIn),
    };
    let same = !expected.is_empty()
        && aws_lc_rs::constant_time::verify_slices_are_equal(
            submitted.as_bytes(),
            expected.as_bytes(),
        )
        .is_ok();
    if !same {
        tracing::warn!(path = %parts.uri.path(), "form refused: CSRF token missing or wrong");
        return Err(PageError::Status(
            StatusCode::FORBIDDEN,
            "The form expired or was sent from another site. Reload the page and try again.",
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
