//! What spamd's answer to `REPORT` says about a message: the verdict, the scores and the rules
//! hit, as the rest of Sealpost sees them.

/// How spamd judged a message: the verdict and score from the `Spam` header and the rules from
/// the report table.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamReport {
    /// The total score; SpamAssassin adds the scores of all rules hit.
    pub score: f32,
    /// The score from which spamd calls a message spam (`required_score`, 5.0 by default).
    pub threshold: f32,
    /// spamd's own verdict, taken as given rather than recomputed from score and threshold, so
    /// that it always matches what a filter using the same spamd would decide.
    pub is_spam: bool,
    /// Every rule hit, in the order of spamd's report.
    pub rules: Vec<SpamRule>,
}

/// One SpamAssassin rule that a message hit.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamRule {
    /// The rule's name, e.g. `MISSING_DATE`, which is what SpamAssassin's documentation and
    /// forums are searched by.
    pub name: String,
    /// The rule's score as printed in the report: one decimal, or none at all for scores of 10
    /// and more (spamd prints `1000` for GTUBE), so the rule scores need not add up exactly to
    /// the total.
    pub score: f32,
    /// The rule's description in one line; spamd's wrapped continuation lines and the bracketed
    /// details some rules log (such as `[URIs: example.com]`) are joined with single spaces.
    pub description: String,
}
