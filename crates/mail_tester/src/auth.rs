//! Authentication of the received message: SPF for the connecting address with the MAIL FROM
//! and HELO identities, every DKIM signature, DMARC (a pass needs an aligned DKIM pass or an
//! aligned SPF pass, RFC 7489 section 4.2), and forward-confirmed reverse DNS.

use std::net::IpAddr;

use sealpost_dkim::{Cause, DkimResult, SignatureReport};
use sealpost_dns::{LookupError, Resolver};
use sealpost_dnsauth::dmarc::{self, AlignmentMode, DmarcFound};
use sealpost_dnsauth::spf::{SpfOutcome, SpfRequest, SpfResult, check_host};
use sealpost_domain::Timestamp;

use crate::rules::{
    DKIM_FAIL, DKIM_NONE, DKIM_SIGNATURE_BROKEN, DKIM_TEMPERROR, DMARC_FAIL, DMARC_INVALID,
    DMARC_NONE, DMARC_TEMPERROR, PTR_MISSING, PTR_TEMPERROR, PTR_UNCONFIRMED, SPF_FAIL,
    SPF_HELO_FAIL, SPF_NEUTRAL, SPF_NONE, SPF_PERMERROR, SPF_SOFTFAIL, SPF_TEMPERROR,
};
use crate::{Findings, Received, Status};

/// Runs every authentication check; `author` is the From domain when the message has one.
pub(crate) async fn check(
    resolver: &Resolver,
    received: &Received<'_>,
    author: Option<&str>,
    now: Timestamp,
    findings: &mut Findings,
) {
    let request = SpfRequest::mail_from(received.client_ip, received.mail_from, received.helo, now);
    let spf = check_host(resolver, &request).await;
    report_spf(&request, &spf, findings);
    check_helo(resolver, received, now, findings).await;
    let signatures = check_dkim(resolver, received.message, now, findings).await;
    if let Some(author) = author {
        check_dmarc(
            resolver,
            author,
            &signatures,
            &request,
            spf.result,
            findings,
        )
        .await;
    }
    check_ptr(resolver, received.client_ip, findings).await;
}

fn report_spf(request: &SpfRequest, spf: &SpfOutcome, findings: &mut Findings) {
    let domain = request.domain();
    let ip = request.ip();
    let found = format!("SPF of {domain} for {ip}: {} ({})", spf.result, spf.reason);
    let add_ip = format!(
        "Send through Sealpost, whose addresses your SPF record includes, or add \
         this server ({ip}) to the SPF record of {domain}."
    );
    let (status, problem) = match spf.result {
        SpfResult::Pass => (Status::Pass, None),
        SpfResult::Fail => (Status::Fail, Some((SPF_FAIL, add_ip))),
        SpfResult::SoftFail => (Status::Warning, Some((SPF_SOFTFAIL, add_ip))),
        SpfResult::Neutral => (Status::Warning, Some((SPF_NEUTRAL, add_ip))),
        SpfResult::None => (
            Status::Warning,
            Some((
                SPF_NONE,
                format!(
                    "Publish an SPF record (TXT \"v=spf1 ...\") at {domain}; the signing \
                     domain's DNS records in Sealpost give the exact value."
                ),
            )),
        ),
        SpfResult::PermError => (
            Status::Fail,
            Some((
                SPF_PERMERROR,
                format!(
                    "Correct the SPF record of {domain}: keep exactly one \"v=spf1\" record, \
                     with valid terms and at most 10 DNS lookups."
                ),
            )),
        ),
        SpfResult::TempError => (
            Status::Warning,
            Some((
                SPF_TEMPERROR,
                format!(
                    "Make sure the name servers of {domain} answer reliably, then send the \
                     test again."
                ),
            )),
        ),
    };
    if let Some((rule, fix)) = problem {
        findings.problem(rule, found.clone(), fix);
    }
    findings.check("spf", status, found);
}

/// The HELO identity: only a fail says something, since few domains publish SPF for host names.
async fn check_helo(
    resolver: &Resolver,
    received: &Received<'_>,
    now: Timestamp,
    findings: &mut Findings,
) {
    let helo = received.helo.trim();
    if helo.is_empty() || helo.starts_with('[') {
        findings.check("spf_helo", Status::Info, "No HELO name to check.");
        return;
    }
    let request = SpfRequest::helo(received.client_ip, helo, now);
    let outcome = check_host(resolver, &request).await;
    let found = format!(
        "SPF of HELO name {helo} for {}: {}",
        request.ip(),
        outcome.result
    );
    if outcome.result == SpfResult::Fail {
        findings.problem(
            SPF_HELO_FAIL,
            found.clone(),
            format!(
                "Let the sending server greet with a name whose SPF record allows {}, or remove \
                 the \"-all\" SPF record from {helo}.",
                request.ip()
            ),
        );
    }
    let status = match outcome.result {
        SpfResult::Fail => Status::Warning,
        SpfResult::Pass => Status::Pass,
        _ => Status::Info,
    };
    findings.check("spf_helo", status, found);
}

/// Verifies every signature and reports each; returns them for DMARC.
async fn check_dkim(
    resolver: &Resolver,
    message: &[u8],
    now: Timestamp,
    findings: &mut Findings,
) -> Vec<SignatureReport> {
    // An unreadable message is already reported by the header check.
    let Ok(report) = sealpost_dkim::verify_with_dns(message, resolver, now).await else {
        return Vec::new();
    };
    if report.signatures.is_empty() {
        findings.problem(
            DKIM_NONE,
            "The message has no DKIM signature.",
            "Send through Sealpost with an active signing domain for the From domain, so that \
             every message is signed with your domain's key.",
        );
        findings.check("dkim", Status::Fail, "No DKIM-Signature header.");
        return report.signatures;
    }
    let any_pass = report
        .signatures
        .iter()
        .any(|signature| signature.result == DkimResult::Pass);
    for signature in &report.signatures {
        let found = describe(signature);
        let status = match signature.result {
            DkimResult::Pass => Status::Pass,
            DkimResult::TempError => Status::Warning,
            _ => Status::Fail,
        };
        findings.check("dkim", status, found.clone());
        let rule = match signature.result {
            DkimResult::Pass => continue,
            _ if any_pass => DKIM_SIGNATURE_BROKEN,
            DkimResult::TempError => DKIM_TEMPERROR,
            _ => DKIM_FAIL,
        };
        findings.problem(rule, found, dkim_fix(signature));
    }
    report.signatures
}

fn describe(signature: &SignatureReport) -> String {
    format!(
        "Signature d={} s={}: {} ({}): {}{}",
        signature.domain.as_deref().unwrap_or("?"),
        signature.selector.as_deref().unwrap_or("?"),
        signature.result,
        signature.cause.code(),
        signature.cause.sentence(),
        // The detail repeats the sentence when there is nothing more specific to say.
        match signature.detail.is_empty() || signature.detail == signature.cause.sentence() {
            true => String::new(),
            false => format!(" {}", signature.detail),
        }
    )
}

fn dkim_fix(signature: &SignatureReport) -> String {
    let domain = signature.domain.as_deref().unwrap_or("the signing domain");
    let record = match (&signature.selector, &signature.domain) {
        (Some(selector), Some(domain)) => format!("{selector}._domainkey.{domain}"),
        _ => "the selector's ._domainkey name".to_owned(),
    };
    match signature.cause {
        Cause::BodyModified | Cause::SignatureMismatch => {
            "Something changed the message after it was signed: sign last, after any footer, \
             tracking or encoding change, and make sure no server after Sealpost rewrites the \
             message (disclaimers, link rewriting, re-encoding)."
                .to_owned()
        }
        Cause::KeyNotFound | Cause::KeyRevoked | Cause::KeySyntax | Cause::KeyTypeMismatch => {
            format!(
                "Publish the key record Sealpost shows for {domain} as a TXT record at {record}, \
                 exactly as given, and check its DNS status."
            )
        }
        Cause::DnsTemporary => format!(
            "Make sure the name servers of {domain} answer for {record}, then send the test \
             again."
        ),
        Cause::KeyTooSmall => {
            format!("Generate a new 2048-bit key for {domain} in Sealpost and publish its record.")
        }
        _ => format!(
            "Sign with Sealpost's signer for {domain} instead of the current one: {}",
            signature.cause.sentence()
        ),
    }
}

async fn check_dmarc(
    resolver: &Resolver,
    author: &str,
    signatures: &[SignatureReport],
    spf_request: &SpfRequest,
    spf: SpfResult,
    findings: &mut Findings,
) {
    let passing: Vec<&str> = signatures
        .iter()
        .filter(|signature| signature.result == DkimResult::Pass)
        .filter_map(|signature| signature.domain.as_deref())
        .collect();
    let check = dmarc::check_dmarc(
        resolver,
        author,
        passing.first().copied().unwrap_or_default(),
        spf_request.domain(),
    )
    .await;
    // Without a record DMARC does not apply, but alignment is still worth showing in relaxed
    // mode, which is what a record would most likely ask for.
    let (adkim, aspf) = match &check.found {
        DmarcFound::Record { record, .. } => (record.adkim, record.aspf),
        _ => (AlignmentMode::Relaxed, AlignmentMode::Relaxed),
    };
    let dkim_aligned = passing
        .iter()
        .find(|domain| dmarc::aligned(author, domain, adkim));
    let spf_aligned = spf == SpfResult::Pass && dmarc::aligned(author, spf_request.domain(), aspf);
    let pass = dkim_aligned.is_some() || spf_aligned;
    let alignment = format!(
        "aligned DKIM pass: {}; aligned SPF pass: {}",
        dkim_aligned.map_or("none", |domain| domain),
        match spf_aligned {
            true => spf_request.domain(),
            false => "none",
        }
    );
    let advised = &check.advised_record;
    let org = &check.organizational_domain;
    // The organisational domain is named only when it is another domain than the author's.
    let other_org = (!author.eq_ignore_ascii_case(org)).then_some(org);
    match &check.found {
        DmarcFound::Record { name, record, .. } => {
            let policy = check.applied_policy.unwrap_or(record.policy).as_str();
            let found = format!(
                "DMARC record at {name} (p={policy}); {}; {alignment}",
                match pass {
                    true => "pass",
                    false => "fail",
                }
            );
            if pass {
                findings.check("dmarc", Status::Pass, found);
            } else {
                findings.problem(
                    DMARC_FAIL,
                    found.clone(),
                    format!(
                        "Sign with a DKIM key of {author}{} and use a MAIL FROM in {org}; \
                         Sealpost does both when {author} is an active signing domain. \
                         Receivers apply p={policy} to this message.",
                        other_org
                            .map(|org| format!(" (or of {org})"))
                            .unwrap_or_default()
                    ),
                );
                findings.check("dmarc", Status::Fail, found);
            }
        }
        DmarcFound::None => {
            let searched = match other_org {
                None => author.to_string(),
                Some(org) => format!("{author} or its organisational domain {org}"),
            };
            let found = format!("No DMARC record for {searched}; {alignment}");
            findings.problem(
                DMARC_NONE,
                found.clone(),
                format!("Publish a TXT record at _dmarc.{org}: \"{advised}\"."),
            );
            findings.check("dmarc", Status::Warning, found);
        }
        DmarcFound::Several { name, count } => {
            let found = format!("{count} DMARC records at {name}; receivers ignore them all");
            findings.problem(
                DMARC_INVALID,
                found.clone(),
                format!("Keep exactly one DMARC record at {name}: \"{advised}\"."),
            );
            findings.check("dmarc", Status::Fail, found);
        }
        DmarcFound::Invalid { name, text, error } => {
            let found = format!("The DMARC record at {name} (\"{text}\") is invalid: {error}");
            findings.problem(
                DMARC_INVALID,
                found.clone(),
                format!("Replace the record at {name} with \"{advised}\"."),
            );
            findings.check("dmarc", Status::Fail, found);
        }
        DmarcFound::Dns(error) => {
            let found = format!("The DMARC lookup for {author} failed: {error}");
            findings.problem(
                DMARC_TEMPERROR,
                found.clone(),
                format!(
                    "Make sure the name servers of {org} answer for _dmarc.{org}, then send \
                     the test again."
                ),
            );
            findings.check("dmarc", Status::Warning, found);
        }
    }
}

/// Forward-confirmed reverse DNS: a PTR name for the address whose A or AAAA records lead back.
async fn check_ptr(resolver: &Resolver, ip: IpAddr, findings: &mut Findings) {
    let fix = format!(
        "Ask the provider of the sending server to set the reverse DNS (PTR) of {ip} to the \
         server's host name, and give that name an A/AAAA record pointing to {ip}."
    );
    let names = match resolver.ptr(ip).await {
        Ok(names) => names,
        Err(LookupError::NxDomain | LookupError::NoData) => {
            let found = format!("{ip} has no reverse DNS (PTR) name.");
            findings.problem(PTR_MISSING, found.clone(), fix);
            findings.check("ptr", Status::Warning, found);
            return;
        }
        Err(LookupError::Temporary(error)) => {
            let found = format!("The reverse DNS lookup of {ip} failed: {error}");
            findings.problem(PTR_TEMPERROR, found.clone(), fix);
            findings.check("ptr", Status::Warning, found);
            return;
        }
    };
    for name in &names {
        let addresses: Vec<IpAddr> = match ip {
            IpAddr::V4(_) => resolver
                .a(name)
                .await
                .map(|found| found.into_iter().map(IpAddr::V4).collect())
                .unwrap_or_default(),
            IpAddr::V6(_) => resolver
                .aaaa(name)
                .await
                .map(|found| found.into_iter().map(IpAddr::V6).collect())
                .unwrap_or_default(),
        };
        if addresses.contains(&ip) {
            findings.check(
                "ptr",
                Status::Pass,
                format!("{ip} is {name}, which resolves back to {ip}."),
            );
            return;
        }
    }
    let found = format!(
        "{ip} is {}, but no such name resolves back to {ip}.",
        names.join(", ")
    );
    findings.problem(PTR_UNCONFIRMED, found.clone(), fix);
    findings.check("ptr", Status::Warning, found);
}
