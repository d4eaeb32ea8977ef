//! The server under test as a process: starting it, and what /proc says about its memory and CPU.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Peak resident memory of a process, from /proc.
pub(crate) fn peak_rss_mib(pid: u32) -> f64 {
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
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
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

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) http: SocketAddr,
    pub(crate) smtp: SocketAddr,
}

pub(crate) fn sealpost(
    binary: &Path,
    directory: &Path,
    environment: &[(String, String)],
) -> Command {
    let mut command = Command::new(binary);
    // Warnings only, unless the caller asks for more (`SEALPOST_LOG=warn,sqlx::query=debug`
    // lists every statement the server runs).
    let log = std::env::var("SEALPOST_LOG").unwrap_or_else(|_| "warn".to_owned());
    command.current_dir(directory).env("SEALPOST_LOG", log);
    for (name, value) in environment {
        command.env(name, value);
    }
    command
}

pub(crate) fn start(binary: &Path, directory: &Path, environment: &[(String, String)]) -> Server {
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
