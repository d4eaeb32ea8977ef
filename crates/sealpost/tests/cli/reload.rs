//! `systemctl reload sealpost` is SIGHUP: a running server reads its configuration again and
//! serves the certificate now in its files on the next STARTTLS, while a broken certificate is
//! refused and the previous one stays. The certificate a client sees is read by `openssl
//! s_client`, an independent TLS client.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::command;

const MASTER_KEY: &str = "0303030303030303030303030303030303030303030303030303030303030303";

/// A self-signed certificate for `name`, written as the configured certificate and key.
fn write_certificate(directory: &Path, name: &str) {
    let certified = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
    std::fs::write(directory.join("tls.pem"), certified.cert.pem()).unwrap();
    std::fs::write(
        directory.join("tls.key"),
        certified.signing_key.serialize_pem(),
    )
    .unwrap();
}

/// The subject alternative name of the certificate the listener presents after STARTTLS.
fn served_name(address: &str) -> String {
    let mut client = Command::new("openssl")
        .args(["s_client", "-starttls", "smtp", "-connect", address])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut certificate = Vec::new();
    std::io::Read::read_to_end(client.stdout.as_mut().unwrap(), &mut certificate).unwrap();
    client.wait().unwrap();
    let mut parse = Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(parse.stdin.as_mut().unwrap(), &certificate).unwrap();
    let output = parse.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn hang_up(pid: u32) {
    let status = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits (at most 10 seconds) until the listener serves a certificate for `name`.
fn wait_for_name(address: &str, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let served = served_name(address);
        if served.contains(name) || Instant::now() > deadline {
            return served;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sighup_reloads_the_smtp_certificate() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path();
    write_certificate(path, "first.sealpost.test");
    std::fs::write(
        path.join("sealpost.toml"),
        format!(
            "data_dir = {data:?}\nhttp_listen = \"127.0.0.1:0\"\n[delivery]\nenabled = false\n\
             [smtp]\nlisten = \"127.0.0.1:0\"\ntls_cert = {cert:?}\ntls_key = {key:?}\n",
            data = path.join("data").display().to_string(),
            cert = path.join("tls.pem").display().to_string(),
            key = path.join("tls.key").display().to_string(),
        ),
    )
    .unwrap();
    let mut server = command(path, &[("SEALPOST_MASTER_KEY", MASTER_KEY)])
        .env("SEALPOST_LOG", "info")
        .args(["--config", "sealpost.toml", "serve"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(path.join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let smtp = loop {
        let line = lines
            .next()
            .expect("the server prints its addresses")
            .unwrap();
        if let Some(address) = line.strip_prefix("sealpost smtp submission on ") {
            break address.trim().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    assert!(served_name(&smtp).contains("first.sealpost.test"));

    write_certificate(path, "second.sealpost.test");
    hang_up(server.id());
    let served = wait_for_name(&smtp, "second.sealpost.test");
    assert!(served.contains("second.sealpost.test"), "{served}");

    // A key that does not belong to the certificate is refused and the second one stays.
    let other = rcgen::generate_simple_self_signed(vec!["third.sealpost.test".to_owned()]).unwrap();
    std::fs::write(path.join("tls.key"), other.signing_key.serialize_pem()).unwrap();
    hang_up(server.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let logs = std::fs::read_to_string(path.join("stderr.log")).unwrap();
        if logs.contains("could not be reloaded") || Instant::now() > deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(logs.contains("the SMTP certificate was reloaded"), "{logs}");
    assert!(
        logs.contains("could not be reloaded; the old one stays"),
        "{logs}"
    );
    assert!(served_name(&smtp).contains("second.sealpost.test"));

    server.kill().unwrap();
    server.wait().unwrap();
}
