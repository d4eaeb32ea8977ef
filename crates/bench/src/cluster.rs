//! Node-count mode: several nodes on one PostgreSQL database.

use std::net::SocketAddr;
use std::process::Command;

use crate::*;

/// Node-count mode: `nodes` servers on one database (SQLite only for one node), HTTP
/// connections spread round-robin over them, every node delivering; prints the same figures as
/// a single-node run and returns the end-to-end rate.
pub(crate) async fn cluster(
    setup: &Setup<'_>,
    database: &str,
    nodes: usize,
    messages: usize,
    connections: usize,
) -> f64 {
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
    measured.delivered_rate()
}

/// Runs `psql URL -c SQL`.
pub(crate) fn psql(url: &str, sql: &str) {
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
pub(crate) fn fresh_schema(base: &str) -> (String, String) {
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
