//! The reference: Postfix, with and without the OpenDKIM milter, relaying the same messages to
//! the same sink.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::*;

/// The reference relay (`bench/postfix-relay.sh`): a private Postfix instance, with or without
/// the OpenDKIM milter, in a temporary directory. Dropping it stops Postfix and OpenDKIM, also
/// when the run fails or panics.
pub(crate) struct Relay {
    pub(crate) script: PathBuf,
    pub(crate) directory: tempfile::TempDir,
    pub(crate) address: SocketAddr,
}

impl Relay {
    pub(crate) fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/postfix-relay.sh")
    }

    pub(crate) async fn start(next_hop: u16, dkim: bool) -> Result<Relay, String> {
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
    pub(crate) fn log(&self) -> String {
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
/// figures and each of Sealpost's end-to-end throughputs (named, in msg/s) as a multiple of
/// Postfix's.
pub(crate) async fn reference(
    sink: &Sink,
    sink_port: u16,
    dkim: bool,
    messages: usize,
    connections: usize,
    sealpost: &[(&str, f64)],
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
    let ratios: Vec<String> = sealpost
        .iter()
        .map(|(run, sealpost)| format!("{run} end-to-end {:.2}x", sealpost / rate))
        .collect();
    println!(
        "{name}: {} messages of ~4 KB, {} connections: {}; all relayed after {:.1} s = {rate:.0} \
         msg/s ({} DKIM-signed); ratio Sealpost/Postfix: {}",
        measured.messages,
        measured.connections,
        measured.accepted(),
        measured.delivered_in.as_secs_f64(),
        measured.signed,
        ratios.join(", "),
    );
    if dkim && measured.signed != messages {
        return Err(format!(
            "only {} of {messages} messages relayed through OpenDKIM were signed",
            measured.signed
        ));
    }
    Ok(())
}
