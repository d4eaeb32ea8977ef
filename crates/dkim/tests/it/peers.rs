//! The independent DKIM implementations the interop tests compare against: dkimpy (from PyPI,
//! in the venv `scripts/test` makes) and OpenDKIM (from Debian), both looking keys up in a real
//! DNS server on loopback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::workspace_root;

/// A canonicalisation pair as both peers spell it.
pub const CANONICALIZATIONS: [&str; 3] = ["relaxed/simple", "relaxed/relaxed", "simple/simple"];

fn python() -> PathBuf {
    let path = std::env::var_os("SEALPOST_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    assert!(
        path.exists(),
        "{} is missing: run ./scripts/test, which installs dkimpy into .venv",
        path.display()
    );
    path
}

fn tool() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/dkimpy_tool.py")
}

fn run(command: &mut Command, input: &[u8]) -> (bool, Vec<u8>, String) {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("wait for the peer");
    writer
        .join()
        .expect("writer thread")
        .expect("write the message");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), output.stdout, stderr)
}

/// dkimpy's verdict: whether every signature verified, and its per-signature lines.
pub fn dkimpy_verify(nameserver: SocketAddr, message: &[u8]) -> (bool, String) {
    let (passed, stdout, stderr) = run(
        Command::new(python()).arg(tool()).args([
            "verify",
            "--nameserver",
            &nameserver.to_string(),
        ]),
        message,
    );
    (
        passed,
        format!("{}{stderr}", String::from_utf8_lossy(&stdout)),
    )
}

/// A message signed by dkimpy.
pub fn dkimpy_sign(
    key: &Path,
    domain: &str,
    selector: &str,
    canon: &str,
    extra: &[&str],
    message: &[u8],
) -> Vec<u8> {
    let (passed, stdout, stderr) = run(
        Command::new(python())
            .arg(tool())
            .args([
                "sign",
                "--key",
                &key.display().to_string(),
                "--domain",
                domain,
                "--selector",
                selector,
                "--canon",
                canon,
            ])
            .args(extra),
        message,
    );
    assert!(passed, "dkimpy could not sign: {stderr}");
    stdout
}

/// OpenDKIM in test mode (`opendkim -t`), configured in its own directory.
pub struct OpenDkim {
    directory: tempfile::TempDir,
}

impl OpenDkim {
    /// A verifier whose resolver (libunbound) forwards every query to `nameserver`.
    pub fn new(nameserver: SocketAddr) -> Self {
        let directory = tempfile::tempdir().expect("temporary directory");
        let unbound = format!(
            "server:\n  do-not-query-localhost: no\n  local-zone: \"test.\" nodefault\n\
             forward-zone:\n  name: \".\"\n  forward-addr: {}@{}\n",
            nameserver.ip(),
            nameserver.port()
        );
        std::fs::write(directory.path().join("unbound.conf"), unbound).expect("write unbound.conf");
        Self { directory }
    }

    fn configure(&self, name: &str, lines: &str) -> PathBuf {
        let path = self.directory.path().join(name);
        let config = format!(
            "Syslog no\nRequireSafeKeys no\nResolverConfiguration {}\n{lines}",
            self.directory.path().join("unbound.conf").display()
        );
        std::fs::write(&path, config).expect("write opendkim.conf");
        path
    }

    /// Runs `opendkim -t` on the message and returns the header fields it would add.
    fn test_mode(&self, config: &Path, message: &[u8]) -> Vec<(String, String)> {
        let file = self.directory.path().join("message.eml");
        std::fs::write(&file, message).expect("write the message");
        let output = Command::new("opendkim")
            .arg("-x")
            .arg(config)
            .arg("-t")
            .arg(&file)
            .arg("-vv")
            .output()
            .expect("opendkim is installed (./scripts/test installs it)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "opendkim -t failed: {text}");
        inserted_headers(&text)
    }

    /// OpenDKIM's `dkim=` result for the message (`pass`, `fail`, `neutral`, ...).
    pub fn verify(&self, message: &[u8]) -> String {
        let config = self.configure("verify.conf", "Mode v\n");
        let headers = self.test_mode(&config, message);
        let results = headers
            .iter()
            .find(|(name, _)| name == "Authentication-Results")
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| panic!("OpenDKIM added no Authentication-Results: {headers:?}"));
        let result = results
            .split("dkim=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no dkim= in {results}"));
        result.to_owned()
    }

    /// OpenDKIM's `dkim=` results for each signature of the message, as `(result, selector)`.
    pub fn verify_each(&self, message: &[u8]) -> Vec<(String, String)> {
        let config = self.configure("verify.conf", "Mode v\n");
        let headers = self.test_mode(&config, message);
        let results = headers
            .iter()
            .find(|(name, _)| name == "Authentication-Results")
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| panic!("OpenDKIM added no Authentication-Results: {headers:?}"));
        results
            .split("dkim=")
            .skip(1)
            .map(|entry| {
                let result = entry.split_whitespace().next().unwrap_or("").to_owned();
                let selector = entry
                    .split("header.s=")
                    .nth(1)
                    .and_then(|rest| rest.split([' ', ';', '\n', '\t']).next())
                    .unwrap_or("")
                    .to_owned();
                (result, selector)
            })
            .collect()
    }

    /// The message signed by OpenDKIM with the given canonicalisation.
    pub fn sign(
        &self,
        key: &Path,
        domain: &str,
        selector: &str,
        canon: &str,
        message: &[u8],
    ) -> Vec<u8> {
        let config = self.configure(
            "sign.conf",
            &format!(
                "Mode s\nDomain {domain}\nSelector {selector}\nKeyFile {}\nCanonicalization {canon}\n",
                key.display()
            ),
        );
        let headers = self.test_mode(&config, message);
        let (_, value) = headers
            .iter()
            .find(|(name, _)| name == "DKIM-Signature")
            .unwrap_or_else(|| panic!("OpenDKIM did not sign: {headers:?}"));
        let mut signed =
            format!("DKIM-Signature: {}\r\n", value.replace('\n', "\r\n")).into_bytes();
        signed.extend_from_slice(message);
        signed
    }
}

/// Reads the `### INSHEADER: idx=0 hname='NAME' hvalue='VALUE'` lines test mode prints; values
/// may run over several lines.
fn inserted_headers(output: &str) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    let mut rest = output;
    while let Some(start) = rest.find("hname='") {
        rest = &rest[start + 7..];
        let Some(name_end) = rest.find('\'') else {
            break;
        };
        let name = rest[..name_end].to_owned();
        let Some(value_start) = rest.find("hvalue='") else {
            break;
        };
        rest = &rest[value_start + 8..];
        let value_end = rest
            .find("'\n")
            .or_else(|| rest.rfind('\''))
            .unwrap_or(rest.len());
        headers.push((name, rest[..value_end].to_owned()));
        rest = &rest[value_end..];
    }
    headers
}
