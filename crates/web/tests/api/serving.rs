//! `sealpost_web::serve::serve` on a real loopback socket: slow clients are cut off at each
//! phase's total deadline, one address cannot take every connection, handlers see the client's
//! address, malformed chunked bodies are 400, and shutdown returns.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use sealpost_store::{Store, testing};
use sealpost_web::serve::{ServeLimits, serve};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

use crate::support::{OPERATOR, app};

/// The deadline the tests give each phase, and the interval at which the slow client sends a
/// byte: far shorter than the deadline, so a timeout per read would never fire.
const DEADLINE: Duration = Duration::from_millis(800);
const TRICKLE: Duration = Duration::from_millis(100);

struct Running {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    _directory: Option<tempfile::TempDir>,
}

fn limits() -> ServeLimits {
    ServeLimits {
        request_head: DEADLINE,
        request_body: DEADLINE,
        connections_per_client: 4,
        shutdown_grace: Duration::from_secs(5),
    }
}

async fn start(router: Router, limits: ServeLimits) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, router, limits, async {
        let _ = stopped.await;
    }));
    Running {
        address,
        stop: Some(stop),
        task,
        _directory: None,
    }
}

/// The API on a fresh SQLite database.
async fn start_api(limits: ServeLimits) -> Running {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let mut running = start(app(store).await, limits).await;
    running._directory = Some(directory);
    running
}

/// Reads until the server closes the connection and returns what it sent and when it closed.
async fn read_until_closed(stream: &mut TcpStream) -> (String, Instant) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("the server closes the connection in time");
        match read {
            Ok(0) | Err(_) => break,
            Ok(count) => received.extend_from_slice(&buffer[..count]),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        Instant::now(),
    )
}

/// Sends `bytes` one at a time, every [`TRICKLE`], until they run out or the server is gone.
fn trickle(mut write: tokio::net::tcp::OwnedWriteHalf, bytes: &'static [u8]) -> JoinHandle<()> {
    tokio::spawn(async move {
        for byte in bytes {
            tokio::time::sleep(TRICKLE).await;
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
        }
    })
}

#[track_caller]
fn assert_cut_off_at_deadline(waited: Duration) {
    assert!(
        waited >= DEADLINE / 2 && waited < DEADLINE * 2,
        "cut off after {waited:?}, the deadline is {DEADLINE:?}"
    );
}

/// Forty bytes at one per 100 ms last four seconds, five deadlines.
const ENDLESS: &[u8] = b"X-Slow: and then a very long time of nothing";

/// The JSON body of a response read whole.
fn json_body(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_request_head_trickled_byte_by_byte_is_cut_off_at_its_deadline() {
    let running = start_api(limits()).await;
    let stream = TcpStream::connect(running.address).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let started = Instant::now();
    write.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    let writer = trickle(write, ENDLESS);
    let mut rest = Vec::new();
    let _ = timeout(Duration::from_secs(10), read.read_to_end(&mut rest))
        .await
        .expect("the server closes the connection in time");
    writer.abort();
    assert_cut_off_at_deadline(started.elapsed());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_head_deadline() {
    let running = start_api(limits()).await;
    let mut stream = TcpStream::connect(running.address).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (response, closed) = read_until_closed(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("ok"), "{response}");
    assert_cut_off_at_deadline(closed - started);
}

#[tokio::test]
async fn a_request_body_trickled_byte_by_byte_is_answered_408_at_its_deadline() {
    let running = start_api(limits()).await;
    let stream = TcpStream::connect(running.address).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST /api/v1/tenants HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {OPERATOR}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    write.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let writer = trickle(write, ENDLESS);
    let mut response = Vec::new();
    let _ = timeout(Duration::from_secs(10), read.read_to_end(&mut response))
        .await
        .expect("the server answers and closes in time");
    writer.abort();
    assert_cut_off_at_deadline(started.elapsed());
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{response}"
    );
    let body = json_body(&response);
    assert_eq!(body["error"]["code"], "request_timeout", "{response}");
}

#[tokio::test]
async fn malformed_chunked_encoding_is_400_json() {
    let running = start_api(limits()).await;
    let mut stream = TcpStream::connect(running.address).await.unwrap();
    let request = format!(
        "POST /api/v1/tenants HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {OPERATOR}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let (response, _) = read_until_closed(&mut stream).await;
    assert!(
        response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{response}"
    );
    let body = json_body(&response);
    assert_eq!(body["error"]["code"], "bad_request", "{response}");
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let running = start_api(limits()).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(running.address).await.unwrap();
        // Half a head keeps each connection open and busy.
        stream.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
        held.push(stream);
    }
    let mut fifth = TcpStream::connect(running.address).await.unwrap();
    let started = Instant::now();
    let (received, closed) = read_until_closed(&mut fifth).await;
    assert_eq!(received, "");
    assert!(
        closed - started < DEADLINE / 2,
        "closed after {:?}",
        closed - started
    );

    // The address gets a slot back when one of its connections ends.
    drop(held.pop());
    let mut attempts = 0;
    loop {
        let mut next = TcpStream::connect(running.address).await.unwrap();
        let request = b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
        let _ = next.write_all(request).await;
        let (response, _) = read_until_closed(&mut next).await;
        if response.starts_with("HTTP/1.1 200 OK") {
            break;
        }
        attempts += 1;
        assert!(attempts < 50, "the address's slot was never released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn handlers_see_the_client_address_and_shutdown_returns() {
    let router = Router::new().route(
        "/peer",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    );
    let mut limits = limits();
    limits.request_head = Duration::from_secs(30);
    let mut running = start(router, limits).await;
    let mut stream = TcpStream::connect(running.address).await.unwrap();
    let local = stream.local_addr().unwrap();
    stream
        .write_all(b"GET /peer HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let count = timeout(Duration::from_secs(5), stream.read(&mut buffer))
        .await
        .unwrap()
        .unwrap();
    let response = String::from_utf8_lossy(&buffer[..count]);
    assert!(response.ends_with(&local.to_string()), "{response}");

    // The connection is idle and kept alive; shutdown closes it and returns at once.
    let started = Instant::now();
    running.stop.take().unwrap().send(()).unwrap();
    timeout(Duration::from_secs(5), &mut running.task)
        .await
        .expect("serve returns after shutdown")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    let (rest, _) = read_until_closed(&mut stream).await;
    assert_eq!(rest, "");
}
