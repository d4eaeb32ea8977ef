//! The demo platform's health, over HTTP as the operator reads it and from the CLI: its SPF
//! include, the outbound probe (to the demo's own MX), the database and the master key pass.
//! The demo sends from the loopback network, whose reverse DNS is not checked address by
//! address (and the resolver answers `localhost` for 127.0.0.1 whatever DNS says).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use serde_json::Value;

use crate::support::Demo;

/// GET `path` with `token` as bearer token: the status and the JSON body.
fn get(demo: &Demo, path: &str, token: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(&demo.http).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: sealpost\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (
        head[9..12].parse().unwrap(),
        serde_json::from_str(body).unwrap(),
    )
}

fn operator_token(demo: &Demo) -> String {
    let (_, rest) = demo
        .announced
        .split_once("Operator token (tenant administration API): ")
        .unwrap();
    rest.lines().next().unwrap().trim().to_owned()
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|check| {
            (
                check["check"].as_str().unwrap().to_owned(),
                check["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_demo_platform_is_green_for_the_operator() {
    let demo = Demo::start(&[]);
    let token = operator_token(&demo);
    let (status, report) = get(&demo, "/api/v1/platform/health", &token);
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["verdict"], "green", "{report:#}");
    let expected = [
        ("database", "pass"),
        ("master_key", "pass"),
        ("platform_dkim", "skipped"),
        ("reverse_dns", "warn"),
        ("spf_include", "pass"),
        ("outbound_smtp", "pass"),
        ("tls_certificate", "skipped"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(check, status)| ((*check).to_owned(), (*status).to_owned()))
        .collect();
    assert_eq!(statuses(&report), expected, "{report:#}");
    assert_eq!(report["checks"][3]["subject"], "127.0.0.0/8", "{report:#}");

    let (status, offline) = get(&demo, "/api/v1/platform/health?offline=true", &token);
    assert_eq!(status, 200);
    assert_eq!(offline["checks"][5]["status"], "skipped", "{offline:#}");
    let (status, refused) = get(&demo, "/api/v1/platform/health?offline=maybe", &token);
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("offline")
    );
    // Only the operator reads it: a tenant's API key is not enough.
    let (status, _) = get(&demo, "/api/v1/platform/health", &demo.api_key);
    assert_eq!(status, 401);

    // The CLI reads the same platform from the demo's database and DNS.
    let output = demo.cli(&["doctor", "--offline", "--json", "--nameserver", &demo.dns]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(report["verdict"], "green", "{report:#}");
}
