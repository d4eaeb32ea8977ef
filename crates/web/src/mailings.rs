//! Contacts and mailings over the API (SPEC S6, S8.1): the same calls the UI makes. A mailing
//! is created, then sent as one message per recipient contact (each with only its own
//! recipient in `To:`); its status is the delivery state of each recipient in its message.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_domain::MailingId;
use sealpost_service::lists::{self, ListOrder, MAX_PAGE, MailingFilter};
use sealpost_service::{ContactForm, MailingForm};
use sealpost_views::mailings::{ContactView, MailingView};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::paging::Paged;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts", get(list_contacts).post(create_contact))
        .route("/api/v1/mailings", get(list).post(create))
        .route("/api/v1/mailings/{id}", get(show).delete(remove))
        .route("/api/v1/mailings/{id}/send", post(send))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    /// One line of at most 200 characters.
    #[schema(
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    #[schema(
        pattern = "^[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}$",
        max_length = 254
    )]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailingRequest {
    /// The sender contact's id; its domain must be an active signing domain of the tenant.
    #[schema(format = Uuid)]
    pub sender: String,
    /// Recipient contact ids.
    #[schema(min_items = 1, max_items = 1000)]
    pub recipients: Vec<ContactIdText>,
    /// One line of at most 900 characters.
    #[schema(
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
        min_length = 1,
        max_length = 900
    )]
    pub subject: String,
    /// Plain text, not blank.
    #[schema(pattern = "\\S")]
    pub body: String,
}

/// A contact's id as the request gives it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(format = Uuid)]
pub struct ContactIdText(String);

fn mailing_id(text: &str) -> Result<MailingId, ApiError> {
    text.parse().map_err(|_| ApiError::not_found("mailing"))
}

fn contact_id(field: &str, text: &str) -> Result<sealpost_domain::ContactId, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("{field}: {text:?} is not a contact id"),
        )
    })
}

/// Which page of the contact list, and which contacts it shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactListQuery {
    /// How many contacts a page holds (200 when absent).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `X-Next-Cursor` header of the page before; absent for the first page.
    pub cursor: Option<String>,
    /// Only contacts whose name or address contains this text (ignoring ASCII case).
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// The tenant's contacts by name, a page at a time, with `X-Total-Count` and `X-Next-Cursor`
/// as the message list has them.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "mailings",
    security(("api_key" = [])), params(ContactListQuery),
    responses((status = 200, body = [ContactView], headers(
            ("X-Total-Count" = u64, description = "How many contacts match on all pages"),
            ("X-Next-Cursor" = String, description = "The cursor of the next page; absent on the last page"))),
        (status = 422, body = ErrorBody)))]
pub async fn list_contacts(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Query(query): Query<ContactListQuery>,
) -> Result<Paged<ContactView>, ApiError> {
    let request = lists::page_request(
        query.limit.as_deref(),
        query.cursor.as_deref(),
        MAX_PAGE,
        ListOrder::ByName,
    )?;
    let search = lists::search(query.q.as_deref())?;
    let page = state
        .service
        .mailings()
        .contact_page(tenant, search.as_deref(), &request)
        .await?;
    Ok(Paged(page.map(|contact| ContactView::from(&contact))))
}

#[utoipa::path(post, path = "/api/v1/contacts", tag = "mailings",
    security(("api_key" = [])), request_body = ContactRequest,
    responses((status = 201, body = ContactView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_contact(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ContactRequest>,
) -> Result<(StatusCode, Json<ContactView>), ApiError> {
    let contact = state
        .service
        .mailings()
        .add_contact(
            tenant,
            ContactForm {
                name: request.name,
                email: request.email,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&contact).into())))
}

/// Which page of the mailing list, and which mailings it shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailingListQuery {
    /// How many mailings a page holds (50 when absent).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `X-Next-Cursor` header of the page before; absent for the first page.
    pub cursor: Option<String>,
    /// Only mailings with this status: draft, in_progress, delivered, partly_delivered or
    /// failed.
    pub status: Option<String>,
    /// Only mailings whose subject, sender name or sender address contains this text
    /// (ignoring ASCII case).
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// The tenant's mailings, newest first, with the state of each recipient, a page at a time,
/// with `X-Total-Count` and `X-Next-Cursor` as the message list has them.
#[utoipa::path(get, path = "/api/v1/mailings", tag = "mailings",
    security(("api_key" = [])), params(MailingListQuery),
    responses((status = 200, body = [MailingView], headers(
            ("X-Total-Count" = u64, description = "How many mailings match the filters on all pages"),
            ("X-Next-Cursor" = String, description = "The cursor of the next page; absent on the last page"))),
        (status = 422, body = ErrorBody)))]
pub async fn list(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Query(query): Query<MailingListQuery>,
) -> Result<Paged<MailingView>, ApiError> {
    let request = lists::page_request(
        query.limit.as_deref(),
        query.cursor.as_deref(),
        50,
        ListOrder::Newest,
    )?;
    let filter = MailingFilter {
        progress: lists::mailing_progress(query.status.as_deref())?,
        search: lists::search(query.q.as_deref())?,
    };
    let page = state
        .service
        .mailings()
        .mailing_page(tenant, &filter, &request)
        .await?;
    Ok(Paged(page.map(|status| MailingView::from(&status))))
}

/// Creates a draft mailing. A sender whose domain is not an active signing domain of the
/// tenant is refused with the reason (SPEC S6.1).
#[utoipa::path(post, path = "/api/v1/mailings", tag = "mailings",
    security(("api_key" = [])), request_body = MailingRequest,
    responses((status = 201, body = MailingView),
        (status = 409, body = ErrorBody, description = "a contact id that names no contact of the tenant"),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<MailingRequest>,
) -> Result<(StatusCode, Json<MailingView>), ApiError> {
    let form = MailingForm {
        sender: Some(contact_id("sender", &request.sender)?),
        recipients: request
            .recipients
            .iter()
            .map(|id| contact_id("recipients", &id.0))
            .collect::<Result<_, _>>()?,
        subject: request.subject,
        body: request.body,
    };
    let mailing = state
        .service
        .mailings()
        .create_mailing(tenant, form)
        .await?;
    let status = state
        .service
        .mailings()
        .mailing_status(tenant, mailing.id)
        .await?;
    Ok((StatusCode::CREATED, Json((&status).into())))
}

#[utoipa::path(get, path = "/api/v1/mailings/{id}", tag = "mailings",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MailingView), (status = 404, body = ErrorBody)))]
pub async fn show(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MailingView>, ApiError> {
    let status = state
        .service
        .mailings()
        .mailing_status(tenant, mailing_id(&id)?)
        .await?;
    Ok(Json((&status).into()))
}

/// "Send message": queues one message per recipient contact, each with only that contact in
/// `To:`, keyed by the mailing and the contact, so no contact is sent the mailing twice; a
/// second send is a 409.
#[utoipa::path(post, path = "/api/v1/mailings/{id}/send", tag = "mailings",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 202, body = MailingView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<MailingView>), ApiError> {
    let status = state
        .service
        .mailings()
        .send_mailing(tenant, mailing_id(&id)?)
        .await?;
    Ok((StatusCode::ACCEPTED, Json((&status).into())))
}

/// Deletes a draft mailing (one never sent); its contacts stay. A sent mailing is kept with
/// its messages: 409.
#[utoipa::path(delete, path = "/api/v1/mailings/{id}", tag = "mailings",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .mailings()
        .delete_draft_mailing(tenant, mailing_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
