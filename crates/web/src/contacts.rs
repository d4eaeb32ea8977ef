//! One contact over the API (SPEC S6, S8.1): read, edited and deleted as the UI does it. A
//! contact that a sent mailing used keeps its address, and a contact that any mailing uses is
//! not deleted: both are refused with the mailing named.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use sealpost_domain::ContactId;
use sealpost_service::ContactForm;
use sealpost_views::mailings::ContactView;

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::mailings::ContactRequest;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/contacts/{id}",
        get(show).put(update).delete(remove),
    )
}

fn contact_id(text: &str) -> Result<ContactId, ApiError> {
    text.parse().map_err(|_| ApiError::not_found("contact"))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "mailings",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ContactView), (status = 404, body = ErrorBody)))]
pub async fn show(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ContactView>, ApiError> {
    let contact = state
        .service
        .mailings()
        .contact(tenant, contact_id(&id)?)
        .await?;
    Ok(Json(ContactView::from(&contact)))
}

/// Changes the contact's name and address. A contact that a sent mailing used keeps its
/// address (422 naming the mailing): the mailing's history is read by it.
#[utoipa::path(put, path = "/api/v1/contacts/{id}", tag = "mailings",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    request_body = ContactRequest,
    responses((status = 200, body = ContactView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ContactRequest>,
) -> Result<Json<ContactView>, ApiError> {
    let form = ContactForm {
        name: request.name,
        email: request.email,
    };
    let contact = state
        .service
        .mailings()
        .update_contact(tenant, contact_id(&id)?, form)
        .await?;
    Ok(Json(ContactView::from(&contact)))
}

/// Deletes a contact that no mailing uses; one that a mailing uses is kept (409 naming the
/// mailing; a draft can be deleted first).
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "mailings",
    security(("api_key" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "a mailing uses the contact")))]
pub async fn remove(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .mailings()
        .delete_contact(tenant, contact_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
