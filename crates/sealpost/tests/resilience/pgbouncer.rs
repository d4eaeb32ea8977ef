//! Debian's PgBouncer (1.18) in front of the test PostgreSQL, one private instance per test on a
//! loopback port, with a database of its own (a pooler resets session settings, so a schema
//! chosen by search_path would not hold). In session pooling mode Sealpost works through it; in
//! transaction pooling mode 1.18 hands prepared statements to the wrong clients, and the
//! start-up check must refuse to run.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Harness;

#[derive(Debug, Clone, Copy)]
pub enum PoolMode {
    Session,
    Transaction,
}

pub struct PgBouncer {
    child: Child,
    port: u16,
    database: String,
    _directory: tempfile::TempDir,
}

/// The test server's user, host and port, from `SEALPOST_TEST_POSTGRES_URL`
/// (`postgres://USER@HOST:PORT/DATABASE`).
fn server() -> (String, String, String) {
    let url = sealpost_store::testing::postgres_url();
    let rest = url.split_once("://").expect("a postgres:// URL").1;
    let (user, rest) = rest.split_once('@').expect("a user in the test URL");
    let address = rest.split(['/', '?']).next().unwrap();
    let (host, port) = address.split_once(':').unwrap_or((address, "5432"));
    (user.to_owned(), host.to_owned(), port.to_owned())
}

fn psql(database_url: &str, statement: &str) {
    let output = Command::new("psql")
        .args([database_url, "-X", "-qc", statement])
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "{statement}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl PgBouncer {
    /// Creates a fresh database and starts PgBouncer in front of it.
    pub fn start(mode: PoolMode) -> Self {
        let directory = tempfile::tempdir().unwrap();
        // The directory's random name makes the database's name unique.
        let suffix: String = directory
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let database = format!(
            "{}pgbouncer_{}",
            sealpost_store::testing::SCHEMA_PREFIX,
            suffix.to_ascii_lowercase()
        );
        psql(
            &sealpost_store::testing::postgres_url(),
            &format!("CREATE DATABASE {database}"),
        );
        let port = free_port();
        write_config(directory.path(), &database, port, mode);
        let child = spawn(directory.path());
        let pgbouncer = Self {
            child,
            port,
            database,
            _directory: directory,
        };
        pgbouncer.wait_until_listening();
        pgbouncer
    }

    /// The URL Sealpost uses: through PgBouncer.
    pub fn url(&self) -> String {
        let (user, _, _) = server();
        format!(
            "postgres://{user}@127.0.0.1:{}/{}",
            self.port, self.database
        )
    }

    /// The same database straight on PostgreSQL, for the test's own checks.
    pub fn direct_url(&self) -> String {
        let (user, host, port) = server();
        format!("postgres://{user}@{host}:{port}/{}", self.database)
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            assert!(Instant::now() < deadline, "PgBouncer did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        psql(
            &sealpost_store::testing::postgres_url(),
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
        );
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

/// PgBouncer 1.18 refuses startup parameters it does
/// not know: sqlx sends `extra_float_digits`, and Sealpost its statement timeout in `options`,
/// which therefore does not reach PostgreSQL through it (docs/operator.md says what to do).
fn write_config(directory: &Path, database: &str, port: u16, mode: PoolMode) {
    let (user, host, server_port) = server();
    // In session mode a client keeps its server connection, so the pool must hold every
    // node's connections; in transaction mode a small pool makes clients share them.
    let (mode, pool_size) = match mode {
        PoolMode::Session => ("session", 60),
        PoolMode::Transaction => ("transaction", 2),
    };
    let config = format!(
        "[databases]\n{database} = host={host} port={server_port} dbname={database}\n\n\
         [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
         auth_type = trust\nauth_file = {users}\npool_mode = {mode}\ndefault_pool_size = {pool_size}\n\
         max_client_conn = 200\nignore_startup_parameters = extra_float_digits,options\n\
         logfile = {log}\n",
        users = directory.join("users.txt").display(),
        log = directory.join("pgbouncer.log").display(),
    );
    std::fs::write(directory.join("pgbouncer.ini"), config).unwrap();
    std::fs::write(directory.join("users.txt"), format!("\"{user}\" \"\"\n")).unwrap();
}

/// PgBouncer refuses to run as root; under root (a CI container) it runs as the postgres user,
/// which then needs to read its directory.
fn spawn(directory: &Path) -> Child {
    let config = directory.join("pgbouncer.ini");
    let mut command = match Command::new("id").arg("-u").output() {
        Ok(output) if String::from_utf8_lossy(&output.stdout).trim() == "0" => {
            let chown = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(directory)
                .status()
                .unwrap();
            assert!(chown.success());
            std::fs::set_permissions(
                directory,
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
            .unwrap();
            let mut command = Command::new("setpriv");
            command.args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "pgbouncer",
            ]);
            command
        }
        _ => Command::new("pgbouncer"),
    };
    command
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pgbouncer (Debian's pgbouncer package; ./scripts/test installs it)")
}

/// Behind PgBouncer 1.18 in transaction pooling mode, the start-up check sees prepared
/// statements reach the wrong clients and refuses: the CLI and the server both stop with the
/// message that names the settings that work, and the server never listens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_pooler_that_mixes_statements_is_refused_at_start() {
    let pgbouncer = PgBouncer::start(PoolMode::Transaction);
    let directory = tempfile::tempdir().unwrap();
    let url = pgbouncer.url();
    let run = |arguments: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sealpost"))
            .current_dir(directory.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SEALPOST_DATABASE_URL", &url)
            .env(
                "SEALPOST_MASTER_KEY",
                "0404040404040404040404040404040404040404040404040404040404040404",
            )
            .env("SEALPOST_HTTP_LISTEN", "127.0.0.1:0")
            .args(arguments)
            .output()
            .unwrap()
    };
    for arguments in [&["tenant", "list"][..], &["serve"][..]] {
        let output = run(arguments);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{arguments:?}: {stderr}");
        for words in [
            "gives prepared statements to the wrong clients",
            "pool_mode = session",
            "max_prepared_statements",
        ] {
            assert!(
                stderr.contains(words),
                "{arguments:?}: {words:?} not in {stderr}"
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!stdout.contains("listening"), "{stdout}");
    }

    // The same database straight on PostgreSQL passes the check.
    let direct = Harness::start(Some(&pgbouncer.direct_url()), &[]).await;
    assert!(!direct.token.is_empty());
}
