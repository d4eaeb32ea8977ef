//! The records beside DKIM on a signing domain's page (SPEC S11.2): each one the scheduled
//! re-check looked up (SPF, DMARC, the return path's MX and SPF), with its last result in words
//! and when it was checked.

use sealpost_domain::Timestamp;
use sealpost_views::signing_domains::RecordFindingView;

use crate::format;

/// One record's line.
pub struct RecordLine {
    /// `spf`, `dmarc`, `return_path_mx` or `return_path_spf`, for the element's id.
    pub kind: &'static str,
    pub class: &'static str,
    /// The badge: "found", "no answer", "to publish" or "lost".
    pub label: &'static str,
    /// The record's standing in one sentence.
    pub text: String,
    /// When the re-check looked, and since when the record has stood so.
    pub checked: String,
}

impl From<&RecordFindingView> for RecordLine {
    fn from(finding: &RecordFindingView) -> Self {
        // A record never found is advice to publish it; one found before and now gone is a
        // loss that counts against the domain's DNS state.
        let (class, label) = match (finding.outcome, finding.watched) {
            ("found", _) => ("ok", "found"),
            ("temporary_error", _) => ("wait", "no answer"),
            (_, false) => ("wait", "to publish"),
            (_, true) => ("bad", "lost"),
        };
        let mut checked = format!("Checked {}", format::time(Timestamp(finding.checked_at)));
        if let (Some(settled), Some(since)) = (finding.settled, finding.settled_since) {
            checked.push_str(&format!(
                "; {} since {}",
                settled,
                format::time(Timestamp(since))
            ));
        }
        checked.push('.');
        Self {
            kind: finding.kind,
            class,
            label,
            text: finding.summary.clone(),
            checked,
        }
    }
}
