//! What a page answers when it cannot show what was asked: the sign-in page for a missing
//! session, a plain 404 for anything the account may not see, the person's own mistake as a
//! 4xx page, and a 500 that hides its detail, which is logged once here.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use sealpost_service::ServiceError;

#[derive(Debug)]
pub enum PageError {
    /// No session, or an expired one.
    SignIn,
    NotFound,
    /// A status with a sentence for the person.
    Status(StatusCode, &'static str),
    Service(ServiceError),
    Template(askama::Error),
}

impl From<ServiceError> for PageError {
    fn from(error: ServiceError) -> Self {
        Self::Service(error)
    }
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> Self {
        Self::Template(error)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

fn page(status: StatusCode, message: &str) -> Response {
    let body = ErrorPage {
        status: status.as_u16(),
        message,
    }
    .render()
    .unwrap_or_else(|_| message.to_owned());
    (status, Html(body)).into_response()
}

/// A service error as a status and a sentence; internal causes are logged and not shown.
pub fn service_status(error: &ServiceError) -> (StatusCode, String) {
    let kind = error.kind();
    let status =
        StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, error.public_message())
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => {
                let mut response = Redirect::to("/login").into_response();
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, "no-store".parse().expect("header"));
                response
            }
            Self::NotFound => page(StatusCode::NOT_FOUND, "This page does not exist."),
            Self::Status(status, message) => page(status, message),
            Self::Service(error) => {
                let (status, message) = service_status(&error);
                page(status, &message)
            }
            Self::Template(error) => {
                tracing::error!(%error, "template failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An internal error occurred; it has been logged.",
                )
            }
        }
    }
}
