//! The API's JSON error form for the errors that the router and axum's extractors answer by
//! themselves: 405 (an empty body), 413 from the body limit (plain text without the limit), a
//! query string or path that does not parse (plain text). A client of the API gets
//! `{"error": {"code", "message"}}` for every failure, and a 413 names the limit in bytes.

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, WordedByService};

/// The most of a plain-text error body kept as the message; axum's rejection texts are a line.
const MAX_TEXT_BYTES: usize = 4096;

/// Rewrites every error response of the routes it wraps that is not already the API's JSON,
/// and every 413 of the transport, whose text only the layer that knows the limit can write (a
/// message over the message limit is worded by the service and kept). `body_limit` is the
/// largest request body of these routes, in bytes.
pub(crate) async fn json_errors(
    State(body_limit): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE
        && response.extensions().get::<WordedByService>().is_none()
    {
        return ApiError::payload_too_large(body_limit).into_response();
    }
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let error = match status {
        // The method router adds the `Allow` header to this response after the layers.
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            format!("{method} is not allowed on this route; the Allow header lists its methods"),
        ),
        _ => {
            // An unreadable body leaves the reason phrase as the message.
            let text = to_bytes(response.into_body(), MAX_TEXT_BYTES)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&text).trim().to_owned();
            ApiError::from_status(status, text)
        }
    };
    error.into_response()
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}
