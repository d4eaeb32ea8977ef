//! Starts a real spamd for a test and stops it when the test ends, however it ends (the
//! `testing` feature, for this crate's tests and the mail tester's).
//!
//! spamd is not optional here: the point of these tests is that the client reads what spamd
//! really sends, so a missing spamd fails the test with the packages to install rather than
//! skipping it, on CI (`CI=true`) and on a developer's machine alike.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Where Debian's `spamd` package installs the daemon.
const SPAMD: &str = "/usr/sbin/spamd";

/// The rules the Debian `spamassassin` package ships. Naming them keeps the tests offline and
/// independent of whatever `sa-update` may have put under /var/lib/spamassassin.
const RULES: &str = "/usr/share/spamassassin";

/// How long spamd may take to load its rules and accept connections; it usually needs one or
/// two seconds, but a busy two-core CI machine compiling in parallel can be much slower.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A spamd listening on 127.0.0.1 only, killed on drop.
#[derive(Debug)]
pub struct RunningSpamd {
    child: Child,
    address: SocketAddr,
    directory: TempDir,
}

impl RunningSpamd {
    /// Starts spamd on a free loopback port with network tests off, no user configuration, no
    /// Bayes learning (so no state carries over between runs) and its pid file and log in a
    /// temporary directory, and waits until it answers a PING.
    pub fn start() -> Self {
        assert!(
            Path::new(SPAMD).exists(),
            "{SPAMD} is missing: install the Debian packages spamassassin and spamd \
             (apt-get install spamassassin spamd); these tests need a real spamd"
        );
        let directory = tempfile::tempdir().expect("temporary directory for spamd");
        let address = free_loopback_address();
        let log = fs::File::create(directory.path().join("spamd.log")).expect("spamd log file");
        let mut command = Command::new(SPAMD);
        command
            .arg(format!("--listen={address}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg("--local")
            .arg("--nouser-config")
            .arg(format!("--configpath={RULES}"))
            .arg("--cf=use_bayes 0")
            .arg(format!(
                "--pidfile={}",
                directory.path().join("spamd.pid").display()
            ))
            .arg("--syslog=stderr")
            .arg("--min-children=1")
            .arg("--max-children=1");
        // spamd will not scan mail as root: without `--username` its children fall back to
        // `nobody` with a warning at every check. Naming `nobody` makes that explicit, and
        // `nobody` exists everywhere, unlike Debian's `debian-spamd`. A non-root spamd cannot
        // switch users at all, so the option is given only to root.
        if running_as_root() {
            command.arg("--username=nobody");
        }
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("spamd log file"))
            .stderr(log);
        let child = command.spawn().expect("spawn spamd");
        let mut spamd = Self {
            child,
            address,
            directory,
        };
        spamd.wait_until_ready();
        spamd
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Polls with PING until spamd answers PONG. spamd binds its socket only after loading the
    /// rules, but a PING also proves a child is ready to take the next connection.
    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("spamd status") {
                panic!(
                    "spamd exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            if ping(self.address) {
                return;
            }
            assert!(
                started.elapsed() < START_DEADLINE,
                "spamd did not answer PING within {START_DEADLINE:?}:\n{}",
                self.log()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(self.directory.path().join("spamd.log")).unwrap_or_default()
    }
}

impl Drop for RunningSpamd {
    /// Kills the parent; its child, which scans the mail, notices the closed pipe to its parent
    /// and exits by itself.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address with a port the system just handed out and that is now free again; the
/// tiny window in which another process could take it is acceptable in tests.
pub fn free_loopback_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address")
}

fn running_as_root() -> bool {
    fs::metadata("/proc/self")
        .map(|metadata| metadata.uid() == 0)
        .unwrap_or(false)
}

fn ping(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream.write_all(b"PING SPAMC/1.5\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.contains(" 0 PONG")
}
