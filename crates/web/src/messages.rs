//! Message routes (SPEC S6.2, S8.1): submit a composed or a raw message (202 once it is
//! committed), list and show messages with per-recipient state and attempts, the stored source,
//! its DKIM verification, retry now and cancel.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine as _;
use sealpost_domain::{IdempotencyKey, MessageId, split_name_addr};
use sealpost_service::lists::{self, ListOrder, MessageFilter};
use sealpost_service::{Attachment, Composition, Submission, SubmitOptions, compose};
use sealpost_views::dkim_verification::VerificationView;
use sealpost_views::messages::{AcceptedView, ChangedView, MessageView};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{ApiKeyAuth, TenantAuth};
use crate::error::{ApiJson, ErrorBody};
use crate::message_requests::{ComposeRequest, RawMessageRequest};
use crate::paging::Paged;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/messages", get(list).post(submit))
        .route("/api/v1/messages/raw", post(submit_raw))
        .route("/api/v1/messages/{id}", get(show))
        .route("/api/v1/messages/{id}/raw", get(raw_source))
        .route("/api/v1/messages/{id}/dkim", get(dkim))
        .route("/api/v1/messages/{id}/retry", post(retry))
        .route("/api/v1/messages/{id}/cancel", post(cancel))
}

fn message_id(text: &str) -> Result<MessageId, ApiError> {
    text.parse().map_err(|_| ApiError::not_found("message"))
}

fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        format!("{field}: {message}"),
    )
}

/// The `Idempotency-Key` header, when the client sent one, with the fingerprint of the request
/// (its fields as parsed, so that formatting of the JSON does not matter).
fn idempotency_key(
    headers: &HeaderMap,
    request: &impl serde::Serialize,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| invalid("Idempotency-Key", "must be visible ASCII"))?;
    let fingerprint =
        serde_json::to_vec(request).map_err(|error| invalid("Idempotency-Key", error))?;
    Ok(Some(sealpost_service::idempotency_key(key, &fingerprint)?))
}

/// The address of a header mailbox for the envelope: the one inside `Name <address>`, or the
/// text itself. The service reads it by the one address rule and refuses it with its text.
fn bare_address(text: &str) -> String {
    split_name_addr(text)
        .map_or(text, |(_, address)| address)
        .trim()
        .to_owned()
}

fn accepted(accepted: sealpost_service::Accepted) -> (StatusCode, Json<AcceptedView>) {
    (
        StatusCode::ACCEPTED,
        Json(AcceptedView {
            id: accepted.id.to_string(),
            replayed: accepted.replayed,
        }),
    )
}

/// Builds the message from its parts, signs it and queues it. Answers 202 only after the
/// message is committed. Send `Idempotency-Key` to make retries of this request safe.
#[utoipa::path(post, path = "/api/v1/messages", tag = "messages",
    security(("api_key" = [])), request_body = ComposeRequest,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$",
        min_length = 1, max_length = 200)),
    responses((status = 202, body = AcceptedView),
        (status = 403, body = ErrorBody, description = "the From or MAIL FROM domain is one the tenant has not proven"),
        (status = 422, body = ErrorBody)))]
pub async fn submit(
    ApiKeyAuth(login): ApiKeyAuth,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<ComposeRequest>,
) -> Result<(StatusCode, Json<AcceptedView>), ApiError> {
    let idempotency_key = idempotency_key(&headers, &request)?;
    let mut attachments = Vec::with_capacity(request.attachments.len());
    for attachment in request.attachments {
        let content = base64::engine::general_purpose::STANDARD
            .decode(attachment.content_base64.as_bytes())
            .map_err(|_| invalid("attachments", "content_base64 is not valid base64"))?;
        attachments.push(Attachment {
            filename: attachment.filename,
            content_type: attachment.content_type,
            content,
        });
    }
    let recipients: Vec<String> = request
        .to
        .iter()
        .chain(&request.cc)
        .chain(&request.bcc)
        .map(|address| bare_address(address))
        .collect();
    let mail_from = request
        .mail_from
        .clone()
        .unwrap_or_else(|| bare_address(&request.from));
    let composition = Composition {
        from: request.from,
        to: request.to,
        cc: request.cc,
        reply_to: request.reply_to,
        subject: request.subject,
        text: request.text,
        html: request.html,
        headers: request.headers.into_iter().collect(),
        attachments,
    };
    let one_click_unsubscribe = request.one_click_unsubscribe;
    let raw = compose(&composition).map_err(|error| invalid(error.field(), error))?;
    let submission = Submission {
        mail_from,
        recipients,
        raw,
        idempotency_key,
        source: sealpost_domain::SubmissionSource::Http,
    };
    let options = SubmitOptions {
        one_click_unsubscribe,
    };
    Ok(accepted(
        state
            .service
            .submissions()
            .submit_with(login, submission, options)
            .await?,
    ))
}

/// Queues a ready RFC 5322 message with its envelope. It is completed (Date, Message-ID,
/// MIME-Version) and signed before it is committed; 202 means it is durable.
#[utoipa::path(post, path = "/api/v1/messages/raw", tag = "messages",
    security(("api_key" = [])), request_body = RawMessageRequest,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$",
        min_length = 1, max_length = 200)),
    responses((status = 202, body = AcceptedView),
        (status = 403, body = ErrorBody, description = "the From or MAIL FROM domain is one the tenant has not proven"),
        (status = 422, body = ErrorBody)))]
pub async fn submit_raw(
    ApiKeyAuth(login): ApiKeyAuth,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RawMessageRequest>,
) -> Result<(StatusCode, Json<AcceptedView>), ApiError> {
    let idempotency_key = idempotency_key(&headers, &request)?;
    let one_click_unsubscribe = request.one_click_unsubscribe;
    let raw = match (request.raw, request.raw_base64) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .map_err(|_| invalid("raw_base64", "not valid base64"))?,
        _ => return Err(invalid("raw", "give exactly one of raw and raw_base64")),
    };
    let submission = Submission {
        mail_from: request.mail_from,
        recipients: request.recipients,
        raw,
        idempotency_key,
        source: sealpost_domain::SubmissionSource::Http,
    };
    let options = SubmitOptions {
        one_click_unsubscribe,
    };
    Ok(accepted(
        state
            .service
            .submissions()
            .submit_with(login, submission, options)
            .await?,
    ))
}

/// Which page of the message list, and which messages it shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageListQuery {
    /// How many messages a page holds (50 when absent).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `X-Next-Cursor` header of the page before; absent for the first page.
    pub cursor: Option<String>,
    /// Only messages with a recipient in this state: queued, sending, deferred, sent, failed,
    /// expired, cancelled, suppressed, bounced or complained.
    pub state: Option<String>,
    /// Only messages whose Subject, MAIL FROM or a recipient's address contains this text
    /// (ignoring ASCII case).
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// The tenant's messages, newest first, a page at a time; the filters and the search look at
/// every message. `X-Total-Count` says how many messages match, `X-Next-Cursor` is the
/// `cursor` of the next page (absent on the last page).
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages",
    security(("api_key" = [])), params(MessageListQuery),
    responses((status = 200, body = [MessageView], headers(
            ("X-Total-Count" = u64, description = "How many messages match the filters on all pages"),
            ("X-Next-Cursor" = String, description = "The cursor of the next page; absent on the last page"))),
        (status = 422, body = ErrorBody)))]
pub async fn list(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Query(query): Query<MessageListQuery>,
) -> Result<Paged<MessageView>, ApiError> {
    let request = lists::page_request(
        query.limit.as_deref(),
        query.cursor.as_deref(),
        50,
        ListOrder::Newest,
    )?;
    let filter = MessageFilter {
        state: lists::recipient_state(query.state.as_deref())?,
        search: lists::search(query.q.as_deref())?,
        since: None,
    };
    let page = state
        .service
        .messages()
        .message_page(tenant, &filter, &request)
        .await?;
    let standing = state.service.feedback().standing(tenant).await?;
    Ok(Paged(
        page.map(|message| MessageView::new(&message, &[], &standing)),
    ))
}

/// A message with the state of each recipient (next attempt time, last reply) and every
/// attempt made.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MessageView), (status = 404, body = ErrorBody)))]
pub async fn show(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let id = message_id(&id)?;
    let message = state.service.messages().message_summary(tenant, id).await?;
    let attempts = state
        .service
        .messages()
        .message_attempts(tenant, id)
        .await?;
    let standing = state.service.feedback().standing(tenant).await?;
    Ok(Json(MessageView::new(&message, &attempts, &standing)))
}

/// The stored source, byte for byte as it is sent (SPEC S5.5).
#[utoipa::path(get, path = "/api/v1/messages/{id}/raw", tag = "messages",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, content_type = "message/rfc822", body = String),
        (status = 404, body = ErrorBody)))]
pub async fn raw_source(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let message = state
        .service
        .messages()
        .message(tenant, message_id(&id)?)
        .await?;
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], message.raw))
}

/// The DKIM verification of the stored source, with keys from DNS now (SPEC S5.5).
#[utoipa::path(get, path = "/api/v1/messages/{id}/dkim", tag = "messages",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = VerificationView), (status = 404, body = ErrorBody)))]
pub async fn dkim(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<VerificationView>, ApiError> {
    let report = state
        .service
        .messages()
        .verify_stored_message(tenant, message_id(&id)?)
        .await?;
    Ok(Json(VerificationView::from(&report)))
}

/// Makes the message's deferred recipients due now.
#[utoipa::path(post, path = "/api/v1/messages/{id}/retry", tag = "messages",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ChangedView), (status = 404, body = ErrorBody)))]
pub async fn retry(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ChangedView>, ApiError> {
    let changed = state
        .service
        .messages()
        .retry_message(tenant, message_id(&id)?)
        .await?;
    Ok(Json(ChangedView { changed }))
}

/// Cancels the recipients that are still waiting (queued or deferred).
#[utoipa::path(post, path = "/api/v1/messages/{id}/cancel", tag = "messages",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ChangedView), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ChangedView>, ApiError> {
    let changed = state
        .service
        .messages()
        .cancel_message(tenant, message_id(&id)?)
        .await?;
    Ok(Json(ChangedView { changed }))
}
