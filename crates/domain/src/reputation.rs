//! The tenant reputation guard (SPEC S10.5): a tenant's bounce and complaint rates over a rolling
//! window, judged against thresholds in the spirit of the mailbox providers' own (warn at 5 %
//! bounces or 0.1 % complaints, pause at 10 % or 0.3 %). Below a minimum volume nothing is
//! judged: two bounces out of ten messages say little. Pure: the figures come in, a standing
//! goes out.

/// The thresholds and the window; the operator may change them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReputationPolicy {
    /// Seconds back from now that count.
    pub window: i64,
    /// Delivered recipients in the window below which no rate is judged.
    pub min_volume: u64,
    pub warn_bounce_rate: f64,
    pub pause_bounce_rate: f64,
    pub warn_complaint_rate: f64,
    pub pause_complaint_rate: f64,
}

impl Default for ReputationPolicy {
    fn default() -> Self {
        Self {
            window: 7 * 86_400,
            min_volume: 200,
            warn_bounce_rate: 0.05,
            pause_bounce_rate: 0.10,
            warn_complaint_rate: 0.001,
            pause_complaint_rate: 0.003,
        }
    }
}

/// What happened to a tenant's mail in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendingFigures {
    /// Recipients a receiving server accepted (some bounced or complained later).
    pub sent: u64,
    /// Recipients that bounced after they were sent.
    pub bounced: u64,
    pub complained: u64,
}

impl SendingFigures {
    pub fn bounce_rate(&self) -> f64 {
        ratio(self.bounced, self.sent)
    }

    pub fn complaint_rate(&self) -> f64 {
        ratio(self.complained, self.sent)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    match whole {
        0 => 0.0,
        // Counts stay far below 2^52, where f64 is exact.
        _ => part as f64 / whole as f64,
    }
}

/// How a tenant stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    Good,
    /// Over a warning threshold: the tenant is told, mail flows.
    Warning(String),
    /// Over a pause threshold: new mail is accepted and held until an operator resumes it.
    Pause(String),
}

fn percent(rate: f64) -> String {
    format!("{:.2} %", rate * 100.0)
}

/// The standing the figures earn.
pub fn judge(figures: SendingFigures, policy: &ReputationPolicy) -> Standing {
    if figures.sent < policy.min_volume {
        return Standing::Good;
    }
    let bounces = figures.bounce_rate();
    let complaints = figures.complaint_rate();
    let days = policy.window / 86_400;
    let over = |rate: f64, limit: f64, what: &str| {
        format!(
            "{what} rate {} over the last {days} days is above {} ({} of {} delivered)",
            percent(rate),
            percent(limit),
            match what {
                "bounce" => figures.bounced,
                _ => figures.complained,
            },
            figures.sent
        )
    };
    if bounces >= policy.pause_bounce_rate {
        return Standing::Pause(over(bounces, policy.pause_bounce_rate, "bounce"));
    }
    if complaints >= policy.pause_complaint_rate {
        return Standing::Pause(over(complaints, policy.pause_complaint_rate, "complaint"));
    }
    if bounces >= policy.warn_bounce_rate {
        return Standing::Warning(over(bounces, policy.warn_bounce_rate, "bounce"));
    }
    if complaints >= policy.warn_complaint_rate {
        return Standing::Warning(over(complaints, policy.warn_complaint_rate, "complaint"));
    }
    Standing::Good
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(sent: u64, bounced: u64, complained: u64, expect: &str) {
        let figures = SendingFigures {
            sent,
            bounced,
            complained,
        };
        let standing = judge(figures, &ReputationPolicy::default());
        let found = match &standing {
            Standing::Good => "good",
            Standing::Warning(_) => "warning",
            Standing::Pause(_) => "pause",
        };
        assert_eq!(found, expect, "{standing:?}");
    }

    #[test]
    fn thresholds_judge_only_enough_volume() {
        check(199, 100, 100, "good");
        check(1000, 49, 0, "good");
        check(1000, 50, 0, "warning");
        check(1000, 99, 0, "warning");
        check(1000, 100, 0, "pause");
        check(10_000, 0, 9, "good");
        check(10_000, 0, 10, "warning");
        check(10_000, 0, 30, "pause");
        check(0, 0, 0, "good");
    }

    #[test]
    fn the_reason_names_the_rate_and_the_counts() {
        let figures = SendingFigures {
            sent: 1000,
            bounced: 120,
            complained: 0,
        };
        let Standing::Pause(reason) = judge(figures, &ReputationPolicy::default()) else {
            panic!("not paused");
        };
        assert_eq!(
            reason,
            "bounce rate 12.00 % over the last 7 days is above 10.00 % (120 of 1000 delivered)"
        );
    }
}
