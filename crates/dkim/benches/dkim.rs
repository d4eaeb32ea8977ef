//! DKIM figures: signing throughput for 4 KB and 100 KB messages on one core (completion plus
//! signature, as the server does it), and verification throughput with the key record already
//! fetched and parsed, each beside `openssl speed rsa2048` measured in the same run and beside
//! the RSA operation of the library alone. Rates are per CPU second, as openssl's are, and each
//! is the best of several rounds taken in turn with the others. Beside each size, the ceiling of
//! its ratios: the library's RSA operation and SHA-256 over the body, with nothing around them.
//! Then Ed25519 (RFC 8463): the library's Ed25519 signature beside `openssl speed ed25519`, and
//! dual signing (RSA and Ed25519, as a domain with both keys signs) beside RSA alone.
//! Run with `cargo bench -p sealpost-dkim`.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY};
use sealpost_dkim::{DkimResult, KeyAnswer, KeyCache, KeyRecord, PublicKey, Signer, Verifier};
use sealpost_domain::{DomainName, Selector, Timestamp};
use sealpost_vault::{MasterKey, Vault};

/// `openssl speed rsa2048` on one core for one round: (signs per second, verifies per second).
fn openssl_rsa2048() -> (f64, f64) {
    let output = Command::new("openssl")
        .args(["speed", "-seconds", "1", "-mr", "rsa2048"])
        .output()
        .expect("run openssl speed");
    let text = String::from_utf8_lossy(&output.stdout);
    // OpenSSL 3 prints `+F2:<index>:<bits>:<signs per second>:<verifies per second>`.
    let line = text
        .lines()
        .find(|line| line.starts_with("+F2:"))
        .expect("openssl speed prints an +F2 line");
    let fields: Vec<&str> = line.split(':').collect();
    (fields[3].parse().unwrap(), fields[4].parse().unwrap())
}

/// `openssl speed ed25519` on one core for one round: signs per second.
fn openssl_ed25519() -> f64 {
    let output = Command::new("openssl")
        .args(["speed", "-seconds", "1", "-mr", "ed25519"])
        .output()
        .expect("run openssl speed");
    let text = String::from_utf8_lossy(&output.stdout);
    // OpenSSL 3 prints `+F6:<index>:<bits>:Ed25519:<signs per second>:<verifies per second>`.
    let line = text
        .lines()
        .find(|line| line.starts_with("+F6:"))
        .expect("openssl speed prints an +F6 line");
    line.split(':').nth(4).unwrap().parse().unwrap()
}

/// The Ed25519 figures: the signature alone beside openssl's, and a 4 KB message signed with
/// both keys beside RSA alone, each the best of [`ROUNDS`] rounds taken in turn.
fn ed25519_figures(rsa: &Signer, message: &[u8]) {
    let pem = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault/resources/keys/ed25519.pem"),
    )
    .unwrap();
    let key = Arc::new(
        Vault::new(MasterKey::generate())
            .import_key(sealpost_domain::KeyAlgorithm::Ed25519, &pem, None)
            .unwrap(),
    );
    let ed = Signer::new(
        rsa.domain().clone(),
        Selector::parse("workplace-ed").unwrap(),
        Arc::clone(&key),
    );
    let both = [rsa.clone(), ed];
    let digest = [7u8; 32];
    let mut library = || drop(std::hint::black_box(key.sign(&digest)));
    let mut rsa_only = || {
        drop(std::hint::black_box(
            rsa.sign(message, 1_800_000_000).unwrap(),
        ))
    };
    let mut dual = || {
        let fields = sealpost_dkim::signature_fields(&both, message, 1_800_000_000).unwrap();
        drop(std::hint::black_box(fields));
    };
    let (mut openssl, mut best) = (0.0f64, [0.0f64; 3]);
    for _ in 0..ROUNDS {
        openssl = openssl.max(openssl_ed25519());
        for (operation, best) in [&mut library as &mut dyn FnMut(), &mut rsa_only, &mut dual]
            .into_iter()
            .zip(&mut best)
        {
            *best = best.max(round_rate(operation));
        }
    }
    let [library, rsa_only, dual] = best;
    println!("openssl speed ed25519 (one core, best of {ROUNDS} rounds): {openssl:.0} sign/s");
    println!(
        "aws-lc Ed25519 alone: {library:.0} sign/s ({:.2} of openssl)",
        library / openssl
    );
    println!(
        "sign 4 KB with RSA and Ed25519 (dual, RFC 8463): {dual:.0}/s, {:.2} of RSA alone \
         ({rsa_only:.0}/s)",
        dual / rsa_only
    );
}

/// A message of about `size` bytes: the usual headers and a text body.
fn message(size: usize) -> Vec<u8> {
    let mut text = String::from(
        "From: Facilities <facilities@client.example>\r\nTo: someone@receiver.example\r\n\
         Subject: Work order 4711\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    while text.len() < size {
        text.push_str("The boiler in building B has been serviced and works again.\r\n");
    }
    text.into_bytes()
}

/// CPU time this thread has run, from the scheduler's own account (nanoseconds).
fn thread_cpu_time() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("Linux reports the thread's CPU time");
    let nanoseconds = text
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .expect("schedstat starts with the run time in nanoseconds");
    Duration::from_nanos(nanoseconds)
}

/// How many rounds each measurement gets, and the CPU time of one round.
const ROUNDS: usize = 6;
const ROUND_SECONDS: f64 = 0.35;

/// Operations run between two readings of the CPU clock. A reading costs about 2 µs (a read of
/// `/proc`), which `openssl speed` does not pay: every 10 operations it was 1% of a 4 KB
/// verification, every 100 it is 0.1%.
const BATCH: u32 = 100;

/// Operations per second of CPU time of `operation` over one round. CPU time, because `openssl
/// speed` divides by CPU time too (unless `-elapsed`): on a machine busy with other work, wall
/// time would count the time others ran.
fn round_rate(operation: &mut dyn FnMut()) -> f64 {
    let start = thread_cpu_time();
    let mut count = 0u32;
    while (thread_cpu_time() - start).as_secs_f64() < ROUND_SECONDS {
        for _ in 0..BATCH {
            operation();
        }
        count += BATCH;
    }
    f64::from(count) / (thread_cpu_time() - start).as_secs_f64()
}

/// The best round of openssl's sign and verify and of each operation, all taken in turn. Other
/// work on the machine (a busy sibling hyperthread, caches emptied by others) only ever slows a
/// round down, and taking turns exposes openssl and every operation to the same spells of it,
/// so the best rounds compare like with like.
fn best_rates(operations: &mut [&mut dyn FnMut()]) -> ((f64, f64), Vec<f64>) {
    for operation in operations.iter_mut() {
        for _ in 0..20 {
            operation();
        }
    }
    let mut openssl = (0.0f64, 0.0f64);
    let mut best = vec![0.0f64; operations.len()];
    for _ in 0..ROUNDS {
        let (sign, verify) = openssl_rsa2048();
        openssl = (openssl.0.max(sign), openssl.1.max(verify));
        for (operation, best) in operations.iter_mut().zip(&mut best) {
            *best = best.max(round_rate(*operation));
        }
    }
    (openssl, best)
}

fn main() {
    let pem = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault/resources/keys/rsa2048-pkcs8.pem"),
    )
    .unwrap();
    let key = Arc::new(
        Vault::new(MasterKey::generate())
            .import(&pem, None)
            .unwrap(),
    );
    let key_for_reference = Arc::clone(&key);
    let record = sealpost_domain::dkim_txt_value(&key.public_key_der());
    let answers_record = record.clone();
    let domain = DomainName::parse("client.example").unwrap();
    let signer = Signer::new(domain.clone(), Selector::parse("workplace").unwrap(), key);
    let answers: HashMap<String, KeyAnswer> = [(
        "workplace._domainkey.client.example".to_owned(),
        KeyAnswer::Records(vec![record]),
    )]
    .into();

    // The machine may be busy with other work: openssl is measured in every round, and the
    // library's own RSA operations on a short input are measured beside ours, so that the cost
    // of DKIM around the RSA operation shows on its own.
    let short_signature = key_for_reference.sign(b"reference");
    let PublicKey::Rsa { der, .. } = KeyRecord::parse(&answers_record)
        .unwrap()
        .public_key
        .unwrap()
    else {
        unreachable!("the test key is an RSA key");
    };
    let verifying_key =
        ParsedPublicKey::new(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, der).unwrap();
    let mut library_sign = || {
        std::hint::black_box(key_for_reference.sign(b"reference"));
    };
    let mut library_verify = || {
        assert!(
            verifying_key
                .verify_sig(b"reference", &short_signature)
                .is_ok()
        );
    };
    let sizes = [("4 KB", 4 * 1024), ("100 KB", 100 * 1024)];
    let raws: Vec<Vec<u8>> = sizes.iter().map(|(_, size)| message(*size)).collect();
    let signed: Vec<Vec<u8>> = raws
        .iter()
        .map(|raw| signer.sign(raw, 1_800_000_000).unwrap())
        .collect();
    // Completion plus signature, as the server's sign_outgoing does it.
    let signing = |raw: &[u8]| {
        let prepared = sealpost_dkim::prepare(raw, Timestamp(1_800_000_000), &domain).unwrap();
        std::hint::black_box(signer.sign_owned(prepared.message, 1_800_000_000).unwrap());
    };
    // A warm key: the record was fetched and parsed by an earlier verification.
    let cache = KeyCache::default();
    let verifying = |signed: &[u8]| {
        let report = Verifier::new(signed).unwrap().finish_with_cache(
            &answers,
            Timestamp(1_800_000_060),
            &cache,
        );
        assert_eq!(report.result(), DkimResult::Pass);
    };
    let mut sign_small = || signing(&raws[0]);
    let mut sign_large = || signing(&raws[1]);
    let mut verify_small = || verifying(&signed[0]);
    let mut verify_large = || verifying(&signed[1]);
    // The one part of DKIM that grows with the message and that no implementation can skip:
    // SHA-256 over the body, which with the RSA operation makes the ceiling of each ratio.
    let hashing = |raw: &[u8]| {
        let body = &raw[raw.windows(4).position(|four| four == b"\r\n\r\n").unwrap() + 4..];
        std::hint::black_box(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body));
    };
    let mut hash_small = || hashing(&raws[0]);
    let mut hash_large = || hashing(&raws[1]);
    let ((openssl_sign, openssl_verify), rates) = best_rates(&mut [
        &mut library_sign,
        &mut library_verify,
        &mut sign_small,
        &mut verify_small,
        &mut sign_large,
        &mut verify_large,
        &mut hash_small,
        &mut hash_large,
    ]);
    print_figures((openssl_sign, openssl_verify), &rates, &sizes);
    ed25519_figures(&signer, &raws[0]);
}

/// Prints the rates in the order `main` measured them: the library alone, signing and
/// verification for each size, then the body's hash for each size. The ceiling of a ratio is
/// the library's RSA operation followed by the body's hash, with nothing else around them.
fn print_figures(
    (openssl_sign, openssl_verify): (f64, f64),
    rates: &[f64],
    sizes: &[(&str, usize)],
) {
    let (library_sign, library_verify) = (rates[0], rates[1]);
    println!(
        "openssl speed rsa2048 (one core, best of {ROUNDS} rounds): {openssl_sign:.0} sign/s, \
         {openssl_verify:.0} verify/s"
    );
    println!(
        "aws-lc RSA alone on a short input: {library_sign:.0} sign/s ({:.2} of openssl), \
         {library_verify:.0} verify/s ({:.2} of openssl)",
        library_sign / openssl_sign,
        library_verify / openssl_verify
    );
    println!(
        "DKIM per CPU second, best of {ROUNDS} rounds, as a ratio to openssl (the goal is 0.80 \
         for 100 KB signing and 4 KB verification):"
    );
    for (index, (label, _)) in sizes.iter().enumerate() {
        let signing = rates[2 + 2 * index];
        let verifying = rates[3 + 2 * index];
        let hashing = rates[2 + 2 * sizes.len() + index];
        let ceiling = |library: f64| 1.0 / (1.0 / library + 1.0 / hashing);
        println!(
            "  sign {label}: ratio to openssl sign {:.2} ({signing:.0}/s; {:.2} of aws-lc RSA alone)",
            signing / openssl_sign,
            signing / library_sign
        );
        println!(
            "  verify {label} with a warm key: ratio to openssl verify {:.2} ({verifying:.0}/s; \
             {:.2} of aws-lc RSA alone)",
            verifying / openssl_verify,
            verifying / library_verify
        );
        println!(
            "  ceiling at {label}, aws-lc RSA alone then SHA-256 of the body ({hashing:.0}/s): \
             sign {:.2}, verify {:.2} of openssl",
            ceiling(library_sign) / openssl_sign,
            ceiling(library_verify) / openssl_verify
        );
    }
}
