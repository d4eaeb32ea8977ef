//! DKIM figures: signing throughput for 4 KB and 100 KB messages on one core (completion plus
//! signature, as the server does it), and verification throughput with the key record already
//! fetched, each beside `openssl speed rsa2048` measured in the same run.
//! Run with `cargo bench -p sealpost-dkim`.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use sealpost_dkim::{DkimResult, KeyAnswer, Signer, Verifier};
use sealpost_domain::{DomainName, Selector, Timestamp};
use sealpost_vault::{MasterKey, Vault};

/// `openssl speed rsa2048` on one core: (signs per second, verifies per second).
fn openssl_rsa2048() -> (f64, f64) {
    let output = Command::new("openssl")
        .args(["speed", "-seconds", "3", "-mr", "rsa2048"])
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

/// Operations per second of `operation`, run for about two seconds after a warm-up.
fn rate(mut operation: impl FnMut()) -> f64 {
    for _ in 0..20 {
        operation();
    }
    let start = Instant::now();
    let mut count = 0u32;
    while start.elapsed().as_secs_f64() < 2.0 {
        operation();
        count += 1;
    }
    f64::from(count) / start.elapsed().as_secs_f64()
}

fn main() {
    let pem = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vault/resources/keys/rsa2048-pkcs8.pem"),
    )
    .unwrap();
    let key = Vault::new(MasterKey::generate())
        .import(&pem, None)
        .unwrap();
    let record = sealpost_domain::dkim_txt_value(&key.public_key_der());
    let domain = DomainName::parse("client.example").unwrap();
    let signer = Signer::new(
        domain.clone(),
        Selector::parse("workplace").unwrap(),
        Arc::new(key),
    );
    let answers: HashMap<String, KeyAnswer> = [(
        "workplace._domainkey.client.example".to_owned(),
        KeyAnswer::Records(vec![record]),
    )]
    .into();

    let (openssl_sign, openssl_verify) = openssl_rsa2048();
    println!(
        "openssl speed rsa2048 (one core): {openssl_sign:.0} sign/s, {openssl_verify:.0} verify/s"
    );
    for (label, size) in [("4 KB", 4 * 1024), ("100 KB", 100 * 1024)] {
        let raw = message(size);
        let signing = rate(|| {
            let prepared = sealpost_dkim::prepare(&raw, Timestamp(1_800_000_000), &domain).unwrap();
            std::hint::black_box(signer.sign(&prepared.message, 1_800_000_000).unwrap());
        });
        let signed = signer.sign(&raw, 1_800_000_000).unwrap();
        let verifying = rate(|| {
            let report = Verifier::new(&signed)
                .unwrap()
                .finish(&answers, Timestamp(1_800_000_060));
            assert_eq!(report.result(), DkimResult::Pass);
        });
        println!(
            "{label}: sign {signing:.0}/s (ratio to openssl sign {:.2}); verify with a warm key \
             {verifying:.0}/s (ratio to openssl verify {:.2})",
            signing / openssl_sign,
            verifying / openssl_verify
        );
    }
}
