//! Every e-mail of the shared bounce corpus (`../shared/corpora/bounces`, real reports from
//! dozens of MTAs, with sisimai's classification of each) parsed and compared per file: bounce
//! or not, the number of recipients, the status class of each, and the reason of each. The
//! agreement ratios are printed with the files that still disagree, and each ratio must stay
//! at least where it was reached.

use std::path::{Path, PathBuf};

use sealpost_bounce::{Report, parse_mailbox};
use serde_json::Value;

/// The agreement reached on bounce-or-not alone (496 of 504 files).
const KIND_AT_LEAST: f64 = 0.984;
/// The agreement reached on bounce-or-not, recipient count and status class together (483 of
/// 504; the goal is 95%).
const STRUCTURE_AT_LEAST: f64 = 0.958;
/// The agreement reached on the exact reason of every recipient (431 of 504; the goal is 85%).
const REASON_AT_LEAST: f64 = 0.855;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/bounces")
}

/// What the parser says about a file, in the corpus' terms: per recipient the status class
/// ("" for complaints and auto-replies) and the reason.
fn observed(reports: &[Report]) -> Option<Vec<(String, String)>> {
    let mut entries = Vec::new();
    let mut any = false;
    for report in reports {
        match report {
            Report::NotABounce => {}
            Report::Delivery(delivery) => {
                any = true;
                entries.extend(delivery.recipients.iter().map(|recipient| {
                    (
                        recipient.class.digit().to_string(),
                        recipient.reason.name().to_owned(),
                    )
                }));
            }
            Report::Complaint(complaint) => {
                any = true;
                let count = complaint.original_rcpt_to.len().max(1);
                entries.extend((0..count).map(|_| (String::new(), "feedback".to_owned())));
            }
            Report::AutoReply(_) => {
                any = true;
                entries.push((String::new(), "vacation".to_owned()));
            }
        }
    }
    any.then_some(entries)
}

/// The first words of each recipient's diagnostic, to show why a file disagrees.
fn diagnostics(reports: &[Report]) -> String {
    let mut shown = Vec::new();
    for report in reports {
        if let Report::Delivery(delivery) = report {
            for recipient in &delivery.recipients {
                let text: String = recipient.diagnostic.chars().take(160).collect();
                let status = recipient.status.map(|status| status.to_string());
                shown.push(format!("[{}] {text}", status.unwrap_or_default()));
            }
        }
    }
    shown.join(" | ")
}

#[test]
fn corpus_agreement() {
    let directory = corpus();
    let expected: Vec<Value> =
        serde_json::from_slice(&std::fs::read(directory.join("expected.json")).unwrap()).unwrap();
    assert!(
        expected.len() >= 500,
        "the corpus has {} entries",
        expected.len()
    );
    let (mut kind_right, mut structure_right, mut reason_right) = (0usize, 0usize, 0usize);
    let mut wrong = Vec::new();
    for entry in &expected {
        let file = entry["file"].as_str().unwrap();
        let input = std::fs::read(directory.join(file)).unwrap();
        let reports = parse_mailbox(&input).unwrap();
        let seen = observed(&reports);
        let want: Option<Vec<(String, String)>> = match entry["not_a_bounce"].as_bool() {
            Some(true) => None,
            _ => Some(
                entry["recipients"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|recipient| {
                        let status = recipient["status"].as_str().unwrap();
                        let class = status.chars().next().map(String::from).unwrap_or_default();
                        (class, recipient["reason"].as_str().unwrap().to_owned())
                    })
                    .collect(),
            ),
        };
        let classes = |entries: &Option<Vec<(String, String)>>| {
            entries.as_ref().map(|list| {
                list.iter()
                    .map(|(class, _)| class.clone())
                    .collect::<Vec<_>>()
            })
        };
        kind_right += usize::from(seen.is_some() == want.is_some());
        let structure = classes(&seen) == classes(&want);
        let reason = seen
            .as_ref()
            .map(|list| list.iter().map(|(_, r)| r).collect::<Vec<_>>())
            == want
                .as_ref()
                .map(|list| list.iter().map(|(_, r)| r).collect::<Vec<_>>());
        structure_right += usize::from(structure);
        reason_right += usize::from(reason);
        if !structure || !reason {
            wrong.push(format!(
                "{file}: expected {want:?}, parsed {seen:?}; {}",
                diagnostics(&reports)
            ));
        }
    }
    let total = expected.len() as f64;
    let structure_ratio = structure_right as f64 / total;
    let reason_ratio = reason_right as f64 / total;
    println!("files still wrong ({}):", wrong.len());
    for line in &wrong {
        println!("  {line}");
    }
    println!(
        "bounce/not: {kind_right}/{} = {:.1}%",
        expected.len(),
        kind_right as f64 / total * 100.0
    );
    println!(
        "bounce/not + recipients + status class: {structure_right}/{} = {:.1}%",
        expected.len(),
        structure_ratio * 100.0
    );
    println!(
        "exact reason: {reason_right}/{} = {:.1}%",
        expected.len(),
        reason_ratio * 100.0
    );
    let kind_ratio = kind_right as f64 / total;
    assert!(kind_ratio >= KIND_AT_LEAST, "{kind_ratio}");
    assert!(structure_ratio >= STRUCTURE_AT_LEAST, "{structure_ratio}");
    assert!(reason_ratio >= REASON_AT_LEAST, "{reason_ratio}");
}
