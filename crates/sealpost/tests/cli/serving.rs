//! `serve --demo` as a new operator first runs it (its master key made, HTTP served), and logs
//! as JSON lines.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::process::Stdio;

use serde_json::Value;

use crate::support::*;

#[test]
fn demo_server_creates_its_master_key_and_serves_http() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = command(directory.path(), &[("SEALPOST_OPERATOR_TOKEN", "op-token")])
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let address = listening_address(&mut stdout);
    let key_file = directory.path().join("data/master.key");
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let body = r#"{"name":"acme"}"#;
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer op-token\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    // The web UI is served beside the API, and the demo tenant's administrator printed on
    // stdout signs in with the password printed there.
    let password = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no web UI sign-in printed"
        );
        if let Some(rest) = line.trim().strip_prefix("Web UI: ") {
            assert!(rest.contains("sign in as admin@demo.invalid"), "{rest}");
            break rest
                .rsplit(' ')
                .next()
                .unwrap()
                .trim_end_matches(')')
                .to_owned();
        }
    };
    let page = http(
        &address,
        "GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let login_cookie = page
        .split("sp_login=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap();
    let form = format!("csrf={login_cookie}&email=admin%40demo.invalid&password={password}");
    let signed_in = http(
        &address,
        &format!(
            "POST /login HTTP/1.1\r\nHost: x\r\nCookie: sp_login={login_cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert!(signed_in.starts_with("HTTP/1.1 303"), "{signed_in}");
    assert!(signed_in.contains("sp_session="), "{signed_in}");

    child.kill().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    assert!(stderr.contains("DEMO MODE"), "{stderr}");
    assert!(
        !stderr.contains(
            &std::fs::read_to_string(&key_file)
                .unwrap()
                .trim()
                .to_owned()
        )
    );

    // The CLI finds the demo key and sees what the server stored.
    let listed = ok_json(run(directory.path(), &[], &["tenant", "list", "--json"]));
    assert_eq!(listed[0]["name"], "acme");
}

/// The HTTP address the server prints; demo mode prints its mail tester's address first.
fn listening_address(stdout: &mut impl std::io::BufRead) -> String {
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no listening line"
        );
        if let Some(address) = line.trim().strip_prefix("sealpost listening on http://") {
            return address.to_owned();
        }
    }
}

/// Sends one raw HTTP request and returns the whole response.
fn http(address: &str, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// `SEALPOST_LOG_FORMAT=json` makes every log line one JSON object.
#[test]
fn logs_can_be_json() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = command(
        directory.path(),
        &[
            ("SEALPOST_LOG_FORMAT", "json"),
            ("SEALPOST_LOG", "info"),
            ("SEALPOST_DELIVERY__ENABLED", "false"),
        ],
    )
    .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    listening_address(&mut BufReader::new(child.stdout.take().unwrap()));
    child.kill().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(
            parsed["level"].is_string() && parsed["fields"].is_object(),
            "{line}"
        );
    }
}
