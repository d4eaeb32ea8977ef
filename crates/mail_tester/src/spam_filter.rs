//! A spam filter's verdict folded into the report (SPEC S7.1): SpamAssassin's score against its
//! threshold, with the rules that hit, as one check and at most one problem. The filter is asked
//! elsewhere; this module only judges its answer.

use crate::rules::{SPAM_FILTER_HIGH, SPAM_FILTER_SPAM, SPAM_FILTER_UNAVAILABLE};
use crate::{Check, Problem, Report, Status};

/// What the spam filter said.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamVerdict {
    pub score: f32,
    pub threshold: f32,
    /// Each rule that hit: name, points, description.
    pub rules: Vec<(String, f32, String)>,
}

impl Report {
    /// Adds the spam filter's verdict, or why there is none, and lowers the scores by the
    /// problem's penalty.
    pub fn add_spam_filter(&mut self, verdict: Result<SpamVerdict, String>) {
        let verdict = match verdict {
            Ok(verdict) => verdict,
            Err(error) => {
                self.checks.push(Check {
                    name: "spam_filter",
                    status: Status::Info,
                    found: format!("SpamAssassin could not be asked: {error}"),
                });
                self.push(Problem {
                    severity: SPAM_FILTER_UNAVAILABLE.severity,
                    code: SPAM_FILTER_UNAVAILABLE.code,
                    found: format!("The spam filter gave no score: {error}."),
                    fix: "Nothing to change in the message; the operator should check spamd."
                        .to_owned(),
                    matters_for: SPAM_FILTER_UNAVAILABLE.matters_for,
                    penalty: SPAM_FILTER_UNAVAILABLE.penalty,
                });
                return;
            }
        };
        let mut hits: Vec<&(String, f32, String)> = verdict
            .rules
            .iter()
            .filter(|(_, points, _)| *points > 0.0)
            .collect();
        hits.sort_by(|a, b| b.1.total_cmp(&a.1));
        let listed = hits
            .iter()
            .map(|(name, points, description)| format!("{name} ({points:+.1}: {description})"))
            .collect::<Vec<_>>()
            .join("; ");
        let summary = format!(
            "SpamAssassin score {:.1} against a threshold of {:.1}",
            verdict.score, verdict.threshold
        );
        let found = if listed.is_empty() {
            summary.clone()
        } else {
            format!("{summary}; rules that added points: {listed}")
        };
        let (status, rule) = if verdict.score >= verdict.threshold {
            (Status::Fail, Some(SPAM_FILTER_SPAM))
        } else if verdict.score >= verdict.threshold / 2.0 {
            (Status::Warning, Some(SPAM_FILTER_HIGH))
        } else {
            (Status::Pass, None)
        };
        self.checks.push(Check {
            name: "spam_filter",
            status,
            found: found.clone(),
        });
        if let Some(rule) = rule {
            self.push(Problem {
                severity: rule.severity,
                code: rule.code,
                found,
                fix: "Remove what the listed rules react to, starting with the highest points; \
                      SpamAssassin's rule names are documented at spamassassin.apache.org."
                    .to_owned(),
                matters_for: rule.matters_for,
                penalty: rule.penalty,
            });
        }
    }

    fn push(&mut self, problem: Problem) {
        if problem.matters_for == crate::Audience::Application {
            self.score = (self.score - problem.penalty).max(0.0);
        }
        self.newsletter_score = (self.newsletter_score - problem.penalty).max(0.0);
        self.problems.push(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::SpamVerdict;
    use crate::{Report, Status};

    fn clean() -> Report {
        Report {
            score: 10.0,
            newsletter_score: 9.0,
            problems: Vec::new(),
            checks: Vec::new(),
        }
    }

    fn verdict(score: f32) -> SpamVerdict {
        SpamVerdict {
            score,
            threshold: 5.0,
            rules: vec![
                (
                    "MISSING_DATE".to_owned(),
                    1.4,
                    "Missing Date: header".to_owned(),
                ),
                ("NO_RECEIVED".to_owned(), -0.0, "Informational".to_owned()),
            ],
        }
    }

    #[test]
    fn spam_costs_three_points_and_names_the_rules() {
        let mut report = clean();
        report.add_spam_filter(Ok(verdict(6.0)));
        assert!(report.has("spam_filter_spam"));
        assert_eq!(report.score, 7.0);
        assert_eq!(report.newsletter_score, 6.0);
        assert_eq!(report.checks[0].status, Status::Fail);
        assert!(report.checks[0].found.contains("MISSING_DATE (+1.4"));
        assert!(!report.checks[0].found.contains("NO_RECEIVED"));
    }

    #[test]
    fn a_high_score_warns_and_a_low_one_passes() {
        let mut report = clean();
        report.add_spam_filter(Ok(verdict(3.0)));
        assert!(report.has("spam_filter_high"));
        assert_eq!(report.score, 9.0);
        let mut report = clean();
        report.add_spam_filter(Ok(verdict(0.5)));
        assert!(report.problems.is_empty());
        assert_eq!(report.checks[0].status, Status::Pass);
    }

    #[test]
    fn an_unreachable_filter_is_said_and_costs_nothing() {
        let mut report = clean();
        report.add_spam_filter(Err("spamd refused the connection".to_owned()));
        assert!(report.has("spam_filter_unavailable"));
        assert_eq!(report.score, 10.0);
    }
}
