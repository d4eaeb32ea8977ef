//! The one-click unsubscribe endpoint (SPEC S10.4, RFC 8058), reached from the link in a
//! message's `List-Unsubscribe` header, without signing in: the token proves itself. A POST
//! (what mailbox providers send, with `List-Unsubscribe=One-Click`) unsubscribes at once; a GET
//! (a person who clicked the link) shows a page with a button that POSTs, so that link
//! scanners which follow every link unsubscribe no one. An invalid token gets a 404 page.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;

use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/unsubscribe/{token}", get(confirm).post(unsubscribe))
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body style=\"font-family: sans-serif; max-width: 32rem; \
         margin: 4rem auto; padding: 0 1rem\"><h1>{title}</h1>{body}</body></html>"
    ))
}

fn invalid_link() -> (StatusCode, Html<String>) {
    (
        StatusCode::NOT_FOUND,
        page(
            "This link does not work",
            "<p>This unsubscribe link is not valid. Copy the whole link from the message, or \
             reply to the sender.</p>",
        ),
    )
}

/// Tokens are made of letters, digits and hyphens only, so they can be written into the page.
fn plausible(token: &str) -> bool {
    token.len() <= 100
        && token
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

async fn confirm(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<(StatusCode, Html<String>), ApiError> {
    if !plausible(&token)
        || state
            .service
            .feedback()
            .unsubscribe_target(&token)
            .await?
            .is_none()
    {
        return Ok(invalid_link());
    }
    Ok((
        StatusCode::OK,
        page(
            "Unsubscribe",
            &format!(
                "<p>Stop receiving these messages at this address?</p>\
                 <form method=\"post\" action=\"/unsubscribe/{token}\">\
                 <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
                 <button type=\"submit\">Unsubscribe</button></form>"
            ),
        ),
    ))
}

async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<(StatusCode, Html<String>), ApiError> {
    if !plausible(&token) {
        return Ok(invalid_link());
    }
    match state.service.feedback().unsubscribe(&token).await {
        Err(sealpost_service::ServiceError::NotFound(_)) => Ok(invalid_link()),
        Err(error) => Err(error.into()),
        Ok(()) => Ok((
            StatusCode::OK,
            page(
                "You are unsubscribed",
                "<p>This address will not receive these messages any more.</p>",
            ),
        )),
    }
}
