//! A demo node (`sealpost serve --demo`) in a temporary directory, and small HTTP and SMTP
//! clients that speak to it over real sockets.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_sealpost");

pub struct Demo {
    child: Child,
    directory: tempfile::TempDir,
    /// The embedded DNS server's address.
    pub dns: String,
    pub http: String,
    pub checker: String,
    pub api_key: String,
    /// Everything the demo printed on stdout up to its announcement.
    pub announced: String,
}

impl Demo {
    /// Starts the demo with `environment` added and reads where it listens from its output.
    pub fn start(environment: &[(&str, String)]) -> Self {
        let directory = tempfile::tempdir().unwrap();
        let mut child = Command::new(BINARY)
            .current_dir(directory.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SEALPOST_LOG", "warn")
            .envs(environment.iter().map(|(key, value)| (*key, value)))
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(directory.path().join("stderr.log")).unwrap())
            .spawn()
            .unwrap();
        let mut announced = String::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut http, mut checker, mut api_key, mut dns) = (None, None, None, None);
        // The announcement ends with the command that reads the reports.
        while !announced.contains("/api/v1/checker/reports\n") {
            let line = lines
                .next()
                .expect("the demo prints where it listens")
                .unwrap();
            announced.push_str(&line);
            announced.push('\n');
            if let Some(rest) = line.strip_prefix("sealpost listening on http://") {
                http = Some(rest.trim().to_owned());
            } else if let Some(rest) = line.strip_prefix("sealpost mail tester on ") {
                checker = rest.split_whitespace().next().map(str::to_owned);
            } else if let Some((_, rest)) = line.split_once("Embedded DNS on ") {
                dns = rest.split_whitespace().next().map(str::to_owned);
            } else if let Some((_, key)) = line.split_once("API key: ") {
                api_key = Some(key.trim().to_owned());
            }
        }
        // The rest of the output is read and dropped, so the node never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            directory,
            dns: dns.unwrap(),
            http: http.unwrap(),
            checker: checker.unwrap(),
            api_key: api_key.unwrap(),
            announced,
        }
    }

    /// One HTTP request with the demo tenant's key; the status and the body (JSON, or a string
    /// for other content).
    pub fn request(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.http).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: sealpost\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.api_key,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let status = head[9..12].parse().unwrap();
        let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
        (status, body)
    }

    /// Waits for the reports of a test address, at most 60 seconds.
    pub fn reports(&self, token: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, body) = self.request(
                "GET",
                &format!("/api/v1/checker/reports?token={token}"),
                None,
            );
            assert_eq!(status, 200, "{body}");
            let reports = body.as_array().unwrap().clone();
            if reports.len() >= count {
                return reports;
            }
            assert!(
                Instant::now() < deadline,
                "{count} report(s) for {token} did not arrive"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The message once its first recipient has left the `queued` and `sending` states: the
    /// listener stores a report before its 250, and the sender records the outcome only after
    /// it, so a report can be readable a moment before the outcome is.
    pub fn settled_message(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, message) = self.request("GET", &format!("/api/v1/messages/{id}"), None);
            assert_eq!(status, 200, "{message}");
            let state = message["recipients"][0]["state"].as_str().unwrap_or("");
            if !matches!(state, "queued" | "sending") {
                return message;
            }
            assert!(Instant::now() < deadline, "{id} did not settle: {message}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the node has logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.directory.path().join("stderr.log")).unwrap()
    }

    /// Runs a CLI command against the demo's data directory (its database and master key),
    /// configured with the demo's platform and mail tester domain as an operator's file would
    /// be.
    pub fn cli(&self, arguments: &[&str]) -> std::process::Output {
        Command::new(BINARY)
            .current_dir(self.directory.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SEALPOST_LOG", "warn")
            .env("SEALPOST_CHECKER__DOMAIN", "checker.sealpost.test")
            .env("SEALPOST_PLATFORM__DOMAIN", "mail.sealpost.test")
            .env("SEALPOST_PLATFORM__SENDING_IPS", "[\"127.0.0.0/8\"]")
            .args(arguments)
            .output()
            .unwrap()
    }

    /// A fresh test address: (address, token).
    pub fn test_address(&self) -> (String, String) {
        let (status, body) = self.request("POST", "/api/v1/checker/addresses", None);
        assert_eq!(status, 201, "{body}");
        (
            body["address"].as_str().unwrap().to_owned(),
            body["token"].as_str().unwrap().to_owned(),
        )
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The codes of a report's problems.
pub fn problems(report: &Value) -> Vec<String> {
    report["report"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The status of the named check (the first one, for DKIM).
pub fn check(report: &Value, name: &str) -> String {
    report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == name)
        .map(|check| check["status"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

/// An SMTP session with the listener at `address`: greets as `helo`, then sends each command
/// and returns the replies' first lines. `DATA` is followed by `message`, dot-stuffed.
pub struct Smtp {
    reader: BufReader<TcpStream>,
    stream: TcpStream,
}

impl Smtp {
    pub fn connect(address: &str, helo: &str) -> Self {
        let stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut smtp = Self {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
        };
        assert!(smtp.reply().starts_with("220"));
        assert!(smtp.command(&format!("EHLO {helo}")).starts_with("250"));
        smtp
    }

    /// Reads one reply and returns its last line (the one with the final code).
    fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return line.trim_end().to_owned();
            }
        }
    }

    pub fn command(&mut self, line: &str) -> String {
        write!(self.stream, "{line}\r\n").unwrap();
        self.reply()
    }

    /// MAIL, RCPT and DATA for one message; the reply to the end of DATA.
    pub fn send(&mut self, mail_from: &str, rcpt: &str, message: &str) -> String {
        assert!(
            self.command(&format!("MAIL FROM:<{mail_from}>"))
                .starts_with("250")
        );
        let reply = self.command(&format!("RCPT TO:<{rcpt}>"));
        assert!(reply.starts_with("250"), "{reply}");
        assert!(self.command("DATA").starts_with("354"));
        let mut data = String::new();
        for line in message.replace("\r\n", "\n").lines() {
            if line.starts_with('.') {
                data.push('.');
            }
            data.push_str(line);
            data.push_str("\r\n");
        }
        data.push_str(".\r\n");
        self.stream.write_all(data.as_bytes()).unwrap();
        self.reply()
    }
}
