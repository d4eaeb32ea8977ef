//! Bearer-token authentication. Tenant API keys resolve to their tenant, which then scopes the
//! request; the operator token (from configuration) opens the tenant administration routes.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sealpost_domain::TenantId;
use sealpost_service::ApiKeyLogin;

use crate::{ApiError, AppState};

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send an Authorization: Bearer <token> header"))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
    value.strip_prefix("Bearer ").map(str::trim).ok_or_else(|| {
        ApiError::unauthorized("the Authorization header must be \"Bearer <token>\"")
    })
}

/// The tenant whose API key made the request.
#[derive(Debug, Clone, Copy)]
pub struct TenantAuth(pub TenantId);

impl FromRequestParts<AppState> for TenantAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        match state.service.accounts().authenticate(token).await? {
            Some(tenant) => Ok(Self(tenant)),
            None => Err(ApiError::unauthorized("the API key is not valid")),
        }
    }
}

/// The API key a submission is made with. A key this node has seen is not read again here:
/// the submission's own read confirms it, with the tenant's suppression list.
#[derive(Debug, Clone)]
pub struct ApiKeyAuth(pub ApiKeyLogin);

impl FromRequestParts<AppState> for ApiKeyAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        match state.service.accounts().api_key_login(token).await? {
            Some(login) => Ok(Self(login)),
            None => Err(ApiError::unauthorized("the API key is not valid")),
        }
    }
}

/// Proof that the operator token was presented.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let Some(expected) = state.operator_token.as_deref() else {
            return Err(ApiError::unauthorized(
                "no operator token is configured on this server (set SEALPOST_OPERATOR_TOKEN)",
            ));
        };
        // Constant-time comparison, so response timing does not reveal the token.
        aws_lc_rs::constant_time::verify_slices_are_equal(token.as_bytes(), expected.as_bytes())
            .map_err(|_| ApiError::unauthorized("the operator token is not valid"))?;
        Ok(Self)
    }
}
