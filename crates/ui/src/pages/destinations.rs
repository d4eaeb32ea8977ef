//! The operator's destinations page (SPEC S12): every receiving provider or MX host a delivering
//! node sent to in the last minute, with its connections, limits, throttle state and the
//! recipients waiting for it, as `sealpost destinations` lists them.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use sealpost_domain::UserRole;
use sealpost_views::destinations::DestinationView;

use crate::UiState;
use crate::error::PageError;
use crate::layout::Layout;
use crate::pages::render;
use crate::session::Signed;

#[derive(Template)]
#[template(path = "destinations.html")]
struct DestinationsPage {
    layout: Layout,
    destinations: Vec<DestinationView>,
}

impl DestinationsPage {
    /// One line above the table: the thing an operator wants to know first.
    fn summary(&self) -> (&'static str, String) {
        let throttled = self
            .destinations
            .iter()
            .filter(|view| view.throttled())
            .count();
        match (self.destinations.len(), throttled) {
            (0, _) => (
                "",
                "No node has sent to any destination in the last minute.".to_owned(),
            ),
            (all, 0) => ("ok", format!("{all} {}, none throttled.", plural(all))),
            (all, throttled) => (
                "wait",
                format!(
                    "{throttled} of {all} {} backing off or resting after a throttling reply.",
                    plural(all)
                ),
            ),
        }
    }
}

fn plural(count: usize) -> &'static str {
    match count {
        1 => "destination",
        _ => "destinations",
    }
}

/// `/platform/destinations`, for operators only.
pub async fn show(
    State(state): State<UiState>,
    Signed { session }: Signed,
) -> Result<Response, PageError> {
    if session.user.role != UserRole::Operator {
        return Err(PageError::NotFound);
    }
    let reports = state.service.platform().destinations().await?;
    let page = DestinationsPage {
        layout: Layout::plain(&session, "Destinations"),
        destinations: reports.iter().map(DestinationView::from).collect(),
    };
    render(StatusCode::OK, &page)
}
