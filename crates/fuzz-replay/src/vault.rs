//! The target `pem_import`: a pasted PEM key and an optional password, as the API, the UI and
//! `sealpost dkim import-key` hand them to the vault.

use crate::fixture;

/// The input is the PEM text, then, after the first NUL byte if there is one, the password.
pub fn pem_import(data: &[u8]) {
    let (pem, password) = match data.iter().position(|&byte| byte == 0) {
        Some(nul) => (&data[..nul], Some(&data[nul + 1..])),
        None => (data, None),
    };
    let pem = String::from_utf8_lossy(pem);
    let password = password.map(String::from_utf8_lossy);
    let Err(error) = fixture::vault().import(&pem, password.as_deref()) else {
        return;
    };
    let message = error.to_string();
    if let Some(run) = quoted_base64(&pem, &message) {
        // The panic shows the message with the quoted run cut out, so that even a finding
        // does not print a key.
        let redacted = message.replace(run, "[key material]");
        panic!(
            "the import error quotes {} base64 characters of the key: {redacted:?}",
            run.len()
        );
    }
}

/// Runs of base64 this long are key material, not the name of a label or an algorithm.
const QUOTED_RUN: usize = 24;

/// A run of at least [`QUOTED_RUN`] base64 characters of the message that also occurs in the
/// pasted key's body (without its armour and its `Name: value` headers, even when its newlines were lost): a piece of
/// the key quoted back to the user (issue 14, item 3).
fn quoted_base64<'a>(pasted: &str, message: &'a str) -> Option<&'a str> {
    let body: String = pasted
        .lines()
        .filter(|line| !line.contains(':'))
        .map(without_armour)
        .collect();
    let is_base64 =
        |character: char| character.is_ascii_alphanumeric() || "+/=".contains(character);
    message
        .split(|character: char| !is_base64(character))
        .filter(|run| run.len() >= QUOTED_RUN)
        .find(|run| body.contains(&run[..QUOTED_RUN]))
}

/// The line without its `-----BEGIN ...-----` and `-----END ...-----` markers.
fn without_armour(line: &str) -> String {
    let mut rest = line;
    let mut kept = String::new();
    while let Some(start) = rest.find("-----") {
        kept.push_str(&rest[..start]);
        let after = &rest[start + 5..];
        match after.find("-----") {
            Some(end) => rest = &after[end + 5..],
            None => return kept,
        }
    }
    kept.push_str(rest);
    kept
}
