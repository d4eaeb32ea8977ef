//! The one piece of DKIM that does I/O: looking up the key records a [`Verifier`] asks for,
//! with the resolver the caller configured (so `--nameserver` reaches it).

use std::collections::HashMap;

use sealpost_dns::{LookupError, Resolver};
use sealpost_domain::Timestamp;

use crate::message::{MessageError, normalize_line_endings};
use crate::verify::{KeyAnswer, Report, Verifier};

/// Verifies every signature of `raw` (any line endings) with keys from DNS.
pub async fn verify_with_dns(
    raw: &[u8],
    resolver: &Resolver,
    now: Timestamp,
) -> Result<Report, MessageError> {
    let message = normalize_line_endings(raw);
    let verifier = Verifier::new(&message)?;
    // Messages rarely carry more than two or three signatures, so the lookups run one after
    // the other; the resolver's timeout bounds each.
    let mut answers = HashMap::new();
    for name in verifier.key_names() {
        let answer = match resolver.txt(&name).await {
            Ok(records) => KeyAnswer::Records(
                records
                    .iter()
                    .map(|record| String::from_utf8_lossy(&record.joined()).into_owned())
                    .collect(),
            ),
            Err(LookupError::NxDomain | LookupError::NoData) => KeyAnswer::NotFound,
            Err(LookupError::Temporary(error)) => KeyAnswer::Temporary(error),
        };
        answers.insert(name, answer);
    }
    Ok(verifier.finish(&answers, now))
}
