//! A tenant's reputation (SPEC S10.5) in the UI: the banner on its dashboard when its sending is
//! warned or paused, its bounce and complaint rates, its standing on the operator's tenant
//! list, and the operator's "Resume sending". A GET of the resume address only leads back to
//! the tenant list, so following a link or reloading never resumes.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::TenantId;
use sealpost_service::{Service, ServiceError};
use sealpost_views::reputation::ReputationView;

use crate::UiState;
use crate::error::PageError;
use crate::format;
use crate::session::Scope;

/// "12.50 %", as the reasons the service writes show rates.
fn percent(rate: f64) -> String {
    format!("{:.2} %", rate * 100.0)
}

/// A rate with the counts behind it: "25.00 % (1 of 4 delivered)".
fn rate(rate: f64, count: u64, sent: u64) -> String {
    format!("{} ({count} of {sent} delivered)", percent(rate))
}

/// How a tenant stands, in the words its dashboard and the operator's tenant list use.
pub struct Standing {
    /// "sending normally", "warned", "sending paused".
    pub word: &'static str,
    /// The badge class of `word`.
    pub class: &'static str,
    /// The sentence at the top of the dashboard; none while the tenant stands well.
    pub banner: Option<String>,
    /// Why the tenant is warned or paused, for the operator.
    pub reason: Option<String>,
    pub paused: bool,
    pub bounces: String,
    pub complaints: String,
    /// When sending pauses, and from what volume rates are judged at all.
    pub limits: String,
}

impl Standing {
    pub fn of(view: &ReputationView) -> Self {
        let pauses_at = format!(
            "a bounce rate of {} or a complaint rate of {}",
            percent(view.pause_bounce_rate),
            percent(view.pause_complaint_rate)
        );
        let reason = view.reason.clone().unwrap_or_default();
        let (word, class, banner) = match view.standing {
            "paused" => (
                "sending paused",
                "bad",
                Some(format!(
                    "Sending is paused: the {reason}. New mail is accepted and held until the \
                     platform operator resumes it."
                )),
            ),
            "warning" => (
                "warned",
                "wait",
                Some(format!(
                    "Your sending may be paused soon: the {reason}. Mail still goes out; at \
                     {pauses_at}, new mail is held until the platform operator resumes it."
                )),
            ),
            _ => ("sending normally", "ok", None),
        };
        Self {
            word,
            class,
            banner,
            reason: view.reason.clone(),
            paused: view.standing == "paused",
            bounces: rate(view.bounce_rate, view.bounced, view.sent),
            complaints: rate(view.complaint_rate, view.complained, view.sent),
            limits: format!(
                "Over the last {} days. Sending pauses at {pauses_at}; below {} no rate is \
                 judged.",
                view.window_days,
                format::count(
                    view.min_volume,
                    ("delivered recipient", "delivered recipients")
                )
            ),
        }
    }

    pub async fn load(service: &Service, tenant: TenantId) -> Result<Self, PageError> {
        let reputation = service.feedback().reputation(tenant).await?;
        Ok(Self::of(&ReputationView::from(&reputation)))
    }
}

/// The sentence on the tenant list after a resume, from the code and tenant in the redirect.
pub fn notice(code: &str, tenant: &str) -> Option<String> {
    match code {
        "resumed" => Some(format!(
            "Sending resumed for {tenant}: its held mail goes out now."
        )),
        "not_paused" => Some(format!(
            "Sending for {tenant} was not paused: there was nothing to resume."
        )),
        _ => None,
    }
}

fn back(scope: &Scope, code: Option<&str>) -> Response {
    let query = code
        .map(|code| format!("?notice={code}&tenant={}", scope.tenant.name.as_str()))
        .unwrap_or_default();
    Redirect::to(&format!("/{query}")).into_response()
}

/// A GET of the resume address shows the tenant list and does nothing.
pub async fn to_tenants(scope: Scope) -> Result<Response, PageError> {
    match scope.is_operator() {
        true => Ok(back(&scope, None)),
        false => Err(PageError::NotFound),
    }
}

/// Resumes a paused tenant's sending; only an operator may, as through the API.
pub async fn resume(State(state): State<UiState>, scope: Scope) -> Result<Response, PageError> {
    if !scope.is_operator() {
        return Err(PageError::NotFound);
    }
    match state
        .service
        .feedback()
        .resume_sending(scope.tenant.id)
        .await
    {
        Ok(()) => Ok(back(&scope, Some("resumed"))),
        // Two clicks, or another operator was quicker: the tenant sends either way.
        Err(ServiceError::Conflict(_)) => Ok(back(&scope, Some("not_paused"))),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(standing: &'static str, reason: Option<&str>) -> ReputationView {
        ReputationView {
            window_days: 7,
            sent: 1000,
            bounced: 60,
            complained: 0,
            bounce_rate: 0.06,
            complaint_rate: 0.0,
            standing,
            reason: reason.map(str::to_owned),
            paused_at: None,
            warn_bounce_rate: 0.05,
            pause_bounce_rate: 0.10,
            warn_complaint_rate: 0.001,
            pause_complaint_rate: 0.003,
            min_volume: 200,
        }
    }

    #[test]
    fn a_warned_tenant_reads_why_and_when_sending_would_pause() {
        let reason =
            "bounce rate 6.00 % over the last 7 days is above 5.00 % (60 of 1000 delivered)";
        let standing = Standing::of(&view("warning", Some(reason)));
        assert_eq!(standing.word, "warned");
        assert!(!standing.paused);
        assert_eq!(
            standing.banner.as_deref(),
            Some(
                "Your sending may be paused soon: the bounce rate 6.00 % over the last 7 days is \
                 above 5.00 % (60 of 1000 delivered). Mail still goes out; at a bounce rate of \
                 10.00 % or a complaint rate of 0.30 %, new mail is held until the platform \
                 operator resumes it."
            )
        );
        assert_eq!(standing.bounces, "6.00 % (60 of 1000 delivered)");
    }

    #[test]
    fn a_tenant_in_good_standing_has_no_banner() {
        let standing = Standing::of(&view("good", None));
        assert_eq!(standing.word, "sending normally");
        assert_eq!(standing.banner, None);
        assert_eq!(
            standing.limits,
            "Over the last 7 days. Sending pauses at a bounce rate of 10.00 % or a complaint \
             rate of 0.30 %; below 200 delivered recipients no rate is judged."
        );
    }
}
