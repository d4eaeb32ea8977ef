//! What the resilience tests share: a real DNS server with an MX for the recipients' domain, an
//! aiosmtpd sink playing their mail server, a data directory with a master key and a tenant,
//! and the real binary as nodes.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_sealpost");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    std::env::var_os("SEALPOST_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"))
}

/// The environment of every node and command, plus the sink and DNS server they use.
pub struct Harness {
    /// The DNS server every node and command uses; it runs as long as the harness.
    dns: sealpost_testdns::TestDns,
    /// What the DNS server answers, so tests can add records.
    zone: std::sync::Mutex<sealpost_testdns::Zone>,
    pub token: String,
    mailbox: tempfile::TempDir,
    sink: Child,
    directory: tempfile::TempDir,
    environment: Vec<(&'static str, String)>,
}

impl Harness {
    /// Starts the DNS server and the sink, makes a master key, the tenant `acme` and its API
    /// key, on SQLite or on `database_url`. `extra` adds settings for every node.
    pub async fn start(database_url: Option<&str>, extra: &[(&'static str, String)]) -> Self {
        let zone = sealpost_testdns::Zone::new()
            .mx("receiver.test", 10, "mx.receiver.test")
            .a("mx.receiver.test", std::net::Ipv4Addr::LOCALHOST);
        let dns = sealpost_testdns::TestDns::start(zone.clone())
            .await
            .unwrap();
        let mailbox = tempfile::tempdir().unwrap();
        let sink_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut sink = Command::new(python())
            .arg(workspace().join("crates/service/tests/interop/sink.py"))
            .arg(mailbox.path())
            .arg(sink_port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the aiosmtpd sink (./scripts/test installs it)");
        let mut ready = String::new();
        BufReader::new(sink.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready");

        let mut environment = vec![
            ("SEALPOST_MASTER_KEY_FILE", "master.key".to_owned()),
            ("SEALPOST_NAMESERVER", dns.addr().to_string()),
            ("SEALPOST_DELIVERY__REMOTE_PORT", sink_port.to_string()),
            ("SEALPOST_DELIVERY__LEASE_SECONDS", "2".to_owned()),
            // The sink takes whatever it is sent, and these tests are about what survives a
            // kill, not about shaping: a receiver's default rate (1,200 a minute, which the
            // nodes of a cluster share) would stretch their runs past their deadlines.
            (
                "SEALPOST_DELIVERY__TRAFFIC__DEFAULT_DESTINATION__MESSAGES_PER_MINUTE",
                "600000".to_owned(),
            ),
        ];
        if let Some(url) = database_url {
            environment.push(("SEALPOST_DATABASE_URL", url.to_owned()));
        }
        environment.extend(extra.iter().cloned());
        let mut harness = Self {
            dns,
            zone: std::sync::Mutex::new(zone.clone()),
            token: String::new(),
            mailbox,
            sink,
            directory: tempfile::tempdir().unwrap(),
            environment,
        };
        harness.cli(&["master-key", "generate", "--out", "master.key", "--json"]);
        harness.cli(&["tenant", "create", "acme", "--json"]);
        // The tenant proves the domain it sends from, as on the internet: the verification
        // record goes into its DNS, then the proof is looked up.
        let added = harness.cli(&[
            "sending-domain",
            "add",
            "--tenant",
            "acme",
            "client.test",
            "--json",
        ]);
        let record = &added["verification_record"];
        harness.publish_txt(
            record["name"].as_str().unwrap(),
            record["value"].as_str().unwrap(),
        );
        harness.cli(&[
            "sending-domain",
            "verify",
            "--tenant",
            "acme",
            "client.test",
            "--json",
        ]);
        harness.token =
            harness.cli(&["tenant", "api-key", "acme", "--label", "t", "--json"])["token"]
                .as_str()
                .unwrap()
                .to_owned();
        harness
    }

    /// Adds a TXT record (a long value split into strings of 255 bytes) to the DNS server.
    pub fn publish_txt(&self, name: &str, value: &str) {
        let mut zone = self.zone.lock().unwrap();
        *zone = zone.clone().txt_split(name, value);
        self.dns.replace(zone.clone()).unwrap();
    }

    /// The DNS server's address.
    pub fn nameserver(&self) -> String {
        self.dns.addr().to_string()
    }

    /// The directory every command runs in (the key files are there).
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }

    /// A command with the harness's settings and `extra` on top of them.
    pub fn command_with(&self, extra: &[(&str, &str)]) -> Command {
        let mut command = self.command();
        for (name, value) in extra {
            command.env(name, value);
        }
        command
    }

    fn command(&self) -> Command {
        let mut command = Command::new(BINARY);
        command.current_dir(self.directory.path());
        for (name, _) in std::env::vars() {
            if name.starts_with("SEALPOST_") && name != "SEALPOST_TEST_PYTHON" {
                command.env_remove(name);
            }
        }
        command.env("SEALPOST_LOG", "warn");
        for (name, value) in &self.environment {
            command.env(name, value);
        }
        command
    }

    /// Runs a CLI command that must succeed and prints JSON.
    pub fn cli(&self, arguments: &[&str]) -> Value {
        self.cli_with(&[], arguments)
    }

    /// Runs a CLI command with `extra` settings; it must succeed and print JSON.
    pub fn cli_with(&self, extra: &[(&str, &str)], arguments: &[&str]) -> Value {
        let output = self.command_with(extra).args(arguments).output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Starts a node and returns it with its HTTP address.
    pub fn node(&self) -> (Child, String) {
        self.node_with(&[])
    }

    /// Starts a node with `extra` settings.
    pub fn node_with(&self, extra: &[(&str, &str)]) -> (Child, String) {
        let mut child = self
            .command_with(extra)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line
            .trim()
            .strip_prefix("sealpost listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        (child, address)
    }

    /// The messages in the sink's mailbox by sequence number (the last copy of each).
    pub fn delivered_files(&self) -> BTreeMap<usize, PathBuf> {
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(self.mailbox.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|extension| extension != "eml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if let Some(sequence) = text
                .lines()
                .find_map(|line| line.strip_prefix("X-Sequence: "))
                .and_then(|number| number.trim().parse().ok())
            {
                files.insert(sequence, path);
            }
        }
        files
    }

    /// The sequence numbers in the sink's mailbox, with how often each arrived.
    pub fn delivered(&self) -> BTreeMap<usize, usize> {
        let mut counts = BTreeMap::new();
        for entry in std::fs::read_dir(self.mailbox.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|extension| extension == "eml") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if let Some(sequence) = text
                    .lines()
                    .find_map(|line| line.strip_prefix("X-Sequence: "))
                    .and_then(|number| number.trim().parse().ok())
                {
                    *counts.entry(sequence).or_insert(0) += 1;
                }
            }
        }
        counts
    }

    /// [`Self::delivered`] once the sink has stopped writing: what a killed node sent last may
    /// still be in the sink's socket buffer, or half written, when the node is gone, and it is
    /// that node's delivery. Two reads 300 ms apart that agree are taken as settled; a sink that
    /// is still receiving after 10 s has a sender the test did not stop, which is a failure.
    pub fn delivered_when_settled(&self) -> BTreeMap<usize, usize> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = self.delivered();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = self.delivered();
            if now == last {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "the sink was still receiving 10 s after every node had stopped"
            );
            last = now;
        }
    }

    /// Waits until every acknowledged sequence has arrived, at most `limit`.
    pub async fn wait_for_delivery(
        &self,
        acknowledged: &[usize],
        limit: Duration,
    ) -> BTreeMap<usize, usize> {
        let deadline = Instant::now() + limit;
        loop {
            let counts = self.delivered();
            let complete = acknowledged
                .iter()
                .all(|sequence| counts.contains_key(sequence));
            if complete || Instant::now() > deadline {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        drop(self.sink.stdin.take());
        let _ = self.sink.wait();
    }
}

/// Submits message `sequence` over HTTP; true only when the node answered 202.
pub fn submit(address: &str, token: &str, sequence: usize) -> bool {
    submit_from(address, token, "client.test", sequence)
}

/// Submits message `sequence` from an address at `domain`.
pub fn submit_from(address: &str, token: &str, domain: &str, sequence: usize) -> bool {
    let body = serde_json::json!({
        "mail_from": format!("bounce@{domain}"),
        "recipients": ["someone@receiver.test"],
        "raw": format!("From: a@{domain}\r\nSubject: resilience\r\nX-Sequence: {sequence}\r\n\r\nMessage {sequence}.\r\n"),
    })
    .to_string();
    let attempt = || -> Option<bool> {
        let mut stream = std::net::TcpStream::connect(address).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .ok()?;
        write!(
            stream,
            "POST /api/v1/messages/raw HTTP/1.1\r\nHost: sealpost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        Some(response.starts_with("HTTP/1.1 202"))
    };
    attempt().unwrap_or(false)
}

/// Acknowledged sequences that never arrived.
pub fn missing(acknowledged: &[usize], counts: &BTreeMap<usize, usize>) -> Vec<usize> {
    acknowledged
        .iter()
        .filter(|sequence| !counts.contains_key(sequence))
        .copied()
        .collect()
}

/// Deliveries beyond the first of each message.
pub fn duplicates(counts: &BTreeMap<usize, usize>) -> usize {
    counts.values().map(|count| count - 1).sum()
}

/// Waits for a process to end, at most `limit`.
pub fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGTERM, as a service manager stops a node.
pub fn terminate(child: &Child) {
    let signalled = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
}
