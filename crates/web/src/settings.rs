//! The E-mail tab over the API (SPEC S1.2, S1.3, S8.1, S11.1): the tenant's delivery mode and own
//! mail server, and its automatic DKIM key rotation. The password is write-only: responses say
//! whether one is set, never what it is.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use sealpost_service::RelayForm;
use sealpost_views::key_rotation::KeyRotationView;
use sealpost_views::relay::{ConnectionTestView, DeliveryView};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use sealpost_domain::TenantId;

use crate::auth::TenantAuth;
use crate::error::{ApiJson, ErrorBody};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/settings/delivery", get(show).put(update))
        .route("/api/v1/settings/delivery/test", post(test_connection))
        .route(
            "/api/v1/settings/key-rotation",
            get(show_key_rotation).put(update_key_rotation),
        )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRequest {
    /// native or relay.
    #[schema(pattern = "^(?:native|relay)$")]
    pub mode: String,
    /// The mail server's host name or IP address (relay only).
    #[schema(
        pattern = "^(?:(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}|(?:[1-9]?[0-9]\\.){3}[1-9]?[0-9])$",
        max_length = 253
    )]
    pub host: Option<String>,
    /// 587 when left out. A whole number, also when written with a zero fraction (`587.0`),
    /// as JSON Schema reads `integer`.
    #[serde(default, deserialize_with = "whole_port")]
    #[schema(minimum = 1, maximum = 65535)]
    pub port: Option<u16>,
    /// One line; empty for a server that needs no login.
    #[serde(default)]
    #[schema(pattern = "^[^\\r\\n]*$")]
    pub username: String,
    /// A new password; leave it out to keep the stored one.
    pub password: Option<String>,
    #[serde(default)]
    pub use_ssl: bool,
    /// default, required or none; default when left out. "use SSL" goes with default or
    /// required.
    #[schema(pattern = "^(?:default|required|none)$")]
    pub tls_mode: Option<String>,
}

/// A JSON number as JSON Schema's `integer` reads it: `587` and `587.0` are the same number,
/// and a fraction is none.
fn whole(number: &serde_json::Number) -> Option<i64> {
    number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|value| value.fract() == 0.0 && value.abs() <= 1e15)
            // The filter leaves only whole numbers well inside i64, so the conversion is exact.
            .map(|value| value as i64)
    })
}

/// A port as JSON Schema's `integer` reads it: a fraction or a number outside 0..=65535 is
/// refused.
fn whole_port<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u16>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    whole(&number)
        .and_then(|value| u16::try_from(value).ok())
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format!(
                "port: {number} is not a whole number from 1 to 65535"
            ))
        })
}

/// A number of days as JSON Schema's `integer` reads it; its range is the service's to judge.
fn whole_days<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    whole(&number).map(Some).ok_or_else(|| {
        D::Error::custom(format!(
            "every_days: {number} is not a whole number of days"
        ))
    })
}

/// Unsaved own-mail-server settings to test before saving them; the fields and rules are those
/// of [`DeliveryRequest`] without the mode.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelayTestRequest {
    /// The mail server's host name or IP address.
    #[schema(
        pattern = "^(?:(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}|(?:[1-9]?[0-9]\\.){3}[1-9]?[0-9])$",
        max_length = 253
    )]
    pub host: String,
    /// 587 when left out.
    #[serde(default, deserialize_with = "whole_port")]
    #[schema(minimum = 1, maximum = 65535)]
    pub port: Option<u16>,
    /// One line; empty for a server that needs no login.
    #[serde(default)]
    #[schema(pattern = "^[^\\r\\n]*$")]
    pub username: String,
    /// The password to test with; leave it out to test with the stored one.
    pub password: Option<String>,
    #[serde(default)]
    pub use_ssl: bool,
    /// default, required or none; default when left out. "use SSL" goes with default or
    /// required.
    #[schema(pattern = "^(?:default|required|none)$")]
    pub tls_mode: Option<String>,
}

/// The delivery mode with the relay settings kept while it is native.
async fn delivery_view(state: &AppState, tenant: TenantId) -> Result<DeliveryView, ApiError> {
    let relays = state.service.relays();
    Ok(DeliveryView::with_kept(
        relays.delivery_mode(tenant).await?,
        relays.kept_relay(tenant).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/settings/delivery", tag = "settings",
    security(("api_key" = [])), responses((status = 200, body = DeliveryView)))]
pub async fn show(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<Json<DeliveryView>, ApiError> {
    Ok(Json(delivery_view(&state, tenant).await?))
}

#[utoipa::path(put, path = "/api/v1/settings/delivery", tag = "settings",
    security(("api_key" = [])), request_body = DeliveryRequest,
    responses((status = 200, body = DeliveryView), (status = 422, body = ErrorBody)))]
pub async fn update(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<DeliveryRequest>,
) -> Result<Json<DeliveryView>, ApiError> {
    let form = RelayForm {
        host: request.host.as_deref().unwrap_or_default(),
        port: request.port.unwrap_or(587),
        username: &request.username,
        password: request.password.as_deref(),
        implicit_tls: request.use_ssl,
        tls_mode: request.tls_mode.as_deref().unwrap_or("default"),
    };
    match request.mode.as_str() {
        // Native delivery does not use the relay fields, but a request that carries them gets
        // them checked: the document gives each field its rules whatever the mode, and a wrong
        // value is never silently taken.
        "native" => {
            if request.host.is_some() {
                form.checked_host()?;
            }
            form.checked_options()?;
            state.service.relays().set_native_delivery(tenant).await?;
        }
        "relay" => {
            state
                .service
                .relays()
                .set_relay_delivery(tenant, form)
                .await?;
        }
        other => {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("mode: {other:?} is not native or relay"),
            ));
        }
    }
    Ok(Json(delivery_view(&state, tenant).await?))
}

/// "Test connection" for the tenant's own mail server (SPEC S1.3): connect, TLS, AUTH, QUIT;
/// no mail is sent. Without a body the saved settings are tested; with one, the settings it
/// carries are tested before they are saved (nothing is stored). The transcript never contains
/// the password.
#[utoipa::path(post, path = "/api/v1/settings/delivery/test", tag = "settings",
    security(("api_key" = [])),
    request_body(content = Option<RelayTestRequest>,
        description = "Unsaved settings to test; leave the body out to test the saved ones."),
    responses((status = 200, body = ConnectionTestView),
        (status = 409, body = ErrorBody, description = "no body, and the tenant does not use its own mail server"),
        (status = 422, body = ErrorBody)))]
pub async fn test_connection(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    request: Option<ApiJson<RelayTestRequest>>,
) -> Result<Json<ConnectionTestView>, ApiError> {
    let relays = state.service.relays();
    let test = match request {
        Some(ApiJson(request)) => {
            let form = RelayForm {
                host: &request.host,
                port: request.port.unwrap_or(587),
                username: &request.username,
                password: request.password.as_deref(),
                implicit_tls: request.use_ssl,
                tls_mode: request.tls_mode.as_deref().unwrap_or("default"),
            };
            relays.test_relay_form(tenant, form).await?
        }
        None => relays.test_relay(tenant).await?,
    };
    Ok(Json(ConnectionTestView::from(&test)))
}

/// The tenant's automatic DKIM key rotation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRotationRequest {
    /// Replace every active DKIM key this many days after it started signing (30 to 730); null
    /// or left out to replace keys only by hand.
    #[serde(default, deserialize_with = "whole_days")]
    #[schema(minimum = 30, maximum = 730)]
    pub every_days: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/settings/key-rotation", tag = "settings",
    security(("api_key" = [])), responses((status = 200, body = KeyRotationView)))]
pub async fn show_key_rotation(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
) -> Result<Json<KeyRotationView>, ApiError> {
    let rotation = state.service.signing_domains().key_rotation(tenant).await?;
    Ok(Json(rotation.into()))
}

/// Switches automatic key rotation on with a period, or off. When on, a domain's key that has
/// signed for the period gets a pending successor and a `key.rotation_started` event naming the
/// record to publish (nothing to publish on a domain delegated by CNAME).
#[utoipa::path(put, path = "/api/v1/settings/key-rotation", tag = "settings",
    security(("api_key" = [])), request_body = KeyRotationRequest,
    responses((status = 200, body = KeyRotationView), (status = 422, body = ErrorBody)))]
pub async fn update_key_rotation(
    TenantAuth(tenant): TenantAuth,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<KeyRotationRequest>,
) -> Result<Json<KeyRotationView>, ApiError> {
    let rotation = state
        .service
        .signing_domains()
        .set_key_rotation(tenant, request.every_days)
        .await?;
    Ok(Json(rotation.into()))
}
