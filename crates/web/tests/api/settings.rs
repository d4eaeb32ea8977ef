//! Delivery settings: the relay password sealed and write-only, and Test connection.

use axum::http::{Method, StatusCode};
use sealpost_store::testing;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn delivery_settings_keep_the_relay_password_sealed_and_write_only() {
    const PASSWORD: &str = "s3cret-relay-passw0rd";
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app(store.clone()).await;
        let token = tenant_token(&app, "acme").await;
        let path = "/api/v1/settings/delivery";
        let (status, native) = call(&app, Method::GET, path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(native, json!({"mode": "native", "relay": null}));

        let without_password = json!({"mode": "relay", "host": "smtp.client.test", "port": 465, "username": "facilities", "use_ssl": true});
        let refused = call(
            &app,
            Method::PUT,
            path,
            Some(&token),
            Some(without_password.clone()),
        )
        .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "password",
        );
        let mut with_password = without_password.clone();
        with_password["password"] = json!(PASSWORD);
        let (status, relay) =
            call(&app, Method::PUT, path, Some(&token), Some(with_password)).await;
        assert_eq!(status, StatusCode::OK, "{relay}");
        assert_eq!(relay["mode"], "relay");
        assert_eq!(relay["relay"]["password_set"], true);
        assert_eq!(relay["relay"]["tls_mode"], "default");
        assert!(!relay.to_string().contains(PASSWORD));

        // Saving the form without a password keeps the stored one.
        let (status, kept) = call(
            &app,
            Method::PUT,
            path,
            Some(&token),
            Some(without_password),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kept["relay"]["password_set"], true);

        let bad = [
            (
                json!({"mode": "relay", "host": "not a host", "port": 25}),
                "host",
            ),
            (
                json!({"mode": "relay", "host": "smtp.client.test", "port": 0}),
                "port",
            ),
            (
                json!({"mode": "relay", "host": "smtp.client.test", "port": 25, "tls_mode": "sometimes"}),
                "tls_mode",
            ),
            (
                json!({"mode": "relay", "host": "smtp.client.test", "port": 465, "use_ssl": true, "tls_mode": "none"}),
                "Use SSL",
            ),
            (json!({"mode": "carrier-pigeon"}), "mode"),
        ];
        for (body, words) in bad {
            let refused = call(&app, Method::PUT, path, Some(&token), Some(body)).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                words,
            );
        }
        let (_, unchanged) = call(&app, Method::GET, path, Some(&token), None).await;
        assert_eq!(unchanged["relay"]["host"], "smtp.client.test");

        // The stored password is sealed: neither the row nor the SQLite files hold it.
        let tenant_id = store.list_tenants().await.unwrap()[0].id;
        let sealed = store
            .sealed_relay_password(tenant_id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            !sealed
                .windows(PASSWORD.len())
                .any(|window| window == PASSWORD.as_bytes())
        );
        for entry in std::fs::read_dir(directory.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes
                    .windows(PASSWORD.len())
                    .any(|window| window == PASSWORD.as_bytes())
            );
        }

        let (status, native) = call(
            &app,
            Method::PUT,
            path,
            Some(&token),
            Some(json!({"mode": "native"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(native["mode"], "native");
    }
}

/// A mail server on loopback that offers AUTH PLAIN without TLS and accepts any login: enough for
/// "Test connection" with TLS mode none. Returns its port and what it received.
async fn login_server() -> (u16, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = tokio::io::BufReader::new(read).lines();
        let mut received = String::new();
        write
            .write_all(b"220 relay.client.test ESMTP\r\n")
            .await
            .unwrap();
        while let Ok(Some(line)) = lines.next_line().await {
            received.push_str(&line);
            received.push('\n');
            let reply: &[u8] = match line
                .split(' ')
                .next()
                .unwrap_or("")
                .to_ascii_uppercase()
                .as_str()
            {
                "EHLO" => b"250-relay.client.test\r\n250 AUTH PLAIN LOGIN\r\n",
                "AUTH" => b"235 2.7.0 Authentication successful\r\n",
                "QUIT" => b"221 2.0.0 Bye\r\n",
                _ => b"502 5.5.1 not here\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        received
    });
    (port, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_shows_a_transcript_without_the_password() {
    const PASSWORD: &str = "relay-secret-4711";
    let directory = tempfile::tempdir().unwrap();
    let store = testing::fresh_stores(directory.path()).await.remove(0);
    let app = app(store).await;
    let token = tenant_token(&app, "acme").await;
    let path = "/api/v1/settings/delivery/test";
    let native = call(&app, Method::POST, path, Some(&token), None).await;
    assert_error(
        &native,
        StatusCode::CONFLICT,
        "conflict",
        "does not use its own mail server",
    );

    let (port, server) = login_server().await;
    let relay = json!({"mode": "relay", "host": "127.0.0.1", "port": port, "username": "facilities", "password": PASSWORD, "tls_mode": "none"});
    let (status, _) = call(
        &app,
        Method::PUT,
        "/api/v1/settings/delivery",
        Some(&token),
        Some(relay),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, test) = call(&app, Method::POST, path, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["success"], true, "{test}");
    let transcript = test["transcript"].to_string();
    assert!(transcript.contains("AUTH PLAIN ***"), "{transcript}");
    assert!(transcript.contains("235 2.7.0"), "{transcript}");
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("\0facilities\0{PASSWORD}"));
    assert!(!test.to_string().contains(PASSWORD) && !test.to_string().contains(&encoded));
    // The server really received the credentials: the redaction is in the transcript only.
    assert!(server.await.unwrap().contains(&encoded));
}

/// Relay fields sent with mode native are checked as in mode relay (they used to be ignored, so
/// a user name with a line break got 200), and a port written `587.0` is the integer 587, as
/// the document's `integer` says.
#[tokio::test]
async fn native_mode_checks_the_relay_fields_and_a_port_may_have_a_zero_fraction() {
    let directory = tempfile::tempdir().unwrap();
    let store = testing::fresh_stores(directory.path()).await.remove(0);
    let app = app(store).await;
    let token = tenant_token(&app, "acme").await;
    let path = "/api/v1/settings/delivery";
    let bad = [
        (json!({"mode": "native", "username": "a\nb"}), "username"),
        (json!({"mode": "native", "host": "not a host"}), "host"),
        (json!({"mode": "native", "port": 0}), "port"),
        (json!({"mode": "native", "tls_mode": "never"}), "tls_mode"),
        (
            json!({"mode": "native", "use_ssl": true, "tls_mode": "none"}),
            "tls_mode",
        ),
    ];
    for (body, field) in bad {
        let refused = call(&app, Method::PUT, path, Some(&token), Some(body)).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            &format!("{field}: "),
        );
    }
    let well_formed = json!({"mode": "native", "host": "smtp.client.test", "port": 465});
    let (status, native) = call(&app, Method::PUT, path, Some(&token), Some(well_formed)).await;
    assert_eq!(status, StatusCode::OK, "{native}");
    assert_eq!(native["mode"], "native");

    let relay = json!({"mode": "relay", "host": "smtp.client.test", "port": 587.0});
    let (status, saved) = call(&app, Method::PUT, path, Some(&token), Some(relay)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["relay"]["port"], 587);
    for port in [json!(587.5), json!(65536), json!(-1)] {
        let body = json!({"mode": "relay", "host": "smtp.client.test", "port": port});
        let refused = call(&app, Method::PUT, path, Some(&token), Some(body)).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "bad_request", "port");
    }
}

/// "Test connection" with a body tests those settings before anything is saved (issue 16,
/// item 2): a refused connection reads as a sentence naming the address, a working server
/// accepts the login, a malformed host is refused, and the tenant stays native with nothing
/// stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_tests_unsaved_settings_in_words() {
    const PASSWORD: &str = "unsaved-secret-0815";
    let directory = tempfile::tempdir().unwrap();
    let store = testing::fresh_stores(directory.path()).await.remove(0);
    let app = app(store).await;
    let token = tenant_token(&app, "acme").await;
    let path = "/api/v1/settings/delivery/test";
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let body = json!({"host": "127.0.0.1", "port": closed, "tls_mode": "none"});
    let (status, test) = call(&app, Method::POST, path, Some(&token), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["success"], false);
    assert_eq!(
        test["error"],
        format!(
            "Nothing accepts connections at 127.0.0.1 port {closed} (connection refused): check \
             the host, the port and the firewall"
        )
    );
    assert!(!test.to_string().contains("os error"), "{test}");

    let (port, server) = login_server().await;
    let body = json!({"host": "127.0.0.1", "port": port, "username": "facilities",
        "password": PASSWORD, "tls_mode": "none"});
    let (status, test) = call(&app, Method::POST, path, Some(&token), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["success"], true, "{test}");
    assert!(!test.to_string().contains(PASSWORD));
    assert!(server.await.unwrap().contains("AUTH PLAIN"));

    let bad = json!({"host": "not a host", "port": 25});
    let refused = call(&app, Method::POST, path, Some(&token), Some(bad)).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        "host",
    );
    let (_, settings) = call(
        &app,
        Method::GET,
        "/api/v1/settings/delivery",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(settings, json!({"mode": "native", "relay": null}));
}

/// Switching to native keeps the own mail server's settings, disabled (issue 16, item 2), and
/// settings that contradict each other come back with a warning naming the risk.
#[tokio::test]
async fn native_keeps_the_relay_settings_and_contradictions_warn() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app(store).await;
        let token = tenant_token(&app, "acme").await;
        let path = "/api/v1/settings/delivery";
        let relay = json!({"mode": "relay", "host": "smtp.client.test", "port": 465,
            "username": "facilities", "password": "pw", "use_ssl": true, "tls_mode": "required"});
        let (status, saved) = call(&app, Method::PUT, path, Some(&token), Some(relay)).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(saved["warnings"][0]["code"], "ssl_with_starttls", "{saved}");
        let message = saved["warnings"][0]["message"].as_str().unwrap();
        assert!(message.contains("contradict each other"), "{message}");

        let (status, native) = call(
            &app,
            Method::PUT,
            path,
            Some(&token),
            Some(json!({"mode": "native"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{native}");
        let (_, read) = call(&app, Method::GET, path, Some(&token), None).await;
        assert_eq!(read["mode"], "native");
        assert_eq!(read["relay"], json!(null));
        assert_eq!(
            read["kept_relay"],
            json!({"host": "smtp.client.test", "port": 465, "username": "facilities",
                "use_ssl": true, "tls_mode": "required", "password_set": true})
        );

        let cleartext = json!({"mode": "relay", "host": "smtp.client.test", "port": 25,
            "username": "facilities", "tls_mode": "none"});
        let (status, saved) = call(&app, Method::PUT, path, Some(&token), Some(cleartext)).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(
            saved["warnings"][0]["code"], "password_without_tls",
            "{saved}"
        );
        assert!(
            saved["warnings"][0]["message"]
                .as_str()
                .unwrap()
                .contains("sends the password unencrypted")
        );
    }
}

/// Automatic key rotation (SPEC S11.1): off by default, set and read back (`180.0` is `180`, as
/// JSON Schema reads integers), and a period outside 30 to 730 days, a fraction or an unknown
/// field refused with a sentence while the stored setting stays as it was.
#[tokio::test]
async fn key_rotation_is_set_in_range_and_anything_else_is_refused_with_nothing_stored() {
    let directory = tempfile::tempdir().unwrap();
    for store in testing::fresh_stores(directory.path()).await {
        let app = app(store).await;
        let token = tenant_token(&app, "acme").await;
        let path = "/api/v1/settings/key-rotation";
        let (status, off) = call(&app, Method::GET, path, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            off,
            json!({"every_days": null, "min_days": 30, "max_days": 730})
        );
        let (status, on) = call(
            &app,
            Method::PUT,
            path,
            Some(&token),
            Some(json!({"every_days": 180.0})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{on}");
        assert_eq!(on["every_days"], 180);

        for (body, message) in [
            (
                json!({"every_days": 29}),
                "every_days: A rotation period of 29 days is not allowed: choose a whole number \
                 of days from 30 to 730",
            ),
            (json!({"every_days": 731}), "from 30 to 730"),
            (json!({"every_days": -180}), "from 30 to 730"),
        ] {
            let refused = call(&app, Method::PUT, path, Some(&token), Some(body)).await;
            assert_error(
                &refused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                message,
            );
        }
        // A body that is not the request's shape is refused before the setting is judged.
        for (body, message) in [
            (
                json!({"every_days": 90.5}),
                "every_days: 90.5 is not a whole number of days",
            ),
            (json!({"every_days": "90"}), "every_days"),
            (json!({"every_days": 90, "when": "now"}), "when"),
        ] {
            let refused = call(&app, Method::PUT, path, Some(&token), Some(body)).await;
            assert_error(&refused, StatusCode::BAD_REQUEST, "bad_request", message);
        }
        let (_, kept) = call(&app, Method::GET, path, Some(&token), None).await;
        assert_eq!(
            kept["every_days"], 180,
            "nothing of a refused request is stored"
        );

        let (status, _) = call(&app, Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, off) = call(
            &app,
            Method::PUT,
            path,
            Some(&token),
            Some(json!({"every_days": null})),
        )
        .await;
        assert_eq!(
            (status, off["every_days"].clone()),
            (StatusCode::OK, json!(null))
        );
    }
}
