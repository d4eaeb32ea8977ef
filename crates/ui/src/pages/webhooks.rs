//! Webhooks (SPEC S10.6): the tenant's endpoints with the events each receives and whether it is
//! on (with the platform's reason when it switched one off), the form that adds one, and each
//! endpoint's page with its delivery log. A signing secret is shown once, on the page that
//! answers its making (adding an endpoint, rotating its secret), never in an address and never
//! again. The actions on an endpoint are in `webhook_actions`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use sealpost_domain::{Timestamp, WebhookEndpoint};
use sealpost_service::ServiceError;
use sealpost_views::webhooks::WebhookDeliveryView;
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::form_errors::{FieldErrors, Labels, full_stop};
use crate::format;
use crate::layout::Layout;
use crate::pages::webhook_events::{self, Choice};
use crate::pages::{render, tenant_path};
use crate::session::Scope;

/// The add form's fields as the service names them, with the form's labels.
const ADD_LABELS: &Labels = &[("url", "address"), ("event_types", "events")];

/// An endpoint as both pages show it.
pub struct EndpointView {
    pub href: String,
    pub url: String,
    pub events: String,
    pub enabled: bool,
    /// Why the platform switched it off, as a sentence.
    pub disabled_reason: Option<String>,
    /// After a rotation: until when the old secret still signs beside the new one.
    pub previous_until: Option<String>,
}

impl EndpointView {
    fn new(base: &str, endpoint: &WebhookEndpoint) -> Self {
        Self {
            href: format!("{base}/webhooks/{}", endpoint.id),
            url: endpoint.url.clone(),
            events: webhook_events::summary(&endpoint.event_types),
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason.as_deref().map(full_stop),
            previous_until: endpoint.previous_until.map(format::time),
        }
    }
    /// The URL in pieces that each end in `/`, where the page may break the line: a URL is one
    /// long word, which a narrow column would otherwise break anywhere.
    pub fn url_parts(&self) -> Vec<&str> {
        self.url.split_inclusive('/').collect()
    }
}

/// A secret just made, shown this once.
pub struct NewSecret {
    pub secret: String,
    /// After a rotation: until when the old secret keeps signing.
    pub old_until: Option<String>,
}

/// An endpoint just added, with its secret.
struct Created {
    endpoint: EndpointView,
    secret: NewSecret,
}

/// One row of the delivery log.
struct DeliveryRow {
    id: i64,
    /// The event type's API name, for the row's `data-event`.
    event_name: String,
    event: String,
    state: String,
    state_class: &'static str,
    attempts: String,
    last_answer: String,
    at: String,
    /// Given up on, so it may be sent again.
    replayable: bool,
}

impl From<WebhookDeliveryView> for DeliveryRow {
    fn from(delivery: WebhookDeliveryView) -> Self {
        let (state, state_class) = match (delivery.state.as_str(), delivery.attempts) {
            ("delivered", _) => ("delivered".to_owned(), "ok"),
            ("failed", _) => ("given up".to_owned(), "bad"),
            ("pending", 0) => ("waiting to be sent".to_owned(), "wait"),
            ("pending", _) => (
                format!(
                    "trying again at {}",
                    format::time(Timestamp(delivery.next_attempt_at))
                ),
                "wait",
            ),
            (other, _) => (other.to_owned(), "muted"),
        };
        let last_answer = match delivery.last_status {
            None => "none yet".to_owned(),
            Some(code) if code.parse::<u16>().is_ok() => format!("HTTP {code}"),
            Some(reason) => reason,
        };
        Self {
            id: delivery.id,
            event: webhook_events::words_of_name(&delivery.event_type),
            event_name: delivery.event_type,
            state,
            state_class,
            attempts: delivery.attempts.to_string(),
            last_answer,
            at: format::time(Timestamp(delivery.event_at)),
            replayable: delivery.state == "failed",
        }
    }
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    layout: Layout,
    base: String,
    endpoints: Vec<EndpointView>,
    created: Option<Created>,
    notice: Option<&'static str>,
    url: String,
    groups: Vec<(&'static str, Vec<Choice>)>,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct EndpointPage {
    layout: Layout,
    list_href: String,
    endpoint: EndpointView,
    deliveries: Vec<DeliveryRow>,
    /// "1 event", "3 events".
    delivery_count: String,
    secret: Option<NewSecret>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

/// The add form. The event checkboxes arrive as repeated fields, which `axum::Form` cannot read
/// into a `Vec`, so the body is read as pairs.
#[derive(Default)]
struct AddForm {
    url: String,
    events: Vec<String>,
}

impl AddForm {
    fn read(body: &[u8]) -> Result<Self, PageError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
            PageError::Status(StatusCode::BAD_REQUEST, "The form could not be read.")
        })?;
        let mut form = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "url" => form.url = value,
                "event" => form.events.push(value),
                _ => {}
            }
        }
        Ok(form)
    }
}

/// What the list page shows besides the list.
#[derive(Default)]
struct ListShown {
    created: Option<Created>,
    notice: Option<&'static str>,
    form: AddForm,
    errors: FieldErrors,
}

async fn list_page(
    state: &UiState,
    scope: &Scope,
    status: StatusCode,
    shown: ListShown,
) -> Result<Response, PageError> {
    let base = tenant_path(scope);
    let endpoints = state
        .service
        .webhooks()
        .list_webhooks(scope.tenant.id)
        .await?
        .iter()
        .map(|endpoint| EndpointView::new(&base, endpoint))
        .collect();
    let page = ListPage {
        layout: Layout::tenant(scope, "/webhooks", "Webhooks"),
        base,
        endpoints,
        created: shown.created,
        notice: shown.notice,
        groups: webhook_events::choices(&shown.form.events),
        url: shown.form.url,
        errors: shown.errors,
    };
    render(status, &page)
}

pub async fn list(
    State(state): State<UiState>,
    scope: Scope,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = (query.notice == "deleted")
        .then_some("The endpoint was deleted with its log: no more events are sent to it.");
    let shown = ListShown {
        notice,
        ..ListShown::default()
    };
    list_page(&state, &scope, StatusCode::OK, shown).await
}

/// Adds an endpoint and answers with the list and the new secret, shown this once: the answer
/// to a POST is not kept by the browser, and the secret is never put in an address.
pub async fn create(
    State(state): State<UiState>,
    scope: Scope,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = AddForm::read(&body)?;
    match state
        .service
        .webhooks()
        .create_webhook(scope.tenant.id, &form.url, &form.events)
        .await
    {
        Ok(created) => {
            let endpoint = EndpointView::new(&tenant_path(&scope), &created.endpoint);
            let secret = NewSecret {
                secret: created.secret,
                old_until: None,
            };
            let shown = ListShown {
                created: Some(Created { endpoint, secret }),
                ..ListShown::default()
            };
            list_page(&state, &scope, StatusCode::OK, shown).await
        }
        Err(error @ ServiceError::Invalid { .. }) => {
            let (status, errors) = FieldErrors::of(&error, ADD_LABELS);
            let shown = ListShown {
                form,
                errors,
                ..ListShown::default()
            };
            list_page(&state, &scope, status, shown).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The sentence after an action on an endpoint, from the code in the redirect.
fn notice(code: &str) -> Option<&'static str> {
    match code {
        "on" => Some("The endpoint is on: events are sent to it again."),
        "off" => Some("The endpoint is off: events from now on are not sent to it."),
        "test" => Some(
            "A test event is on its way: it is in the log below, and your application receives \
             it once it is delivered.",
        ),
        "replayed" => Some("The event is sent again: the log below shows how it goes."),
        _ => None,
    }
}

/// What an endpoint's page shows besides the endpoint.
#[derive(Default)]
pub(crate) struct EndpointShown {
    pub notice: Option<&'static str>,
    pub error: Option<String>,
    pub secret: Option<NewSecret>,
}

pub(crate) async fn endpoint_page(
    state: &UiState,
    scope: &Scope,
    id: &str,
    status: StatusCode,
    shown: EndpointShown,
) -> Result<Response, PageError> {
    let webhooks = state.service.webhooks();
    let endpoint = webhooks.webhook(scope.tenant.id, id).await?;
    let deliveries: Vec<DeliveryRow> = webhooks
        .webhook_deliveries(scope.tenant.id, id)
        .await?
        .iter()
        .map(|record| DeliveryRow::from(WebhookDeliveryView::from(record)))
        .collect();
    let base = tenant_path(scope);
    let page = EndpointPage {
        layout: Layout::tenant(scope, "/webhooks", "Webhook endpoint"),
        list_href: format!("{base}/webhooks"),
        endpoint: EndpointView::new(&base, &endpoint),
        delivery_count: format::count(deliveries.len() as u64, ("event", "events")),
        deliveries,
        secret: shown.secret,
        notice: shown.notice,
        error: shown.error,
    };
    render(status, &page)
}

pub async fn show(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let shown = EndpointShown {
        notice: notice(&query.notice),
        ..EndpointShown::default()
    };
    endpoint_page(&state, &scope, &id, StatusCode::OK, shown).await
}

/// Makes a new secret and answers with the endpoint's page and the secret, shown this once; the
/// old secret keeps signing beside it until the time the page names.
pub async fn rotate(
    State(state): State<UiState>,
    scope: Scope,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let webhooks = state.service.webhooks();
    let secret = webhooks.rotate_webhook_secret(scope.tenant.id, &id).await?;
    let endpoint = webhooks.webhook(scope.tenant.id, &id).await?;
    let shown = EndpointShown {
        secret: Some(NewSecret {
            secret,
            old_until: endpoint.previous_until.map(format::time),
        }),
        ..EndpointShown::default()
    };
    endpoint_page(&state, &scope, &id, StatusCode::OK, shown).await
}
