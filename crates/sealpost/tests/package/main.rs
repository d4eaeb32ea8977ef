//! The Debian package: `packaging/build-deb` packs the test build of the binary, the package's
//! metadata and contents are checked with `dpkg-deb`, and the package is unpacked into a
//! throw-away root (`dpkg -x`) whose binary then runs with the packaged configuration. The
//! maintainer scripts (user, master key) need a real installation and are only syntax-checked.

mod monitoring;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_sealpost");
const VERSION: &str = env!("CARGO_PKG_VERSION");
const UNIT: &str = "lib/systemd/system/sealpost.service";
const CONFIG: &str = "etc/sealpost/sealpost.toml";

#[test]
fn the_debian_package_installs_a_working_sealpost() {
    let work = tempfile::tempdir().unwrap();
    let deb = build_deb(work.path());
    check_metadata(&deb);
    check_contents(&deb);

    let root = work.path().join("root");
    succeeds(Command::new("dpkg").arg("-x").arg(&deb).arg(&root));
    check_version(&root);
    check_manual_and_completions(&root);
    check_maintainer_scripts(work.path(), &deb);
    check_config(work.path(), &root);
    check_invalid_config(work.path(), &root);
    check_database_command(work.path(), &root);
    check_unit(&root);
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `packaging/build-deb`, whose last line is the package's path.
fn build_deb(work: &Path) -> PathBuf {
    let output = succeeds(
        Command::new(repository().join("packaging/build-deb"))
            .env("DEB_COMPRESSION", "none")
            .arg(BINARY)
            .arg(work.join("out")),
    );
    let deb = PathBuf::from(stdout(&output).lines().last().unwrap());
    assert_eq!(
        deb,
        work.join(format!("out/sealpost_{VERSION}_{}.deb", architecture()))
    );
    deb
}

fn architecture() -> String {
    let output = succeeds(Command::new("dpkg").arg("--print-architecture"));
    stdout(&output).trim().to_owned()
}

fn check_metadata(deb: &Path) {
    let field = |name: &str| {
        let output = succeeds(Command::new("dpkg-deb").arg("--field").arg(deb).arg(name));
        stdout(&output).trim().to_owned()
    };
    assert_eq!(field("Package"), "sealpost");
    assert_eq!(field("Version"), VERSION);
    assert_eq!(field("Architecture"), architecture());
    let depends = field("Depends");
    assert!(
        depends.starts_with("adduser, procps, ") && depends.contains("libc6 (>= "),
        "{depends}"
    );
    let conffiles = succeeds(
        Command::new("dpkg-deb")
            .arg("--info")
            .arg(deb)
            .arg("conffiles"),
    );
    assert_eq!(stdout(&conffiles), "/etc/sealpost/sealpost.toml\n");
    let info = stdout(&succeeds(Command::new("dpkg-deb").arg("--info").arg(deb)));
    for script in ["postinst", "prerm", "postrm", "md5sums"] {
        let listed = info.lines().any(|line| {
            line.contains(" lines ") && line.split_whitespace().any(|word| word == script)
        });
        assert!(listed, "no {script}:\n{info}");
    }
}

/// Every file the package must hold, with its mode and owner; and no secret among them.
fn check_contents(deb: &Path) {
    let listing = stdout(&succeeds(
        Command::new("dpkg-deb").arg("--contents").arg(deb),
    ));
    let entry = |path: &str| {
        listing
            .lines()
            .find(|line| line.ends_with(&format!(" ./{path}")))
            .unwrap_or_else(|| panic!("{path} is not in the package:\n{listing}"))
            .to_owned()
    };
    let expected = [
        ("usr/bin/sealpost", "-rwxr-xr-x"),
        (UNIT, "-rw-r--r--"),
        (CONFIG, "-rw-r--r--"),
        ("usr/share/man/man1/sealpost.1.gz", "-rw-r--r--"),
        ("usr/share/man/man1/sealpost-serve.1.gz", "-rw-r--r--"),
        ("usr/share/man/man1/sealpost-config.1.gz", "-rw-r--r--"),
        (
            "usr/share/man/man1/sealpost-tenant-create.1.gz",
            "-rw-r--r--",
        ),
        (
            "usr/share/bash-completion/completions/sealpost",
            "-rw-r--r--",
        ),
        ("usr/share/zsh/vendor-completions/_sealpost", "-rw-r--r--"),
        (
            "usr/share/fish/vendor_completions.d/sealpost.fish",
            "-rw-r--r--",
        ),
        ("usr/share/doc/sealpost/copyright", "-rw-r--r--"),
        ("usr/share/doc/sealpost/changelog.gz", "-rw-r--r--"),
        ("usr/share/doc/sealpost/operator.md", "-rw-r--r--"),
        (
            "usr/share/doc/sealpost/examples/monitoring/sealpost-alerts.yml",
            "-rw-r--r--",
        ),
        (
            "usr/share/doc/sealpost/examples/monitoring/sealpost-dashboard.json",
            "-rw-r--r--",
        ),
    ];
    for (path, mode) in expected {
        let line = entry(path);
        assert!(line.starts_with(&format!("{mode} root/root ")), "{line}");
    }
    // The key is made on the installed machine; the hidden packaging command has no page.
    assert!(!listing.contains("master.key"), "{listing}");
    assert!(!listing.contains("sealpost.env"), "{listing}");
    assert!(!listing.contains("sealpost-generate"), "{listing}");
}

fn check_version(root: &Path) {
    let output = succeeds(Command::new(root.join("usr/bin/sealpost")).arg("--version"));
    assert_eq!(stdout(&output), format!("sealpost {VERSION}\n"));
}

fn check_manual_and_completions(root: &Path) {
    let page = stdout(&succeeds(
        Command::new("gzip")
            .arg("-dc")
            .arg(root.join("usr/share/man/man1/sealpost.1.gz")),
    ));
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert!(page.contains(".TH sealpost 1"), "{page}");
    assert!(page.contains("sealpost\\-serve(1)"), "{page}");
    assert!(page.contains("SEALPOST_CONFIG"), "{page}");
    assert!(!page.contains("generate"), "{page}");

    let bash = root.join("usr/share/bash-completion/completions/sealpost");
    succeeds(Command::new("bash").arg("-n").arg(&bash));
    let bash = std::fs::read_to_string(bash).unwrap();
    assert!(bash.contains("complete -F _sealpost"), "{bash}");
    assert!(bash.contains("master-key"), "{bash}");
    let zsh = std::fs::read_to_string(root.join("usr/share/zsh/vendor-completions/_sealpost"));
    assert!(zsh.unwrap().starts_with("#compdef sealpost"));
    let fish = root.join("usr/share/fish/vendor_completions.d/sealpost.fish");
    assert!(
        std::fs::read_to_string(fish)
            .unwrap()
            .contains("complete -c sealpost")
    );
}

/// The maintainer scripts run as root on a real installation; here they must at least parse.
fn check_maintainer_scripts(work: &Path, deb: &Path) {
    let control = work.join("control");
    succeeds(
        Command::new("dpkg-deb")
            .arg("--control")
            .arg(deb)
            .arg(&control),
    );
    for script in ["postinst", "prerm", "postrm"] {
        succeeds(Command::new("sh").arg("-n").arg(control.join(script)));
    }
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("adduser --system --group"), "{postinst}");
    assert!(
        postinst.contains("chmod 0600 /etc/sealpost/master.key"),
        "{postinst}"
    );
}

/// `sealpost config` with the packaged file: as packaged, then with the overrides a test needs,
/// and never a secret on its output.
fn check_config(work: &Path, root: &Path) {
    let packaged = sealpost(root, &[], &["config"]);
    let view = ok_json(&packaged);
    assert_eq!(view["data_dir"], "/var/lib/sealpost");
    assert_eq!(view["master_key_file"], "/etc/sealpost/master.key");
    assert_eq!(view["http_listen"], "127.0.0.1:8025");
    assert_eq!(view["operator_token_set"], false);
    assert_eq!(
        view["database_url"],
        "sqlite:///var/lib/sealpost/sealpost.db"
    );

    let state = work.join("state").display().to_string();
    let overridden = sealpost(
        root,
        &[
            ("SEALPOST_DATA_DIR", &state),
            ("SEALPOST_OPERATOR_TOKEN", "operator-secret-4711"),
            (
                "SEALPOST_DATABASE_URL",
                "postgres://sealpost:database-secret-4711@db.internal/sealpost",
            ),
        ],
        &["config"],
    );
    let text = stdout(&overridden);
    let view = ok_json(&overridden);
    assert_eq!(view["data_dir"], state.as_str());
    assert_eq!(view["operator_token_set"], true);
    assert_eq!(
        view["database_url"],
        "postgres://sealpost:***@db.internal/sealpost"
    );
    assert!(!text.contains("secret-4711"), "{text}");
}

/// A broken configuration is refused with exit status 2 and the key named.
fn check_invalid_config(work: &Path, root: &Path) {
    let packaged = std::fs::read_to_string(root.join(CONFIG)).unwrap();
    let cases = [
        ("data_dri = \"/srv\"\n", "data_dri"),
        (
            "[checker]\nlisten = \"0.0.0.0:25\"\n",
            "checker.listen needs checker.domain",
        ),
    ];
    for (addition, message) in cases {
        let file = work.join("broken.toml");
        let broken = match addition.starts_with('[') {
            // A second [checker] table would be a TOML error; replace the packaged one.
            true => packaged.replace("[checker]\n", addition),
            false => format!("{addition}{packaged}"),
        };
        std::fs::write(&file, broken).unwrap();
        let output = sealpost_with_config(&file, &[], &["config"], root);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
    }
}

/// The packaged binary and configuration open a database with a master key file, as the
/// service does, with the state directory and the key moved into the test's directory.
fn check_database_command(work: &Path, root: &Path) {
    let key = work.join("master.key");
    let key_text = key.display().to_string();
    succeeds(
        Command::new(root.join("usr/bin/sealpost"))
            .args(["master-key", "generate", "--out"])
            .arg(&key),
    );
    let state = work.join("db-state");
    let state_text = state.display().to_string();
    let environment = [
        ("SEALPOST_DATA_DIR", state_text.as_str()),
        ("SEALPOST_MASTER_KEY_FILE", key_text.as_str()),
    ];
    ok_json(&sealpost(root, &environment, &["tenant", "create", "acme"]));
    let tenants = ok_json(&sealpost(root, &environment, &["tenant", "list"]));
    assert_eq!(tenants[0]["name"], "acme", "{tenants}");
    assert!(state.join("sealpost.db").is_file());

    // The doctor of a fresh installation: the database and the key pass, and the platform
    // settings the operator has yet to fill in are named with their fixes (exit 1).
    let doctor = sealpost(root, &environment, &["doctor", "--offline"]);
    assert_eq!(doctor.status.code(), Some(1), "{}", stderr(&doctor));
    let report: Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert_eq!(report["verdict"], "to_fix", "{report:#}");
    let status_of = |name: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|check| check["check"] == name)
            .map(|check| check["status"].clone())
    };
    assert_eq!(status_of("database"), Some("pass".into()), "{report:#}");
    assert_eq!(status_of("master_key"), Some("pass".into()), "{report:#}");
    assert_eq!(status_of("reverse_dns"), Some("fail".into()), "{report:#}");

    let without_key = sealpost(
        root,
        &[("SEALPOST_DATA_DIR", &state_text)],
        &["tenant", "list"],
    );
    assert!(!without_key.status.success());
    assert!(stderr(&without_key).contains("/etc/sealpost/master.key"));
}

/// The unit as systemd reads it, and the promises it makes.
fn check_unit(root: &Path) {
    let unit = std::fs::read_to_string(root.join(UNIT)).unwrap();
    let directives = [
        "User=sealpost",
        "ExecStart=/usr/bin/sealpost --config /etc/sealpost/sealpost.toml serve",
        "StateDirectory=sealpost",
        "ConfigurationDirectory=sealpost",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
    ];
    for directive in directives {
        assert!(
            unit.lines().any(|line| line == directive),
            "{directive} missing"
        );
    }
    // A reload is SIGHUP, which makes the server read its certificate files again.
    assert!(
        unit.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"),
        "{unit}"
    );

    // The machine the package lands on has systemd's own units (the targets the unit's default
    // dependencies name); the throw-away root gets this machine's. The manual pages named in
    // Documentation= are looked up in the root.
    succeeds(
        Command::new("cp")
            .arg("-rn")
            .arg("/lib/systemd/system/.")
            .arg(root.join("lib/systemd/system")),
    );
    // ExecReload= runs kill, from procps, which the package depends on.
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/kill", root.join("bin/kill")).unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .arg(root.join(UNIT))
        .env("MANPATH", root.join("usr/share/man"))
        .output()
        .expect(
            "systemd-analyze is installed (Debian package systemd; ./scripts/test installs it)",
        );
    // Values systemd cannot parse are only warnings, so any output at all is a failure.
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert_eq!(stderr(&verify), "");
}

/// The packaged binary with the packaged configuration and no inherited `SEALPOST_` settings.
fn sealpost(root: &Path, environment: &[(&str, &str)], arguments: &[&str]) -> Output {
    sealpost_with_config(&root.join(CONFIG), environment, arguments, root)
}

fn sealpost_with_config(
    config: &Path,
    environment: &[(&str, &str)],
    arguments: &[&str],
    root: &Path,
) -> Output {
    let mut command = Command::new(root.join("usr/bin/sealpost"));
    for (name, _) in std::env::vars() {
        if name.starts_with("SEALPOST_") {
            command.env_remove(name);
        }
    }
    command
        .env("SEALPOST_LOG", "warn")
        .envs(environment.iter().copied())
        .arg("--config")
        .arg(config)
        .args(arguments)
        .args(["--json"])
        .output()
        .unwrap()
}

#[track_caller]
fn succeeds(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        stderr(&output)
    );
    output
}

#[track_caller]
fn ok_json(output: &Output) -> Value {
    assert!(output.status.success(), "failed: {}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
