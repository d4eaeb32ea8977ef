//! Contacts and mailings over the API (SPEC S6, S8.1): the same calls the UI makes. A mailing
//! is created, then sent as one message per recipient contact (each with only its own
//! recipient in `To:`); its status is the delivery state of each recipient in its message.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use sealpost_domain::MailingId;
use sealpost_service::{ContactForm, MailingForm};
use sealpost_views::mailings::{ContactView, MailingView};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts", get(list_contacts).post(create_contact))
        .route("/api/v1/mailings", get(list).post(create))
        .route("/api/v1/mailings/{id}", get(show))
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

#[utoipa::path(get, path = "/api/v1/contacts", tag = "mailings",
    security(("api_key" = [])), responses((status = 200, body = [ContactView])))]
pub async fn list_contacts(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<Json<Vec<ContactView>>, ApiError> {
    let contacts = state.service.mailings().list_contacts(tenant).await?;
    Ok(Json(contacts.iter().map(ContactView::from).collect()))
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

/// The tenant's 50 newest mailings with the state of each recipient.
#[utoipa::path(get, path = "/api/v1/mailings", tag = "mailings",
    security(("api_key" = [])), responses((status = 200, body = [MailingView])))]
pub async fn list(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<Json<Vec<MailingView>>, ApiError> {
    let mailings = state.service.mailings().list_mailings(tenant, 50).await?;
    Ok(Json(mailings.iter().map(MailingView::from).collect()))
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
