//! `serve` with `[dkim_zone] listen` answers DNS for the platform's DKIM zone (SPEC S11.4) over
//! UDP and TCP, authoritatively.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpStream, UdpSocket};
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

/// A query for the SOA of `dkim.demo.test`, without recursion desired.
fn soa_query() -> Vec<u8> {
    let mut query = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["dkim", "demo", "test"] {
        query.push(u8::try_from(label.len()).unwrap());
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 6, 0, 1]);
    query
}

/// The answer's id, authoritative bit, response code and answer count.
fn summary(answer: &[u8]) -> (u16, bool, u8, u16) {
    (
        u16::from_be_bytes([answer[0], answer[1]]),
        answer[2] & 0x04 != 0,
        answer[3] & 0x0f,
        u16::from_be_bytes([answer[6], answer[7]]),
    )
}

#[test]
fn serve_answers_for_the_dkim_zone_over_udp_and_tcp() {
    let directory = tempfile::tempdir().unwrap();
    let mut child = command(
        directory.path(),
        &[
            ("SEALPOST_DKIM_ZONE__LISTEN", "127.0.0.1:0"),
            ("SEALPOST_DKIM_ZONE__ZONE", "dkim.demo.test"),
        ],
    )
    .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let address = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no DKIM zone line"
        );
        if let Some(rest) = line
            .trim()
            .strip_prefix("sealpost serving the DKIM zone dkim.demo.test on ")
        {
            break rest.trim_end_matches(" (UDP and TCP)").to_owned();
        }
    };

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.send_to(&soa_query(), &address).unwrap();
    let mut buffer = [0; 1232];
    let length = socket.recv(&mut buffer).unwrap();
    assert_eq!(summary(&buffer[..length]), (0x1234, true, 0, 1));

    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let query = soa_query();
    let prefix = u16::try_from(query.len()).unwrap().to_be_bytes();
    stream.write_all(&[&prefix[..], &query].concat()).unwrap();
    let mut prefix = [0; 2];
    stream.read_exact(&mut prefix).unwrap();
    let mut answer = vec![0; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(summary(&answer), (0x1234, true, 0, 1));

    child.kill().unwrap();
    child.wait().unwrap();
}
