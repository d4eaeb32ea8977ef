//! `sealpost-bench`: end-to-end throughput of the real server. It starts a DNS server and a
//! receiving SMTP sink in this process, runs `sealpost serve` (release build, SQLite, durable
//! commits) against them, submits N messages of about 4 KB over HTTP and then over SMTP, and
//! prints accept throughput, accept latency (p50/p99), the time until the sink received every
//! message, and the server's peak RSS. As the reference, it then relays the same messages over
//! SMTP through a private Postfix instance with the OpenDKIM milter (and through Postfix alone)
//! to the same sink (`bench/postfix-relay.sh`), and prints Sealpost's end-to-end throughput as a
//! multiple of Postfix's. Run it with `bench/run`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

/// The receiving server: a minimal SMTP sink playing the recipients' MX host. It answers every
/// command with success, counts the messages it receives, and keeps nothing, so that it is never
/// what limits the figures.
#[derive(Debug, Default)]
struct Sink {
    received: AtomicUsize,
    /// Of those, the messages carrying a DKIM-Signature header.
    signed: AtomicUsize,
}

impl Sink {
    async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let sink = self.clone();
            tokio::spawn(async move {
                stream.set_nodelay(true).ok();
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                if write
                    .write_all(b"220 mx.receiver.test ESMTP\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-mx.receiver.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            if write.write_all(b"354 go ahead\r\n").await.is_err() {
                                return;
                            }
                            let mut signed = false;
                            loop {
                                line.clear();
                                match reader.read_line(&mut line).await {
                                    Ok(0) | Err(_) => return,
                                    Ok(_) if line == ".\r\n" => break,
                                    Ok(_) => {
                                        signed |= line.get(..15).is_some_and(|name| {
                                            name.eq_ignore_ascii_case("DKIM-Signature:")
                                        });
                                    }
                                }
                            }
                            if signed {
                                sink.signed.fetch_add(1, Ordering::Relaxed);
                            }
                            sink.received.fetch_add(1, Ordering::Relaxed);
                            b"250 2.0.0 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    }
}

fn message(sequence: usize) -> String {
    let mut body = String::new();
    while body.len() < 4000 {
        body.push_str("The boiler in building B has been serviced and works again. ");
        body.push_str("\r\n");
    }
    format!(
        "From: Facilities <facilities@client.test>\r\nTo: someone@receiver.test\r\n\
         Subject: Work order {sequence}\r\n\r\n{body}"
    )
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Peak resident memory of a process, from /proc.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// User plus system CPU time of a process so far, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&index| fields.get(index)?.parse::<f64>().ok())
        .sum();
    // The kernel's USER_HZ is 100 on every Linux platform we run on.
    ticks / 100.0
}

struct Server {
    child: Child,
    http: SocketAddr,
    smtp: SocketAddr,
}

fn sealpost(binary: &Path, directory: &Path, environment: &[(String, String)]) -> Command {
    let mut command = Command::new(binary);
    command.current_dir(directory).env("SEALPOST_LOG", "warn");
    for (name, value) in environment {
        command.env(name, value);
    }
    command
}

fn start(binary: &Path, directory: &Path, environment: &[(String, String)]) -> Server {
    use std::io::BufRead as _;
    let mut child = sealpost(binary, directory, environment)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--smtp-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start sealpost serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut address = |prefix: &str| -> SocketAddr {
        let line = lines.next().expect("a line").expect("readable");
        line.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .parse()
            .expect("an address")
    };
    let smtp = address("sealpost smtp submission on ");
    let http = address("sealpost listening on http://");
    Server { child, http, smtp }
}

/// One keep-alive HTTP connection submitting messages in sequence; returns the latencies.
async fn http_client(address: SocketAddr, token: String, sequences: Vec<usize>) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.set_nodelay(true).ok();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut latencies = Vec::with_capacity(sequences.len());
    for sequence in sequences {
        let body = serde_json::json!({
            "mail_from": "bounce@client.test",
            "recipients": ["someone@receiver.test"],
            "raw": message(sequence),
        })
        .to_string();
        let request = format!(
            "POST /api/v1/messages/raw HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let started = Instant::now();
        write.write_all(request.as_bytes()).await.expect("send");
        let mut status = String::new();
        reader.read_line(&mut status).await.expect("status");
        assert!(status.starts_with("HTTP/1.1 202"), "{status}");
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await.expect("body");
        latencies.push(started.elapsed());
    }
    latencies
}

/// One SMTP session submitting messages in sequence; returns the latencies of DATA. With a token
/// it authenticates first (Sealpost); without, it relies on the client's address (Postfix).
async fn smtp_client(
    address: SocketAddr,
    token: Option<String>,
    sequences: Vec<usize>,
) -> Vec<Duration> {
    use base64::Engine as _;
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.set_nodelay(true).ok();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    async fn reply(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.expect("reply");
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return line;
            }
        }
    }
    let banner = reply(&mut reader).await;
    assert!(banner.starts_with("220"), "{banner}");
    write.write_all(b"EHLO bench.test\r\n").await.expect("send");
    let ehlo = reply(&mut reader).await;
    assert!(ehlo.starts_with("250"), "{ehlo}");
    if let Some(token) = token {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("\0acme\0{token}"));
        write
            .write_all(format!("AUTH PLAIN {credentials}\r\n").as_bytes())
            .await
            .expect("send");
        let auth = reply(&mut reader).await;
        assert!(auth.starts_with("235"), "{auth}");
    }
    let mut latencies = Vec::with_capacity(sequences.len());
    for sequence in sequences {
        let started = Instant::now();
        // MAIL, RCPT and DATA pipelined, then the message.
        write
            .write_all(
                b"MAIL FROM:<bounce@client.test>\r\nRCPT TO:<someone@receiver.test>\r\nDATA\r\n",
            )
            .await
            .expect("send");
        for _ in 0..3 {
            let reply = reply(&mut reader).await;
            assert!(reply.starts_with('2') || reply.starts_with('3'), "{reply}");
        }
        write
            .write_all(format!("{}.\r\n", message(sequence)).as_bytes())
            .await
            .expect("send");
        let accepted = reply(&mut reader).await;
        assert!(accepted.starts_with("250"), "{accepted}");
        latencies.push(started.elapsed());
    }
    latencies
}

#[derive(Clone, Copy)]
enum Protocol {
    Http,
    Smtp,
}

/// What every run shares: the server binary and its data, the tenant's token, the sink.
struct Setup<'a> {
    binary: &'a Path,
    environment: &'a [(String, String)],
    directory: &'a Path,
    token: &'a str,
    sink: &'a Sink,
}

/// What one submission run measured.
struct Measured {
    messages: usize,
    connections: usize,
    /// Time until every message was accepted.
    accepted_in: Duration,
    /// Sorted accept latencies.
    latencies: Vec<Duration>,
    /// Time until the sink had received every message.
    delivered_in: Duration,
    /// How many of the delivered messages carried a DKIM signature.
    signed: usize,
}

impl Measured {
    fn accepted_rate(&self) -> f64 {
        self.messages as f64 / self.accepted_in.as_secs_f64()
    }

    fn delivered_rate(&self) -> f64 {
        self.messages as f64 / self.delivered_in.as_secs_f64()
    }

    /// "accepted X msg/s (p50 .. ms, p99 .. ms)"
    fn accepted(&self) -> String {
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
async fn measure(
    sink: &Sink,
    protocol: Protocol,
    addresses: &[SocketAddr],
    token: Option<&str>,
    messages: usize,
    connections: usize,
) -> Result<Measured, String> {
    let before = sink.received.load(Ordering::Relaxed);
    let signed_before = sink.signed.load(Ordering::Relaxed);
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
    })
}

/// Runs Sealpost for one protocol; returns its end-to-end throughput (msg/s).
async fn run(setup: &Setup<'_>, protocol: Protocol, messages: usize, connections: usize) -> f64 {
    let Setup {
        binary,
        environment,
        directory,
        token,
        sink,
    } = setup;
    let server = start(binary, directory, environment);
    let address = match protocol {
        Protocol::Http => server.http,
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
        Protocol::Http => "HTTP",
        Protocol::Smtp => "SMTP",
    };
    println!(
        "{name}: {messages} messages of ~4 KB, {connections} connections: {}; all delivered \
         after {:.1} s = {:.0} msg/s signed, committed and delivered; peak RSS {rss:.0} MiB",
        measured.accepted(),
        measured.delivered_in.as_secs_f64(),
        measured.delivered_rate(),
    );
    measured.delivered_rate()
}

/// The reference relay (`bench/postfix-relay.sh`): a private Postfix instance, with or without
/// the OpenDKIM milter, in a temporary directory. Dropping it stops Postfix and OpenDKIM, also
/// when the run fails or panics.
struct Relay {
    script: PathBuf,
    directory: tempfile::TempDir,
    address: SocketAddr,
}

impl Relay {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/postfix-relay.sh")
    }

    async fn start(next_hop: u16, dkim: bool) -> Result<Relay, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| format!("a free port: {error}"))?
            .port();
        let relay = Relay {
            script: Self::script(),
            directory: tempfile::tempdir()
                .map_err(|error| format!("temporary directory: {error}"))?,
            address: SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)),
        };
        let status = Command::new("sh")
            .arg(&relay.script)
            .arg("start")
            .arg(relay.directory.path())
            .arg(port.to_string())
            .arg(next_hop.to_string())
            .arg(if dkim { "dkim" } else { "plain" })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .map_err(|error| format!("run {}: {error}", relay.script.display()))?;
        if !status.success() {
            return Err(format!(
                "postfix-relay.sh start failed ({status}){}",
                relay.log()
            ));
        }
        // The master opens its listening socket shortly after `postfix start` returns.
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(relay.address).await.is_err() {
            if Instant::now() > deadline {
                return Err(format!(
                    "Postfix does not listen on {}{}",
                    relay.address,
                    relay.log()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(relay)
    }

    /// The end of Postfix's and OpenDKIM's logs, for an error message.
    fn log(&self) -> String {
        let mut text = String::new();
        for name in ["maillog", "opendkim/opendkim.log"] {
            let log = std::fs::read_to_string(self.directory.path().join(name)).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            if !lines.is_empty() {
                text.push_str(&format!("\n--- {name} (end):\n"));
                text.push_str(&lines[lines.len().saturating_sub(30)..].join("\n"));
            }
        }
        text
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let stopped = Command::new("sh")
            .arg(&self.script)
            .arg("stop")
            .arg(self.directory.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status();
        if !matches!(stopped, Ok(status) if status.success()) {
            eprintln!(
                "postfix-relay.sh stop {} failed: {stopped:?}",
                self.directory.path().display()
            );
        }
    }
}

/// Relays the messages through Postfix (with OpenDKIM if `dkim`) to the sink and prints the
/// figures and Sealpost's end-to-end throughput as a multiple of Postfix's.
async fn reference(
    sink: &Sink,
    sink_port: u16,
    dkim: bool,
    messages: usize,
    connections: usize,
    sealpost_smtp: f64,
    sealpost_http: f64,
) -> Result<(), String> {
    let relay = Relay::start(sink_port, dkim).await?;
    let measured = measure(
        sink,
        Protocol::Smtp,
        &[relay.address],
        None,
        messages,
        connections,
    )
    .await
    .map_err(|error| format!("{error}{}", relay.log()))?;
    drop(relay);
    let name = if dkim {
        "Postfix+OpenDKIM"
    } else {
        "Postfix alone (no milter)"
    };
    let rate = measured.delivered_rate();
    println!(
        "{name}: {} messages of ~4 KB, {} connections: {}; all relayed after {:.1} s = {rate:.0} \
         msg/s ({} DKIM-signed); ratio Sealpost/Postfix: SMTP end-to-end {:.2}x, HTTP \
         end-to-end {:.2}x",
        measured.messages,
        measured.connections,
        measured.accepted(),
        measured.delivered_in.as_secs_f64(),
        measured.signed,
        sealpost_smtp / rate,
        sealpost_http / rate,
    );
    if dkim && measured.signed != messages {
        return Err(format!(
            "only {} of {messages} messages relayed through OpenDKIM were signed",
            measured.signed
        ));
    }
    Ok(())
}

/// Node-count mode: `nodes` servers on one database (SQLite only for one node), HTTP
/// connections spread round-robin over them, every node delivering; prints the same figures as
/// a single-node run.
async fn cluster(
    setup: &Setup<'_>,
    database: &str,
    nodes: usize,
    messages: usize,
    connections: usize,
) {
    let servers: Vec<Server> = (0..nodes)
        .map(|_| start(setup.binary, setup.directory, setup.environment))
        .collect();
    let addresses: Vec<SocketAddr> = servers.iter().map(|server| server.http).collect();
    let measured = measure(
        setup.sink,
        Protocol::Http,
        &addresses,
        Some(setup.token),
        messages,
        connections,
    )
    .await;
    let rss: Vec<f64> = servers
        .iter()
        .map(|server| peak_rss_mib(server.child.id()))
        .collect();
    let cpu: f64 = servers
        .iter()
        .map(|server| cpu_seconds(server.child.id()))
        .sum();
    for server in servers {
        let mut child = server.child;
        child.kill().ok();
        child.wait().ok();
    }
    let measured = measured.unwrap_or_else(|error| panic!("{error}"));
    let rss: Vec<String> = rss.iter().map(|mib| format!("{mib:.0}")).collect();
    println!(
        "HTTP, {nodes} node(s) on {database}: {messages} messages of ~4 KB, {connections} \
         connections: {}; all delivered after {:.1} s = {:.0} msg/s signed, committed and \
         delivered ({} DKIM-signed); peak RSS per node {} MiB; CPU of all nodes {cpu:.1} s",
        measured.accepted(),
        measured.delivered_in.as_secs_f64(),
        measured.delivered_rate(),
        measured.signed,
        rss.join(", "),
    );
}

/// Runs `psql URL -c SQL`.
fn psql(url: &str, sql: &str) {
    let output = Command::new("psql")
        .args([url, "-X", "-q", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A fresh schema in the PostgreSQL database at `base`: its name and a URL whose connections
/// use it.
fn fresh_schema(base: &str) -> (String, String) {
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| std::io::Read::read_exact(&mut random, &mut bytes))
        .expect("random bytes");
    let suffix: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let schema = format!("sealpost_bench_{suffix}");
    psql(base, &format!("CREATE SCHEMA {schema}"));
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    (schema, url)
}

const USAGE: &str = "usage: sealpost-bench SEALPOST_BINARY [--nodes N [--postgres URL]] \
                     [MESSAGES] [CONNECTIONS]";

#[tokio::main]
async fn main() {
    let mut nodes: Option<usize> = None;
    let mut postgres: Option<String> = None;
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
    let schema = postgres.as_deref().map(fresh_schema);

    let sink = Arc::new(Sink::default());
    let sink_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let sink_port = sink_listener.local_addr().expect("address").port();
    tokio::spawn(sink.clone().serve(sink_listener));
    let dns = sealpost_testdns::TestDns::start(
        sealpost_testdns::Zone::new()
            .mx("receiver.test", 10, "mx.receiver.test")
            .a("mx.receiver.test", std::net::Ipv4Addr::LOCALHOST),
    )
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
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    if let Some((_, url)) = &schema {
        environment.push(("SEALPOST_DATABASE_URL".to_owned(), url.clone()));
    }
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
    cli(&[
        "domain",
        "activate",
        "--tenant",
        "acme",
        "client.test",
        "--json",
    ]);
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
        cluster(&setup, database, nodes, messages, connections).await;
        if let (Some(base), Some((schema, _))) = (&postgres, &schema) {
            psql(base, &format!("DROP SCHEMA {schema} CASCADE"));
        }
        return;
    }
    let http = run(&setup, Protocol::Http, messages, connections).await;
    let smtp = run(&setup, Protocol::Smtp, messages, connections).await;
    drop(dns);
    for dkim in [true, false] {
        if let Err(error) =
            reference(&sink, sink_port, dkim, messages, connections, smtp, http).await
        {
            eprintln!("sealpost-bench: the Postfix reference failed: {error}");
            std::process::exit(1);
        }
    }
}
