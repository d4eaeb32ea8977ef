//! Key vault figures: RSA-2048 generation, import per PEM format, sealing, opening and signing,
//! each beside a reference run of the `openssl` command in the same process run.
//! Run with `cargo bench -p sealpost-vault`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sealpost_domain::{KeyId, TenantId};
use sealpost_vault::{MasterKey, Vault};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("resources/keys")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// Mean time per call over `runs` calls.
fn time(runs: u32, mut operation: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..runs {
        operation();
    }
    start.elapsed() / runs
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `openssl speed` RSA-2048 signatures per second, from its machine-readable output.
fn openssl_signs_per_second() -> Option<f64> {
    let output = Command::new("openssl")
        .args(["speed", "-seconds", "2", "-mr", "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find(|line| line.starts_with("+F2:"))?;
    // OpenSSL 3 prints `+F2:<index>:<bits>:<signs per second>:<verifies per second>`.
    line.split(':').nth(3)?.parse().ok()
}

fn main() {
    let vault = Vault::new(MasterKey::generate());

    let ours = time(20, || drop(vault.generate().unwrap()));
    let openssl = time(20, || {
        let status = Command::new("openssl")
            .args([
                "genpkey",
                "-quiet",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "/dev/null",
            ])
            .status()
            .unwrap();
        assert!(status.success());
    });
    println!(
        "generate RSA-2048: {:.1} ms mean (openssl genpkey process: {:.1} ms; ratio {:.2})",
        millis(ours),
        millis(openssl),
        ours.as_secs_f64() / openssl.as_secs_f64()
    );

    let password = Some("fixture-pass");
    for (name, password) in [
        ("rsa2048-pkcs8.pem", None),
        ("rsa2048-pkcs8-pbkdf2-aes256.pem", password),
        ("rsa2048-pkcs8-pbkdf2-aes128.pem", password),
        ("rsa2048-pkcs8-pbkdf2-des3.pem", password),
        ("rsa2048-pkcs8-scrypt-aes256.pem", password),
        ("rsa2048-pkcs1.pem", None),
        ("rsa2048-pkcs1-aes128.pem", password),
        ("rsa2048-pkcs1-aes256.pem", password),
        ("rsa2048-pkcs1-des3.pem", password),
    ] {
        let text = fixture(name);
        let runs = if name.contains("scrypt") { 5 } else { 50 };
        let mean = time(runs, || drop(vault.import(&text, password).unwrap()));
        println!("import {name:<34} {:>8.2} ms", millis(mean));
    }

    let key = vault.import(&fixture("rsa2048-pkcs8.pem"), None).unwrap();
    let (tenant, key_id) = (
        TenantId::new(&sealpost_domain::SystemClock),
        KeyId::new(&sealpost_domain::SystemClock),
    );
    let sealed = vault.seal(tenant, key_id, &key);
    let seal = time(100, || drop(vault.seal(tenant, key_id, &key)));
    let open = time(100, || drop(vault.open(tenant, key_id, &sealed).unwrap()));
    println!("seal (encrypted PKCS#8 + AEAD)  {:>8.2} ms", millis(seal));
    println!("open (AEAD + decrypt + parse)   {:>8.2} ms", millis(open));

    let message = [7u8; 64];
    let sign = time(500, || drop(key.sign(&message)));
    let ours_per_second = 1.0 / sign.as_secs_f64();
    match openssl_signs_per_second() {
        Some(reference) => println!(
            "sign rsa-sha256: {ours_per_second:.0}/s (openssl speed rsa2048: {reference:.0}/s; ratio {:.2})",
            ours_per_second / reference
        ),
        None => println!("sign rsa-sha256: {ours_per_second:.0}/s (openssl speed unavailable)"),
    }
}
