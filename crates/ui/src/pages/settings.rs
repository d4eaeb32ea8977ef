//! Client settings, E-mail tab (SPEC S1.2, S1.3): native delivery or the tenant's own mail
//! server, and "Test connection", which tests the values in the form before they are saved and
//! heads the page with the result and its transcript. Settings that are accepted but probably
//! not meant carry a warning that names the risk; a refused field has its error next to it.
//! The stored password is never sent back to the browser; an empty password field keeps it.
//! The page also holds the automatic DKIM key rotation's form (`key_rotation.rs`).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{DeliveryMode, RelaySettings, TlsMode};
use sealpost_service::{RelayForm, ServiceError};
use sealpost_views::relay::{ConnectionTestView, WarningView};
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::form_errors::{FieldErrors, Labels};
use crate::layout::Layout;
use crate::pages::key_rotation::RotationFields;
use crate::pages::{page_part, render, tenant_path};
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
    /// Native is chosen and own-mail-server settings are kept, unused.
    kept: bool,
    fields: RelayFields,
    /// (value, label, selected).
    tls_modes: Vec<(&'static str, &'static str, bool)>,
    notice: Option<&'static str>,
    errors: FieldErrors,
    warnings: Vec<WarningView>,
    test: Option<ConnectionTestView>,
    /// The test used a typed password that saving would need again.
    retype_password: bool,
    rotation: RotationFields,
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
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

/// The form's fields as the service names them, with the labels the form shows.
const LABELS: &Labels = &[
    ("host", "mail host"),
    ("port", "port"),
    ("username", "user name"),
    ("password", "password"),
    ("tls_mode", "TLS mode"),
    ("mode", "delivery mode"),
];

impl RelayFields {
    fn stored(relay: Option<&RelaySettings>) -> Self {
        match relay {
            Some(relay) => Self {
                host: relay.host.clone(),
                port: relay.port.to_string(),
                username: relay.username.clone(),
                use_ssl: relay.implicit_tls,
                tls_mode: relay.tls_mode.as_str().into(),
                password_set: relay.password_set,
            },
            None => Self {
                host: String::new(),
                port: "587".into(),
                username: String::new(),
                use_ssl: false,
                tls_mode: TlsMode::Opportunistic.as_str().into(),
                password_set: false,
            },
        }
    }

    fn typed(form: &SettingsForm, password_set: bool) -> Self {
        Self {
            host: form.host.clone(),
            port: form.port.clone(),
            username: form.username.clone(),
            use_ssl: form.use_ssl.is_some(),
            tls_mode: form.tls_mode.clone(),
            password_set,
        }
    }
}

impl SettingsForm {
    /// The relay settings of the form, or the port's error: the one field the page reads
    /// itself, because the service takes a number.
    fn relay(&self) -> Result<RelayForm<'_>, FieldErrors> {
        let port = self.port.trim().parse::<u16>().map_err(|_| {
            FieldErrors::field(
                "port",
                "Enter a port from 1 to 65535: usually 587, or 465 with \"Use SSL\"",
            )
        })?;
        Ok(RelayForm {
            host: &self.host,
            port,
            username: self.username.trim(),
            password: Some(self.password.as_str()).filter(|password| !password.is_empty()),
            implicit_tls: self.use_ssl.is_some(),
            tls_mode: &self.tls_mode,
        })
    }
}

/// What the page shows around the forms.
pub(crate) struct Outcome {
    pub(crate) status: StatusCode,
    pub(crate) notice: Option<&'static str>,
    pub(crate) errors: FieldErrors,
    pub(crate) test: Option<ConnectionTestView>,
    pub(crate) retype_password: bool,
    /// The rotation form as typed, when it was refused.
    pub(crate) rotation: Option<RotationFields>,
}

impl Outcome {
    pub(crate) fn plain(notice: Option<&'static str>) -> Self {
        Self {
            status: StatusCode::OK,
            notice,
            errors: FieldErrors::none(),
            test: None,
            retype_password: false,
            rotation: None,
        }
    }
}

/// The page with the stored settings, or with what the person typed (`typed`).
pub(crate) async fn page(
    state: &UiState,
    scope: &Scope,
    typed: Option<&SettingsForm>,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let relays = state.service.relays();
    let signing_domains = state.service.signing_domains();
    let tenant = scope.tenant.id;
    let (mode, kept, rotation) = tokio::try_join!(
        page_part(relays.delivery_mode(tenant)),
        page_part(relays.kept_relay(tenant)),
        page_part(signing_domains.key_rotation(tenant)),
    )?;
    let password_set = kept.as_ref().is_some_and(|relay| relay.password_set);
    let (relay_mode, fields) = match typed {
        Some(form) => (
            form.mode != "native",
            RelayFields::typed(form, password_set),
        ),
        None => (
            matches!(mode, DeliveryMode::Relay(_)),
            RelayFields::stored(kept.as_ref()),
        ),
    };
    let warnings = match (typed.map(SettingsForm::relay), &kept) {
        (Some(Ok(form)), _) => form
            .warnings(password_set)
            .into_iter()
            .map(WarningView::from)
            .collect(),
        (None, Some(relay)) => WarningView::of_relay(relay),
        _ => Vec::new(),
    };
    let page = SettingsPage {
        layout: Layout::tenant(scope, "/settings/email", "Client settings: E-mail"),
        action: format!("{}/settings/email", tenant_path(scope)),
        tls_modes: TLS_MODES
            .iter()
            .map(|(value, label)| (*value, *label, fields.tls_mode == *value))
            .collect(),
        kept: !relay_mode && kept.is_some(),
        relay_mode,
        fields,
        notice: outcome.notice,
        errors: outcome.errors,
        warnings,
        test: outcome.test,
        retype_password: outcome.retype_password,
        rotation: outcome
            .rotation
            .unwrap_or_else(|| RotationFields::stored(rotation)),
    };
    render(outcome.status, &page)
}

pub async fn show(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match query.notice.as_str() {
        "saved" => Some("The e-mail settings were saved."),
        "rotation" => Some("The key rotation setting was saved."),
        "native" => Some(
            "The e-mail settings were saved: the platform delivers your mail. Your own mail \
             server's settings are kept, unused, for when you switch back.",
        ),
        _ => None,
    };
    page(&state, &scope, None, Outcome::plain(notice)).await
}

pub async fn save(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    let tenant = scope.tenant.id;
    let relays = state.service.relays();
    let result = match (form.mode.as_str(), form.relay()) {
        ("native", _) => relays.set_native_delivery(tenant).await.map(|_| "native"),
        (_, Ok(relay)) => relays
            .set_relay_delivery(tenant, relay)
            .await
            .map(|_| "saved"),
        (_, Err(errors)) => return refused(&state, &scope, &form, errors).await,
    };
    match result {
        Ok(notice) => Ok(Redirect::to(&format!(
            "{}/settings/email?notice={notice}",
            tenant_path(&scope)
        ))
        .into_response()),
        Err(error @ ServiceError::Invalid { .. }) => {
            let (_, errors) = FieldErrors::of(&error, LABELS);
            refused(&state, &scope, &form, errors).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn refused(
    state: &UiState,
    scope: &Scope,
    form: &SettingsForm,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let outcome = Outcome {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors,
        ..Outcome::plain(None)
    };
    page(state, scope, Some(form), outcome).await
}

/// Tests the values in the form, saved or not: connect, TLS, AUTH, QUIT, with no mail sent.
/// The page comes back with what was typed, headed by the result.
pub async fn test(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    let relay = match form.relay() {
        Ok(relay) => relay,
        Err(errors) => return refused(&state, &scope, &form, errors).await,
    };
    let typed_password = relay.password.is_some();
    match state
        .service
        .relays()
        .test_relay_form(scope.tenant.id, relay)
        .await
    {
        Ok(test) => {
            let outcome = Outcome {
                test: Some(ConnectionTestView::from(&test)),
                retype_password: typed_password,
                ..Outcome::plain(None)
            };
            page(&state, &scope, Some(&form), outcome).await
        }
        Err(error @ ServiceError::Invalid { .. }) => {
            let (_, errors) = FieldErrors::of(&error, LABELS);
            refused(&state, &scope, &form, errors).await
        }
        Err(other) => Err(other.into()),
    }
}
