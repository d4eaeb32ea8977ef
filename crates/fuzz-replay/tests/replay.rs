//! Replays every committed fuzz corpus (`fuzz/corpus/<target>/`) through the same body the
//! fuzz target runs, on the stable toolchain and without cargo-fuzz, so CI keeps every input a
//! campaign found interesting, and every crash turned into a corpus file, passing.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use sealpost_fuzz_replay as bodies;

/// Runs `body` on every file of the target's corpus and names each file that panics.
#[track_caller]
fn replay(target: &str, body: fn(&[u8])) {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("cannot read the corpus {}: {error}", folder.display()));
    let mut inputs: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    inputs.sort();
    assert!(
        !inputs.is_empty(),
        "the corpus {} is empty",
        folder.display()
    );
    let failed: Vec<String> = inputs
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a readable corpus file");
            catch_unwind(AssertUnwindSafe(|| body(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} inputs of {target} panicked: {failed:#?}",
        failed.len(),
        inputs.len()
    );
}

#[test]
fn pem_import() {
    replay("pem_import", bodies::pem_import);
}

#[test]
fn dkim_signature() {
    replay("dkim_signature", bodies::dkim_signature);
}

#[test]
fn dkim_record() {
    replay("dkim_record", bodies::dkim_record);
}

#[test]
fn sign_verify() {
    replay("sign_verify", bodies::sign_verify);
}

#[test]
fn spf() {
    replay("spf", bodies::spf);
}

#[test]
fn dmarc() {
    replay("dmarc", bodies::dmarc);
}

#[test]
fn smtp_session() {
    replay("smtp_session", bodies::smtp_session);
}

#[test]
fn spamd_reply() {
    replay("spamd_reply", bodies::spamd_reply);
}
