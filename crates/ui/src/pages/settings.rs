//! Client settings, E-mail tab (SPEC S1.2, S1.3): native delivery or the tenant's own mail
//! server, and "Test connection" with its transcript. The stored password is never sent back
//! to the browser; an empty password field keeps it.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{DeliveryMode, TlsMode};
use sealpost_service::{RelayForm, ServiceError};
use sealpost_views::relay::ConnectionTestView;
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::layout::Layout;
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// The relay fields as the form shows them.
struct RelayFields {
    host: String,
    port: String,
    username: String,
    use_ssl: bool,
    tls_mode: String,
    password_set: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    action: String,
    relay_mode: bool,
    fields: RelayFields,
    /// (value, label, selected).
    tls_modes: Vec<(&'static str, &'static str, bool)>,
    notice: Option<&'static str>,
    error: Option<String>,
    test: Option<ConnectionTestView>,
}

#[derive(Deserialize)]
pub struct SettingsForm {
    mode: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    use_ssl: Option<String>,
    #[serde(default)]
    tls_mode: String,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

const TLS_MODES: [(&str, &str); 3] = [
    ("default", "Default (STARTTLS when offered)"),
    ("required", "STARTTLS required"),
    ("none", "None"),
];

fn stored_fields(mode: &DeliveryMode) -> (bool, RelayFields) {
    match mode {
        DeliveryMode::Native => (
            false,
            RelayFields {
                host: String::new(),
                port: "587".into(),
                username: String::new(),
                use_ssl: false,
                tls_mode: TlsMode::Opportunistic.as_str().into(),
                password_set: false,
            },
        ),
        DeliveryMode::Relay(relay) => (
            true,
            RelayFields {
                host: relay.host.clone(),
                port: relay.port.to_string(),
                username: relay.username.clone(),
                use_ssl: relay.implicit_tls,
                tls_mode: relay.tls_mode.as_str().into(),
                password_set: relay.password_set,
            },
        ),
    }
}

/// What the page shows around the form: a notice, an error or a connection test.
struct Outcome {
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    test: Option<ConnectionTestView>,
}

async fn page(
    state: &UiState,
    scope: &Scope,
    typed: Option<(bool, RelayFields)>,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let (relay_mode, fields) = match typed {
        Some(typed) => typed,
        None => stored_fields(
            &state
                .service
                .relays()
                .delivery_mode(scope.tenant.id)
                .await?,
        ),
    };
    let page = SettingsPage {
        layout: Layout::tenant(scope, "/settings/email", "Client settings: E-mail"),
        action: format!("{}/settings/email", tenant_path(scope)),
        tls_modes: TLS_MODES
            .iter()
            .map(|(value, label)| (*value, *label, fields.tls_mode == *value))
            .collect(),
        relay_mode,
        fields,
        notice: outcome.notice,
        error: outcome.error,
        test: outcome.test,
    };
    render(outcome.status, &page)
}

pub async fn show(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = (query.notice == "saved").then_some("The e-mail settings were saved.");
    let outcome = Outcome {
        status: StatusCode::OK,
        notice,
        error: None,
        test: None,
    };
    page(&state, &scope, None, outcome).await
}

pub async fn save(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    let tenant = scope.tenant.id;
    let result = match form.mode.as_str() {
        "native" => state.service.relays().set_native_delivery(tenant).await,
        _ => match form.port.trim().parse::<u16>() {
            Ok(port) => {
                let relay = RelayForm {
                    host: &form.host,
                    port,
                    username: form.username.trim(),
                    password: Some(form.password.as_str()).filter(|password| !password.is_empty()),
                    implicit_tls: form.use_ssl.is_some(),
                    tls_mode: &form.tls_mode,
                };
                state
                    .service
                    .relays()
                    .set_relay_delivery(tenant, relay)
                    .await
            }
            Err(_) => Err(ServiceError::Invalid {
                field: "port",
                message: "use a port from 1 to 65535".into(),
            }),
        },
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}/settings/email?notice=saved",
            tenant_path(&scope)
        ))
        .into_response()),
        Err(error @ ServiceError::Invalid { .. }) => {
            let (status, message) = service_status(&error);
            let stored = state.service.relays().delivery_mode(tenant).await?;
            let typed = RelayFields {
                host: form.host,
                port: form.port,
                username: form.username,
                use_ssl: form.use_ssl.is_some(),
                tls_mode: form.tls_mode,
                password_set: matches!(stored, DeliveryMode::Relay(relay) if relay.password_set),
            };
            let outcome = Outcome {
                status,
                notice: None,
                error: Some(message),
                test: None,
            };
            page(
                &state,
                &scope,
                Some((form.mode != "native", typed)),
                outcome,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// Tests the saved settings: connect, TLS, AUTH, QUIT, with no mail sent.
pub async fn test(State(state): State<UiState>, scope: Scope) -> Result<Response, PageError> {
    let outcome = match state.service.relays().test_relay(scope.tenant.id).await {
        Ok(test) => Outcome {
            status: StatusCode::OK,
            notice: None,
            error: None,
            test: Some(ConnectionTestView::from(&test)),
        },
        Err(error @ ServiceError::Invalid { .. }) => Outcome {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            notice: None,
            error: Some(error.to_string()),
            test: None,
        },
        Err(other) => return Err(other.into()),
    };
    page(&state, &scope, None, outcome).await
}
