//! The start page: an operator's list of tenants with how each one's sending stands, and each
//! tenant's dashboard with a banner when its sending is warned or paused, and tiles for its
//! settings, the setup status of each signing domain, recent mailings, the last 24 hours of
//! delivery and its bounce and complaint rates.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{DeliveryMode, Tenant, UserRole};
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::format;
use crate::layout::Layout;
use crate::pages::reputation::{self, Standing};
use crate::pages::tenant_deletion;
use crate::pages::{domains::DomainRow, mailings::MailingRow, page_part, render, tenant_path};
use crate::session::{Scope, Signed};

/// How many recent mailings the dashboard tile shows.
const RECENT: u32 = 5;
/// The window of the delivery figures, in seconds.
const FIGURES_SECONDS: i64 = 24 * 60 * 60;

#[derive(Template)]
#[template(path = "tenants.html")]
struct TenantsPage {
    layout: Layout,
    tenants: Vec<TenantRow>,
    notice: Option<String>,
}

/// A tenant on the operator's list, with how its sending stands.
struct TenantRow {
    tenant: Tenant,
    standing: Standing,
}

#[derive(Debug, Deserialize)]
pub struct TenantsQuery {
    /// What the operator just did (`resumed`), and to which tenant.
    #[serde(default)]
    notice: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
}

pub struct Figure {
    pub label: &'static str,
    pub count: i64,
    pub class: &'static str,
    /// The messages behind the figure: those of the same 24 hours with a recipient in this
    /// state.
    pub href: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    base: String,
    tenant: Tenant,
    delivery: String,
    domains: Vec<DomainRow>,
    mailings: Vec<MailingRow>,
    figures: Vec<Figure>,
    /// "12 recipients" in the last 24 hours.
    total: String,
    standing: Standing,
}

/// `/`: a tenant administrator goes to their tenant; an operator picks one.
pub async fn home(
    State(state): State<UiState>,
    Signed { session }: Signed,
    Query(query): Query<TenantsQuery>,
) -> Result<Response, PageError> {
    match session.user.role {
        UserRole::TenantAdmin(tenant) => {
            let tenant = state.service.accounts().tenant(tenant).await?;
            Ok(Redirect::to(&format!("/t/{}", tenant.name.as_str())).into_response())
        }
        UserRole::Operator => {
            let mut tenants = Vec::new();
            for tenant in state.service.accounts().list_tenants().await? {
                let standing = Standing::load(&state.service, tenant.id).await?;
                tenants.push(TenantRow { tenant, standing });
            }
            let notice = match (&query.notice, &query.tenant) {
                // A deleted tenant is no longer on the list; its name comes from the query.
                (Some(code), Some(name))
                    if code == "deleted"
                        && !tenants.iter().any(|row| row.tenant.name.as_str() == name) =>
                {
                    tenant_deletion::notice(code, name)
                }
                (Some(code), Some(name)) => tenants
                    .iter()
                    .find(|row| row.tenant.name.as_str() == name)
                    .and_then(|row| {
                        reputation::notice(code, &row.tenant.display_name)
                            .or_else(|| tenant_deletion::notice(code, row.tenant.name.as_str()))
                    }),
                _ => None,
            };
            let page = TenantsPage {
                layout: Layout::plain(&session, "Tenants"),
                tenants,
                notice,
            };
            render(StatusCode::OK, &page)
        }
    }
}

pub fn delivery_summary(mode: &DeliveryMode) -> String {
    match mode {
        DeliveryMode::Native => "Native: the platform delivers, with retries for 24 hours".into(),
        DeliveryMode::Relay(relay) => {
            format!(
                "Own mail server {}:{} (failed sends are not retried)",
                relay.host, relay.port
            )
        }
    }
}

pub async fn show(State(state): State<UiState>, scope: Scope) -> Result<Response, PageError> {
    let service = &state.service;
    let tenant = scope.tenant.id;
    let base = tenant_path(&scope);
    // Each part of the page is read on its own: they run at once, so the page waits for the
    // slowest read rather than the sum of them.
    let (signing_domains, all_mailings, messages, relays) = (
        service.signing_domains(),
        service.mailings(),
        service.messages(),
        service.relays(),
    );
    let (domains, mailings, figures, delivery, standing) = tokio::try_join!(
        page_part(signing_domains.list_signing_domains(tenant)),
        page_part(all_mailings.list_mailings(tenant, RECENT)),
        page_part(messages.delivery_figures(tenant, FIGURES_SECONDS)),
        page_part(relays.delivery_mode(tenant)),
        Standing::load(service, tenant),
    )?;
    let domains = domains
        .iter()
        .map(|domain| DomainRow::new(&base, domain))
        .collect();
    let mailings = mailings
        .iter()
        .map(|status| MailingRow::new(&base, status))
        .collect();
    let total: i64 = figures.counts.iter().map(|(_, count)| count).sum();
    let total = format::count(total.unsigned_abs(), ("recipient", "recipients"));
    let figures = figures
        .counts
        .into_iter()
        .map(|(state, count)| Figure {
            label: state.as_str(),
            count,
            class: format::state_class(state),
            href: format!(
                "{base}/messages?state={}&since={}",
                state.as_str(),
                figures.since.0
            ),
        })
        .collect();
    let page = DashboardPage {
        layout: Layout::tenant(&scope, "", "Dashboard"),
        delivery: delivery_summary(&delivery),
        tenant: scope.tenant.clone(),
        base,
        domains,
        mailings,
        figures,
        total,
        standing,
    };
    render(StatusCode::OK, &page)
}
