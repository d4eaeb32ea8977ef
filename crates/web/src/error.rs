//! Errors at the HTTP edge: a caller's mistake becomes a precise 4xx with a JSON body
//! `{"error": {"code", "message"}}`; an internal failure becomes a 500 that hides its detail,
//! which is logged once here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sealpost_service::ServiceError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::serve::BodyDeadlinePassed;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// A stable machine-readable code, such as `invalid_input` or `not_found`.
    code: String,
    /// What went wrong, written for the person who made the request.
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub(crate) fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// A request body over `limit` bytes.
    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    /// An error that axum answered by itself with `status` and a plain-text `text`, in the
    /// API's form; the code is the one this API uses for the status.
    pub(crate) fn from_status(status: StatusCode, text: String) -> Self {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::REQUEST_TIMEOUT => "request_timeout",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
            StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
            status if status.is_server_error() => "internal",
            _ => "bad_request",
        };
        let message = match text.is_empty() {
            true => status.canonical_reason().unwrap_or("error").to_owned(),
            false => text,
        };
        Self::new(status, code, message)
    }

    /// A request body that could not be read: over the limit (413; the layer that knows the
    /// limit words the message), too slow (408), or broken off or malformed, such as bad
    /// chunked encoding (400).
    fn unreadable_body(rejection: &BytesRejection) -> Self {
        if let BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) =
            rejection
        {
            return Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than the limit",
            );
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
        while let Some(error) = cause {
            if let Some(passed) = error.downcast_ref::<BodyDeadlinePassed>() {
                return Self::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "request_timeout",
                    passed.to_string(),
                );
            }
            cause = error.source();
        }
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read: it broke off or its transfer encoding is \
             malformed",
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let kind = error.kind();
        let status =
            StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(status, kind.code(), error.public_message())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = match &rejection {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            JsonRejection::BytesRejection(body) => return Self::unreadable_body(body),
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, "bad_request", rejection.body_text())
    }
}

/// Marks an error response whose words came from the service (such as a message over the
/// message limit), so that the layer that words transport errors leaves it as it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WordedByService;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let from_service = self.code == "too_large";
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if from_service {
            response.extensions_mut().insert(WordedByService);
        }
        response
    }
}

/// `Json` whose rejections use our error format, and which takes only a JSON object: serde
/// also reads a struct from an array of its fields in order (`[null, null]`), a second form that
/// the document does not describe and no client means to send.
pub(crate) struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(request.headers()) {
            // axum words the missing content type; it checks the same way, so this refuses.
            let Json(value) = Json::<T>::from_request(request, state).await?;
            return Ok(Self(value));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| Self::Rejection::unreadable_body(&rejection))?;
        let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
        if first.is_some_and(|byte| *byte != b'{') {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request body must be a JSON object",
            ));
        }
        let Json(value) = Json::<T>::from_bytes(&body)?;
        Ok(Self(value))
    }
}

/// Whether the request says its body is JSON (`application/json` or `application/*+json`),
/// as axum's `Json` decides it.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", subtype)) => subtype == "json" || subtype.ends_with("+json"),
        _ => false,
    }
}

/// An optional JSON body: a request without a body (no content type, nothing sent) has none;
/// anything sent is read as [`ApiJson`] reads it, so a wrong body is refused, not ignored.
impl<T, S> axum::extract::OptionalFromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let headers = request.headers();
        let empty = headers.get(header::CONTENT_TYPE).is_none()
            && headers.get(header::TRANSFER_ENCODING).is_none()
            && headers
                .get(header::CONTENT_LENGTH)
                .is_none_or(|length| length.as_bytes() == b"0");
        if empty {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(request, state)
            .await
            .map(Some)
    }
}
