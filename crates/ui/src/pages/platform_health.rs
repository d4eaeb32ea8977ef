//! The operator's platform health page: what `sealpost doctor` reports (reverse DNS, the SPF
//! include, the platform's DKIM record, the certificate, the database, the master key), with a
//! fix beside each problem. The outbound SMTP probe connects to a remote server and may take
//! seconds, so it runs only when the operator asks for it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use sealpost_domain::UserRole;
use sealpost_service::platform::Reach;
use sealpost_views::platform::{CheckView, PlatformHealthView};
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::layout::Layout;
use crate::pages::render;
use crate::session::Signed;

#[derive(Template)]
#[template(path = "platform_health.html")]
struct HealthPage {
    layout: Layout,
    health: PlatformHealthView,
    outbound: bool,
}

impl HealthPage {
    fn summary(&self) -> (&'static str, &'static str) {
        match self.health.verdict {
            "green" => ("ok", "The platform is green: nothing to fix."),
            "to_fix" => (
                "bad",
                "Something must be fixed: see the fix beside each problem.",
            ),
            _ => (
                "wait",
                "Some checks could not be made (a DNS or database failure); check again later.",
            ),
        }
    }
}

/// The badge class of a check's status.
fn class(check: &CheckView) -> &'static str {
    match check.status {
        "pass" => "ok",
        "fail" => "bad",
        "warn" | "unknown" => "wait",
        _ => "",
    }
}

#[derive(Debug, Deserialize)]
pub struct HealthQuery {
    /// Present (`outbound=1`): include the outbound SMTP probe.
    #[serde(default)]
    outbound: Option<String>,
}

/// `/platform/health`, for operators only.
pub async fn show(
    State(state): State<UiState>,
    Signed { session }: Signed,
    Query(query): Query<HealthQuery>,
) -> Result<Response, PageError> {
    if session.user.role != UserRole::Operator {
        return Err(PageError::NotFound);
    }
    let outbound = query.outbound.is_some();
    let reach = match outbound {
        true => Reach::Online,
        false => Reach::Offline,
    };
    let health = state.service.platform().health(reach).await;
    let page = HealthPage {
        layout: Layout::plain(&session, "Platform health"),
        health: PlatformHealthView::from(&health),
        outbound,
    };
    render(StatusCode::OK, &page)
}
