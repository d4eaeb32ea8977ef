//! Signing in and out. The sign-in form carries its own CSRF token (a random value in a
//! short-lived cookie and in the form), because no session exists yet to derive one from.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::pages::render;
use crate::session::{LOGIN_COOKIE, SESSION_COOKIE, Signed, cookie, set_cookie};

/// How long the sign-in form stays valid, in seconds.
const LOGIN_FORM_SECONDS: i64 = 60 * 60;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

fn random_token() -> Result<String, PageError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| {
        PageError::Service(sealpost_service::ServiceError::Internal(
            "the system random generator failed".into(),
        ))
    })?;
    Ok(hex::encode(bytes))
}

fn login_page(
    headers: &HeaderMap,
    status: StatusCode,
    email: String,
    error: Option<String>,
) -> Result<Response, PageError> {
    let csrf = match cookie(headers, LOGIN_COOKIE) {
        Some(existing) if existing.len() == 64 => existing.to_owned(),
        _ => random_token()?,
    };
    let page = LoginPage {
        csrf: csrf.clone(),
        email,
        error,
    };
    let mut response = render(status, &page)?;
    let value = set_cookie(headers, LOGIN_COOKIE, &csrf, Some(LOGIN_FORM_SECONDS));
    response
        .headers_mut()
        .append(header::SET_COOKIE, value.parse().expect("cookie header"));
    Ok(response)
}

pub async fn form(State(state): State<UiState>, headers: HeaderMap) -> Result<Response, PageError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && state.service.accounts().session(token).await?.is_some()
    {
        return Ok(Redirect::to("/").into_response());
    }
    login_page(&headers, StatusCode::OK, String::new(), None)
}

pub async fn submit(
    State(state): State<UiState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    match state
        .service
        .accounts()
        .sign_in(&form.email, &form.password, client.ip())
        .await
    {
        Ok(signed_in) => {
            tracing::info!(user = %signed_in.user.id, "signed in");
            let mut response = Redirect::to("/").into_response();
            let cookies = response.headers_mut();
            cookies.append(
                header::SET_COOKIE,
                // A browser-session cookie: the server ends the session at its expiry anyway.
                set_cookie(&headers, SESSION_COOKIE, &signed_in.token, None)
                    .parse()
                    .expect("cookie header"),
            );
            cookies.append(
                header::SET_COOKIE,
                set_cookie(&headers, LOGIN_COOKIE, "", Some(0))
                    .parse()
                    .expect("cookie header"),
            );
            Ok(response)
        }
        Err(error) => {
            let (status, message) = service_status(&error);
            login_page(&headers, status, form.email, Some(message))
        }
    }
}

pub async fn logout(
    State(state): State<UiState>,
    _signed: Signed,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.service.accounts().sign_out(token).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, "", Some(0))
            .parse()
            .expect("cookie header"),
    );
    Ok(response)
}
