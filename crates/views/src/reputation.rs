//! A tenant's reputation (SPEC S10.5) as it leaves Sealpost: its figures and rates over the
//! window, the thresholds, and whether its sending is warned or paused, and why.

use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The tenant's bounce and complaint rates and its standing.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReputationView {
    /// Days back that count.
    pub window_days: i64,
    /// Recipients a receiving server accepted in the window.
    pub sent: u64,
    pub bounced: u64,
    pub complained: u64,
    pub bounce_rate: f64,
    pub complaint_rate: f64,
    /// `good`, `warning` or `paused`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(good|warning|paused)$"))]
    pub standing: &'static str,
    /// Why it is warned or paused.
    pub reason: Option<String>,
    /// Since when new mail is held (seconds since the Unix epoch).
    pub paused_at: Option<i64>,
    pub warn_bounce_rate: f64,
    pub pause_bounce_rate: f64,
    pub warn_complaint_rate: f64,
    pub pause_complaint_rate: f64,
    /// Delivered recipients below which no rate is judged.
    pub min_volume: u64,
}

impl From<&sealpost_service::Reputation> for ReputationView {
    fn from(reputation: &sealpost_service::Reputation) -> Self {
        let standing = &reputation.standing;
        let (word, reason) = match (&standing.paused_reason, &standing.reputation_warning) {
            (Some(reason), _) => ("paused", Some(reason.clone())),
            (None, Some(warning)) => ("warning", Some(warning.clone())),
            (None, None) => ("good", None),
        };
        let policy = &reputation.policy;
        Self {
            window_days: policy.window / 86_400,
            sent: reputation.figures.sent,
            bounced: reputation.figures.bounced,
            complained: reputation.figures.complained,
            bounce_rate: reputation.figures.bounce_rate(),
            complaint_rate: reputation.figures.complaint_rate(),
            standing: word,
            reason,
            paused_at: standing.sending_paused_at,
            warn_bounce_rate: policy.warn_bounce_rate,
            pause_bounce_rate: policy.pause_bounce_rate,
            warn_complaint_rate: policy.warn_complaint_rate,
            pause_complaint_rate: policy.pause_complaint_rate,
            min_volume: policy.min_volume,
        }
    }
}
