//! `check_host()` (RFC 7208 sections 4 to 6): the record lookup, the mechanisms, `include` and
//! `redirect`, the processing limits of section 4.6.4 and the explanation, recording each step.

use std::future::Future;
use std::pin::Pin;

use sealpost_dns::{LookupError, TxtRecord};

use crate::spf::macros::{Context, MacroString, Values};
use crate::spf::parse::{self, Directive, Mechanism, Modifier, Record};
use crate::spf::{SpfDns, SpfOutcome, SpfRequest, SpfResult, StepKind, StepOutcome, TraceStep};

/// Terms that query DNS, per evaluation (section 4.6.4).
const MAX_LOOKUPS: usize = 10;

/// Lookups that find nothing, per evaluation (section 4.6.4, the recommended default).
const MAX_VOID_LOOKUPS: usize = 2;

/// MX names one `mx` may look at, and PTR names one `ptr` or `%{p}` may look at (section 4.6.4).
const MAX_NAMES: usize = 10;

mod lookup;

/// Evaluates `check_host()` for `request`: the result, why, the explanation on `fail`, the
/// counters of the limits and the trace.
pub async fn check_host(dns: &impl SpfDns, request: &SpfRequest) -> SpfOutcome {
    Evaluation::new(dns, request, Mode::Check).run().await
}

/// Evaluates the request's domain as for an address that no mechanism matches, which walks every
/// term a receiver may reach: the worst case of the lookup counters, and every error on the way.
pub(crate) async fn walk(dns: &impl SpfDns, request: &SpfRequest) -> SpfOutcome {
    Evaluation::new(dns, request, Mode::Walk).run().await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Walk,
}

/// What ends an evaluation early: `temperror` or `permerror`, with the reason.
#[derive(Debug)]
enum Stop {
    Temporary(String),
    Permanent(String),
}

impl Stop {
    fn result(&self) -> SpfResult {
        match self {
            Self::Temporary(_) => SpfResult::TempError,
            Self::Permanent(_) => SpfResult::PermError,
        }
    }

    fn message(&self) -> &str {
        match self {
            Self::Temporary(message) | Self::Permanent(message) => message,
        }
    }

    /// The outcome of the step that stopped the evaluation.
    fn outcome(&self) -> StepOutcome {
        StepOutcome::Error {
            result: self.result(),
            message: self.message().to_owned(),
        }
    }
}

/// The result of evaluating one domain's record.
struct Verdict {
    result: SpfResult,
    reason: String,
    /// The `exp=` of the record whose mechanism gave `fail`.
    explanation: Option<Explanation>,
}

struct Explanation {
    modifier: Modifier,
    domain: String,
    depth: usize,
}

struct Evaluation<'a, D> {
    dns: &'a D,
    request: &'a SpfRequest,
    mode: Mode,
    lookups: usize,
    void_lookups: usize,
    trace: Vec<TraceStep>,
}

impl<'a, D: SpfDns> Evaluation<'a, D> {
    fn new(dns: &'a D, request: &'a SpfRequest, mode: Mode) -> Self {
        Self {
            dns,
            request,
            mode,
            lookups: 0,
            void_lookups: 0,
            trace: Vec::new(),
        }
    }

    async fn run(mut self) -> SpfOutcome {
        let domain = self.request.domain.clone();
        let verdict = match malformed(&domain) {
            Some(reason) => Ok(Verdict {
                result: SpfResult::None,
                reason,
                explanation: None,
            }),
            None => self.check_domain(domain, 0).await,
        };
        let (result, reason, explanation) = match verdict {
            Ok(verdict) => {
                let explanation = match (verdict.explanation, self.mode) {
                    (Some(explanation), Mode::Check) => self.explain(explanation).await,
                    _ => None,
                };
                (verdict.result, verdict.reason, explanation)
            }
            Err(stop) => (stop.result(), stop.message().to_owned(), None),
        };
        SpfOutcome {
            result,
            reason,
            explanation,
            lookups: self.lookups,
            void_lookups: self.void_lookups,
            trace: self.trace,
        }
    }

    /// Evaluates the record of `domain`, following `redirect=` as the tail call it is. Boxed
    /// because `include` recurses into it.
    fn check_domain<'s>(
        &'s mut self,
        domain: String,
        depth: usize,
    ) -> Pin<Box<dyn Future<Output = Result<Verdict, Stop>> + Send + 's>> {
        Box::pin(async move {
            let mut domain = domain;
            let mut depth = depth;
            let mut redirected = false;
            loop {
                let Some(record) = self.fetch_record(&domain, depth).await? else {
                    // A redirect to a domain without a record is an error in the record that
                    // redirects (section 6.1).
                    return match redirected {
                        true => Err(Stop::Permanent(format!(
                            "the redirect target {domain} has no SPF record"
                        ))),
                        false => Ok(Verdict {
                            result: SpfResult::None,
                            reason: format!("{domain} has no SPF record"),
                            explanation: None,
                        }),
                    };
                };
                for directive in &record.directives {
                    if self.evaluate(directive, &domain, depth).await? {
                        let result = directive.qualifier.result();
                        let explanation = match result {
                            SpfResult::Fail => record.explanation.clone(),
                            _ => None,
                        };
                        return Ok(Verdict {
                            result,
                            reason: format!(
                                "{} in the SPF record of {domain} matched",
                                directive.text
                            ),
                            explanation: explanation.map(|modifier| Explanation {
                                modifier,
                                domain: domain.clone(),
                                depth,
                            }),
                        });
                    }
                }
                let Some(redirect) = &record.redirect else {
                    return Ok(Verdict {
                        result: SpfResult::Neutral,
                        reason: format!(
                            "no mechanism in the SPF record of {domain} matched, so the result \
                             is neutral"
                        ),
                        explanation: None,
                    });
                };
                domain = self.follow_redirect(redirect, &domain, depth).await?;
                depth += 1;
                redirected = true;
            }
        })
    }

    /// The one SPF record of `domain`, `None` when it has none (section 4.5).
    async fn fetch_record(&mut self, domain: &str, depth: usize) -> Result<Option<Record>, Stop> {
        let step = self.begin(depth, domain, StepKind::Record, String::new(), false);
        let answer = self.dns.txt(domain).await;
        self.note(step, "TXT", domain, &answer, txt_text, false)?;
        let records = match answer {
            Ok(records) => records,
            Err(LookupError::Temporary(message)) => {
                return Err(self.fail(step, temporary("TXT", domain, &message)));
            }
            Err(LookupError::NxDomain | LookupError::NoData) => Vec::new(),
        };
        let spf: Vec<Vec<u8>> = records
            .iter()
            .map(TxtRecord::joined)
            .filter(|text| parse::is_spf_record(text))
            .collect();
        let [text] = spf.as_slice() else {
            if spf.is_empty() {
                self.trace[step].outcome = StepOutcome::NotFound;
                return Ok(None);
            }
            let message = format!(
                "{domain} has {} SPF records; there must be only one",
                spf.len()
            );
            return Err(self.fail(step, Stop::Permanent(message)));
        };
        self.trace[step].text = String::from_utf8_lossy(text).into_owned();
        match parse::parse(text) {
            Ok(record) => {
                self.trace[step].outcome = StepOutcome::Found;
                Ok(Some(record))
            }
            Err(error) => {
                let message = format!("syntax error in the SPF record of {domain}: {error}");
                Err(self.fail(step, Stop::Permanent(message)))
            }
        }
    }

    /// Evaluates one directive and records whether it matched.
    async fn evaluate(
        &mut self,
        directive: &Directive,
        domain: &str,
        depth: usize,
    ) -> Result<bool, Stop> {
        let counts = directive.mechanism.queries_dns();
        let step = self.begin(
            depth,
            domain,
            StepKind::Mechanism,
            directive.text.clone(),
            counts,
        );
        let allowed = match counts {
            true => self.count_lookup(),
            false => Ok(()),
        };
        let matched = match allowed {
            Ok(()) => {
                self.mechanism(&directive.mechanism, domain, depth, step)
                    .await
            }
            Err(stop) => Err(stop),
        };
        self.trace[step].outcome = match &matched {
            Ok(true) => StepOutcome::Matched,
            Ok(false) => StepOutcome::NotMatched,
            Err(stop) => stop.outcome(),
        };
        matched
    }

    async fn mechanism(
        &mut self,
        mechanism: &Mechanism,
        domain: &str,
        depth: usize,
        step: usize,
    ) -> Result<bool, Stop> {
        let ip = self.request.ip;
        match mechanism {
            Mechanism::All => Ok(true),
            Mechanism::Ip(network) => Ok(self.matches() && network.contains(ip)),
            Mechanism::A { domain: spec, cidr } => {
                let target = self.target(spec.as_ref(), domain, step).await?;
                self.a(step, &target, *cidr).await
            }
            Mechanism::Mx { domain: spec, cidr } => {
                let target = self.target(spec.as_ref(), domain, step).await?;
                self.mx(step, &target, *cidr).await
            }
            Mechanism::Ptr(spec) => {
                let target = self.target(spec.as_ref(), domain, step).await?;
                self.ptr(step, &target).await
            }
            Mechanism::Exists(spec) => {
                let target = self.target(Some(spec), domain, step).await?;
                let answer = self.dns.a(&target).await;
                self.note(step, "A", &target, &answer, ToString::to_string, true)?;
                match answer {
                    Ok(_) => Ok(self.matches()),
                    Err(LookupError::Temporary(message)) => Err(temporary("A", &target, &message)),
                    Err(LookupError::NxDomain | LookupError::NoData) => Ok(false),
                }
            }
            Mechanism::Include(spec) => {
                let target = self.target(Some(spec), domain, step).await?;
                let verdict = self.check_domain(target.clone(), depth + 1).await?;
                // Only a pass matches; the other results of the included record do not
                // (section 5.2), and a missing record is the including record's error.
                match verdict.result {
                    SpfResult::Pass => Ok(true),
                    SpfResult::None => Err(Stop::Permanent(format!(
                        "the included domain {target} has no SPF record"
                    ))),
                    _ => Ok(false),
                }
            }
        }
    }

    /// Counts `redirect=` as a lookup and expands its target.
    async fn follow_redirect(
        &mut self,
        redirect: &Modifier,
        domain: &str,
        depth: usize,
    ) -> Result<String, Stop> {
        let step = self.begin(
            depth,
            domain,
            StepKind::Redirect,
            redirect.text.clone(),
            true,
        );
        let target = match self.count_lookup() {
            Ok(()) => self.target(Some(&redirect.target), domain, step).await,
            Err(stop) => Err(stop),
        };
        match target {
            Ok(target) => {
                self.trace[step].outcome = StepOutcome::Followed;
                Ok(target)
            }
            Err(stop) => Err(self.fail(step, stop)),
        }
    }

    /// The explanation of a `fail` (section 6.2). Any problem makes it absent, as if there were
    /// no `exp=`; its lookups count against no limit.
    async fn explain(&mut self, explanation: Explanation) -> Option<String> {
        let Explanation {
            modifier,
            domain,
            depth,
        } = explanation;
        let step = self.begin(depth, &domain, StepKind::Explanation, modifier.text, false);
        match self.explanation_text(step, &modifier.target, &domain).await {
            Ok(text) => {
                self.trace[step].outcome = StepOutcome::Explained(text.clone());
                Some(text)
            }
            Err(reason) => {
                self.trace[step].outcome = StepOutcome::Ignored(reason);
                None
            }
        }
    }

    async fn explanation_text(
        &mut self,
        step: usize,
        spec: &MacroString,
        domain: &str,
    ) -> Result<String, String> {
        let target = self
            .target(Some(spec), domain, step)
            .await
            .map_err(|stop| stop.message().to_owned())?;
        let answer = self.dns.txt(&target).await;
        self.note(step, "TXT", &target, &answer, txt_text, false)
            .map_err(|stop| stop.message().to_owned())?;
        let records = answer.map_err(|error| format!("the TXT lookup of {target}: {error}"))?;
        let [record] = records.as_slice() else {
            return Err(format!(
                "{target} has {} TXT records; an explanation needs exactly one",
                records.len()
            ));
        };
        let text = String::from_utf8(record.joined())
            .ok()
            .filter(|text| text.is_ascii())
            .ok_or_else(|| format!("the explanation at {target} is not ASCII"))?;
        let explanation = MacroString::parse(&text, Context::Explanation)
            .map_err(|reason| format!("the explanation {text:?} is not valid: {reason}"))?;
        let validated = match explanation.uses_validated_name() {
            true => Some(
                self.validated_name(step, domain)
                    .await
                    .map_err(|stop| stop.message().to_owned())?,
            ),
            false => None,
        };
        Ok(explanation.expand(&self.values(domain, validated.as_deref())))
    }

    /// The name a mechanism or modifier queries: its expanded domain-spec, or the current domain.
    async fn target(
        &mut self,
        spec: Option<&MacroString>,
        domain: &str,
        step: usize,
    ) -> Result<String, Stop> {
        let Some(spec) = spec else {
            return Ok(domain.to_owned());
        };
        let validated = match spec.uses_validated_name() {
            true => Some(self.validated_name(step, domain).await?),
            false => None,
        };
        Ok(spec.expand_domain(&self.values(domain, validated.as_deref())))
    }

    fn values<'v>(&'v self, domain: &'v str, validated_name: Option<&'v str>) -> Values<'v> {
        Values {
            sender: &self.request.sender,
            local_part: &self.request.local_part,
            sender_domain: &self.request.domain,
            domain,
            ip: self.request.ip,
            validated_name,
            helo: &self.request.helo,
            receiver: &self.request.receiver,
            now: self.request.now.0,
        }
    }

    /// Whether address-dependent mechanisms may match; never in a walk.
    fn matches(&self) -> bool {
        self.mode == Mode::Check
    }

    fn count_lookup(&mut self) -> Result<(), Stop> {
        self.lookups += 1;
        match self.lookups > MAX_LOOKUPS {
            true => Err(Stop::Permanent(format!(
                "more than {MAX_LOOKUPS} DNS lookups (include, a, mx, ptr, exists, redirect), \
                 the limit of RFC 7208"
            ))),
            false => Ok(()),
        }
    }

    /// Starts a step; every caller sets its outcome when the step ends.
    fn begin(
        &mut self,
        depth: usize,
        domain: &str,
        kind: StepKind,
        text: String,
        counts_lookup: bool,
    ) -> usize {
        self.trace.push(TraceStep {
            depth,
            domain: domain.to_owned(),
            kind,
            text,
            counts_lookup,
            queries: Vec::new(),
            outcome: StepOutcome::NotMatched,
        });
        self.trace.len() - 1
    }

    /// Marks the step as the one that stopped the evaluation.
    fn fail(&mut self, step: usize, stop: Stop) -> Stop {
        self.trace[step].outcome = stop.outcome();
        stop
    }
}

/// Why `domain` cannot be checked at all (section 4.3): the result is then `none`.
fn malformed(domain: &str) -> Option<String> {
    let name = domain.strip_suffix('.').unwrap_or(domain);
    if name.starts_with('[') {
        return Some(format!(
            "{domain:?} is an address literal, not a domain name"
        ));
    }
    let labels: Vec<&str> = name.split('.').collect();
    let well_formed = !name.is_empty()
        && name.len() <= 253
        && labels.iter().all(|label| (1..=63).contains(&label.len()));
    match (well_formed, labels.len() >= 2) {
        (false, _) => Some(format!("{domain:?} is not a valid domain name")),
        (true, false) => Some(format!("{domain:?} is not a multi-label domain name")),
        (true, true) => None,
    }
}

fn temporary(record_type: &str, name: &str, message: &str) -> Stop {
    Stop::Temporary(format!(
        "the {record_type} lookup of {name} failed: {message}"
    ))
}

fn txt_text(record: &TxtRecord) -> String {
    String::from_utf8_lossy(&record.joined()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_malformed(domain: &str, expect: Option<&str>) {
        let problem = malformed(domain);
        match (problem, expect) {
            (None, None) => {}
            (Some(problem), Some(expect)) => {
                assert!(problem.contains(expect), "{domain}: {problem:?}");
            }
            (problem, _) => panic!("{domain}: {problem:?}"),
        }
    }

    #[test]
    fn initial_processing_refuses_malformed_domains() {
        check_malformed("example.com", None);
        check_malformed("example.com.", None);
        check_malformed(&format!("{}.example.com", "a".repeat(63)), None);
        check_malformed(
            &format!("{}.example.com", "a".repeat(64)),
            Some("not a valid"),
        );
        check_malformed("A...example.com", Some("not a valid"));
        check_malformed("", Some("not a valid"));
        check_malformed("A2345678", Some("not a multi-label"));
        check_malformed("[1.2.3.5]", Some("address literal"));
    }
}
