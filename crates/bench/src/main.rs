//! `sealpost-bench`: end-to-end throughput of the real server. It starts a DNS server and a
//! receiving SMTP sink in this process, runs `sealpost serve` (release build, SQLite, durable
//! commits) against them, submits N messages of about 4 KB over HTTP and then over SMTP, and
//! prints accept throughput, accept latency (p50/p99), the time until the sink received every
//! message, and the server's peak RSS; then the HTTP latency at half that end-to-end rate. As
//! the reference, it then relays the same messages over SMTP through a private Postfix instance
//! with the OpenDKIM milter (and through Postfix alone) to the same sink
//! (`bench/postfix-relay.sh`), and prints Sealpost's end-to-end throughput as a multiple of
//! Postfix's. With `--nodes` (and `--postgres`) it runs the HTTP phase on that many nodes of one
//! database instead, beside the same references, or alone with `--reference off` (to compare two
//! builds of Sealpost run after run). Run it with `bench/run`.

mod clients;
mod cluster;
mod process;
mod reference;
mod sink;
mod webhook_sink;

use webhook_sink::WebhookSink;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub(crate) use crate::clients::*;
pub(crate) use crate::cluster::*;
pub(crate) use crate::process::*;
pub(crate) use crate::reference::*;
pub(crate) use crate::sink::*;

#[derive(Clone, Copy)]
pub(crate) enum Protocol {
    Http,
    Smtp,
    /// HTTP with the recipients spread over this many domains (`d0.test`, `d1.test`, ...), whose
    /// MX hosts are the sink on 50 loopback addresses: many destinations at once.
    HttpSpread(usize),
    /// HTTP at this many messages a second, spread evenly: the latency at a given load.
    HttpPaced(f64),
}

/// What every run shares: the server binary and its data, the tenant's token, the sink.
pub(crate) struct Setup<'a> {
    pub(crate) binary: &'a Path,
    pub(crate) environment: &'a [(String, String)],
    pub(crate) directory: &'a Path,
    pub(crate) token: &'a str,
    pub(crate) sink: &'a Sink,
}

/// What one submission run measured.
pub(crate) struct Measured {
    pub(crate) messages: usize,
    pub(crate) connections: usize,
    /// Time until every message was accepted.
    pub(crate) accepted_in: Duration,
    /// Sorted accept latencies.
    pub(crate) latencies: Vec<Duration>,
    /// Time until the sink had received every message.
    pub(crate) delivered_in: Duration,
    /// How many of the delivered messages carried a DKIM signature.
    pub(crate) signed: usize,
    /// Connections the sink accepted meanwhile.
    pub(crate) sink_connections: usize,
}

impl Measured {
    pub(crate) fn accepted_rate(&self) -> f64 {
        self.messages as f64 / self.accepted_in.as_secs_f64()
    }

    pub(crate) fn delivered_rate(&self) -> f64 {
        self.messages as f64 / self.delivered_in.as_secs_f64()
    }

    /// "accepted X msg/s (p50 .. ms, p99 .. ms)"
    pub(crate) fn accepted(&self) -> String {
        format!(
            "accepted {:.0} msg/s (p50 {:.1} ms, p99 {:.1} ms)",
            self.accepted_rate(),
            percentile(&self.latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&self.latencies, 0.99).as_secs_f64() * 1000.0,
        )
    }
}

/// Submits `messages` messages over `connections` concurrent connections, spread round-robin
/// over `addresses` (the nodes), and waits until the sink has received all of them (ten minutes
/// at most; an error if it has not by then).
pub(crate) async fn measure(
    sink: &Sink,
    protocol: Protocol,
    addresses: &[SocketAddr],
    token: Option<&str>,
    messages: usize,
    connections: usize,
) -> Result<Measured, String> {
    let before = sink.received.load(Ordering::Relaxed);
    let signed_before = sink.signed.load(Ordering::Relaxed);
    let connections_before = sink.connections.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut clients = Vec::new();
    for client in 0..connections {
        let sequences: Vec<usize> = (client..messages).step_by(connections).collect();
        let token = token.map(str::to_owned);
        let address = addresses[client % addresses.len()];
        clients.push(match protocol {
            Protocol::Http => tokio::spawn(http_client(
                address,
                token.expect("HTTP needs a token"),
                sequences,
                None,
                None,
            )),
            Protocol::HttpSpread(domains) => tokio::spawn(http_client(
                address,
                token.expect("HTTP needs a token"),
                sequences,
                Some(domains),
                None,
            )),
            Protocol::HttpPaced(rate) => tokio::spawn(http_client(
                address,
                token.expect("HTTP needs a token"),
                sequences,
                None,
                Some(Pace {
                    start: started,
                    interval: Duration::from_secs_f64(1.0 / rate),
                }),
            )),
            Protocol::Smtp => tokio::spawn(smtp_client(address, token, sequences)),
        });
    }
    let mut latencies = Vec::with_capacity(messages);
    for client in clients {
        latencies.extend(client.await.map_err(|error| format!("client: {error}"))?);
    }
    let accepted_in = started.elapsed();
    // Delivery has ten minutes; a run that cannot finish says how far it got.
    let deadline = Instant::now() + Duration::from_secs(600);
    while sink.received.load(Ordering::Relaxed) < before + messages && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered = sink.received.load(Ordering::Relaxed) - before;
    if delivered != messages {
        return Err(format!(
            "only {delivered} of {messages} were delivered in time"
        ));
    }
    let delivered_in = started.elapsed();
    latencies.sort();
    Ok(Measured {
        messages,
        connections,
        accepted_in,
        latencies,
        delivered_in,
        signed: sink.signed.load(Ordering::Relaxed) - signed_before,
        sink_connections: sink.connections.load(Ordering::Relaxed) - connections_before,
    })
}

/// Runs Sealpost for one protocol; returns its end-to-end throughput (msg/s).
pub(crate) async fn run(
    setup: &Setup<'_>,
    protocol: Protocol,
    messages: usize,
    connections: usize,
) -> f64 {
    let Setup {
        binary,
        environment,
        directory,
        token,
        sink,
    } = setup;
    let server = start(binary, directory, environment);
    let address = match protocol {
        Protocol::Http | Protocol::HttpSpread(_) | Protocol::HttpPaced(_) => server.http,
        Protocol::Smtp => server.smtp,
    };
    let measured = measure(
        sink,
        protocol,
        &[address],
        Some(token),
        messages,
        connections,
    )
    .await;
    let rss = peak_rss_mib(server.child.id());
    let mut child = server.child;
    child.kill().ok();
    child.wait().ok();
    let measured = measured.unwrap_or_else(|error| panic!("{error}"));
    let name = match protocol {
        Protocol::Http => "HTTP".to_owned(),
        Protocol::Smtp => "SMTP".to_owned(),
        Protocol::HttpSpread(domains) => {
            format!("HTTP to {domains} recipient domains on {SINK_HOSTS} sink hosts")
        }
        Protocol::HttpPaced(rate) => format!("HTTP paced at {rate:.0} msg/s"),
    };
    println!(
        "{name}: {messages} messages of ~4 KB, {connections} connections: {}; all delivered \
         after {:.1} s = {:.0} msg/s signed, committed and delivered over {} connections \
         to the sink; peak RSS {rss:.0} MiB",
        measured.accepted(),
        measured.delivered_in.as_secs_f64(),
        measured.delivered_rate(),
        measured.sink_connections,
    );
    measured.delivered_rate()
}

pub(crate) const USAGE: &str = "usage: sealpost-bench SEALPOST_BINARY [--nodes N [--postgres URL] [--reference off]] \
                     [--webhooks on] [--destinations DOMAINS] [MESSAGES] [CONNECTIONS]";

/// The sink's loopback addresses (127.0.0.1 to 127.0.0.50) in the many-destinations run.
const SINK_HOSTS: usize = 50;

#[tokio::main]
async fn main() {
    let mut nodes: Option<usize> = None;
    let mut postgres: Option<String> = None;
    let mut webhooks = false;
    let mut reference = true;
    let mut destinations: Option<usize> = None;
    let mut positional = Vec::new();
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--nodes" => {
                nodes = Some(
                    arguments
                        .next()
                        .and_then(|value| value.parse().ok())
                        .filter(|&count| count > 0)
                        .expect(USAGE),
                );
            }
            "--postgres" => postgres = Some(arguments.next().expect(USAGE)),
            "--webhooks" => webhooks = arguments.next().expect(USAGE) == "on",
            "--reference" => {
                reference = match arguments.next().as_deref() {
                    Some("on") => true,
                    Some("off") => false,
                    _ => panic!("{USAGE}"),
                };
            }
            "--destinations" => {
                destinations = Some(
                    arguments
                        .next()
                        .and_then(|value| value.parse().ok())
                        .filter(|&count| count > 0)
                        .expect(USAGE),
                );
            }
            _ => positional.push(argument),
        }
    }
    let mut positional = positional.into_iter();
    let binary = PathBuf::from(positional.next().expect(USAGE));
    let messages: usize = positional
        .next()
        .map_or(20_000, |value| value.parse().expect("a number"));
    let connections: usize = positional
        .next()
        .map_or(16, |value| value.parse().expect("a number"));
    assert!(
        postgres.is_some() || nodes.unwrap_or(1) == 1,
        "several nodes need a shared PostgreSQL database (--postgres URL)"
    );
    assert!(
        reference || nodes.is_some(),
        "--reference off is for node-count mode (--nodes N)"
    );
    let schema = postgres.as_deref().map(fresh_schema);

    let sink = Arc::new(Sink::default());
    let sink_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let sink_port = sink_listener.local_addr().expect("address").port();
    tokio::spawn(sink.clone().serve(sink_listener));
    let mut zone = sealpost_testdns::Zone::new()
        .mx("receiver.test", 10, "mx.receiver.test")
        .a("mx.receiver.test", std::net::Ipv4Addr::LOCALHOST);
    if let Some(domains) = destinations {
        // The same sink on 50 loopback addresses, each the MX host of every 50th domain.
        for host in 0..SINK_HOSTS {
            let address = std::net::Ipv4Addr::new(127, 0, 0, 1 + host as u8);
            if host > 0 {
                let listener = tokio::net::TcpListener::bind((address, sink_port))
                    .await
                    .expect("bind a sink address");
                tokio::spawn(sink.clone().serve(listener));
            }
            zone = zone.a(&format!("mx{host}.sink.test"), address);
        }
        for domain in 0..domains {
            let host = domain % SINK_HOSTS;
            zone = zone.mx(
                &format!("d{domain}.test"),
                10,
                &format!("mx{host}.sink.test"),
            );
        }
    }
    let dns = sealpost_testdns::TestDns::start(zone.clone())
        .await
        .expect("DNS");

    let directory = tempfile::tempdir().expect("temporary directory");
    let mut environment: Vec<(String, String)> = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key".to_owned()),
        ("SEALPOST_NAMESERVER", dns.addr().to_string()),
        ("SEALPOST_DELIVERY__REMOTE_PORT", sink_port.to_string()),
        (
            "SEALPOST_SMTP__ALLOW_PLAIN_AUTH_ON_LOOPBACK",
            "true".to_owned(),
        ),
        // Every benchmark connection comes from loopback, as from one application host.
        ("SEALPOST_SMTP__CONNECTIONS_PER_CLIENT", "1024".to_owned()),
        // The sink is a destination of its own; it gets Postfix's default concurrency (20
        // connections to one destination) and no rate limit, as the reference has none.
        (
            "SEALPOST_DELIVERY__TRAFFIC__DEFAULT_DESTINATION__CONNECTIONS",
            "20".to_owned(),
        ),
        (
            "SEALPOST_DELIVERY__TRAFFIC__DEFAULT_DESTINATION__MESSAGES_PER_CONNECTION",
            "1000".to_owned(),
        ),
        (
            "SEALPOST_DELIVERY__TRAFFIC__DEFAULT_DESTINATION__MESSAGES_PER_MINUTE",
            "100000000".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    if let Some((_, url)) = &schema {
        environment.push(("SEALPOST_DATABASE_URL".to_owned(), url.clone()));
    }
    let webhook_sink = Arc::new(WebhookSink::default());
    let webhook_port = if webhooks {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(webhook_sink.clone().serve(listener));
        environment.push((
            "SEALPOST_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES".to_owned(),
            "true".to_owned(),
        ));
        Some(port)
    } else {
        None
    };
    let cli = |arguments: &[&str]| -> serde_json::Value {
        let output = sealpost(&binary, directory.path(), &environment)
            .args(arguments)
            .output()
            .expect("run sealpost");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    cli(&["master-key", "generate", "--out", "master.key", "--json"]);
    cli(&["tenant", "create", "acme", "--json"]);
    cli(&[
        "domain",
        "add",
        "--tenant",
        "acme",
        "client.test",
        "--selector",
        "workplace",
        "--json",
    ]);
    cli(&[
        "domain",
        "generate-key",
        "--tenant",
        "acme",
        "client.test",
        "--json",
    ]);
    // The tenant proves client.test with its verification record, published in the local DNS.
    let added = cli(&[
        "sending-domain",
        "add",
        "--tenant",
        "acme",
        "client.test",
        "--json",
    ]);
    let record = &added["verification_record"];
    // And its DKIM record: activation waits until DNS carries the key.
    let dkim = cli(&[
        "domain",
        "dns-record",
        "--tenant",
        "acme",
        "client.test",
        "--json",
    ]);
    dns.replace(
        zone.txt(
            record["name"].as_str().expect("record name"),
            &[record["value"].as_str().expect("record value")],
        )
        .txt_split(
            dkim["name"].as_str().expect("DKIM record name"),
            dkim["value"].as_str().expect("DKIM record value"),
        ),
    )
    .expect("publish the verification and DKIM records");
    cli(&[
        "domain",
        "activate",
        "--tenant",
        "acme",
        "client.test",
        "--json",
    ]);
    if let Some(port) = webhook_port {
        // The events an application most wants: accepted and delivered, two per message.
        cli(&[
            "webhook",
            "add",
            "--tenant",
            "acme",
            &format!("http://127.0.0.1:{port}/hooks"),
            "--event",
            "message.accepted",
            "--event",
            "message.delivered",
            "--json",
        ]);
    }
    let token = cli(&["tenant", "api-key", "acme", "--label", "bench", "--json"])["token"]
        .as_str()
        .expect("token")
        .to_owned();

    let setup = Setup {
        binary: &binary,
        environment: &environment,
        directory: directory.path(),
        token: &token,
        sink: &sink,
    };
    if let Some(nodes) = nodes {
        let database = if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        let http = cluster(&setup, database, nodes, messages, connections).await;
        if let (Some(base), Some((schema, _))) = (&postgres, &schema) {
            psql(base, &format!("DROP SCHEMA {schema} CASCADE"));
        }
        drop(dns);
        if !reference {
            return;
        }
        let run = format!("HTTP with {nodes} node(s) on {database}");
        references(&sink, sink_port, messages, connections, &[(&run, http)]).await;
        return;
    }
    let http = run(&setup, Protocol::Http, messages, connections).await;
    // The latency goal is set at half the rate the server sustains end to end.
    run(
        &setup,
        Protocol::HttpPaced(http / 2.0),
        messages,
        connections,
    )
    .await;
    if let Some(domains) = destinations {
        let spread = run(&setup, Protocol::HttpSpread(domains), messages, connections).await;
        println!(
            "many destinations: {:.2}x the single-destination HTTP run above",
            spread / http
        );
    }
    let smtp = run(&setup, Protocol::Smtp, messages, connections).await;
    if webhooks {
        println!(
            "webhook events received by the end of the runs: {} (2 per message: {})",
            webhook_sink.received(),
            4 * messages
        );
    }
    drop(dns);
    let runs = [("SMTP", smtp), ("HTTP", http)];
    references(&sink, sink_port, messages, connections, &runs).await;
}

/// The two references, Postfix with OpenDKIM and Postfix alone, each beside `sealpost`'s runs;
/// exits when one fails.
async fn references(
    sink: &Sink,
    sink_port: u16,
    messages: usize,
    connections: usize,
    sealpost: &[(&str, f64)],
) {
    for dkim in [true, false] {
        let measured = reference(sink, sink_port, dkim, messages, connections, sealpost);
        if let Err(error) = measured.await {
            eprintln!("sealpost-bench: the Postfix reference failed: {error}");
            std::process::exit(1);
        }
    }
}
