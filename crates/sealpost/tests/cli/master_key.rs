//! `sealpost master-key rotate` refusals, each before anything changes, and a rotation with the
//! new key from the environment, after which the old key is refused with a sentence saying what
//! to do. The rotation under load and `kill -9` is in the resilience tests.

use std::path::Path;

use crate::support::{fails_with, ok_json, run};

fn refusals_then_rotation(directory: &Path, database_url: &str) {
    let environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_DATABASE_URL", database_url),
        ("SEALPOST_MASTER_KEY_POLL_MS", "0"),
    ];
    let sealpost = |arguments: &[&str]| run(directory, &environment, arguments);
    for file in ["master.key", "new.key", "stranger.key"] {
        ok_json(sealpost(&[
            "master-key",
            "generate",
            "--out",
            file,
            "--json",
        ]));
    }
    std::fs::write(directory.join("bad.key"), "not a key\n").unwrap();
    ok_json(sealpost(&["tenant", "create", "acme", "--json"]));

    let rotate = ["master-key", "rotate", "--new-key-file"];
    fails_with(
        sealpost(&[&rotate[..], &["missing.key"]].concat()),
        "cannot read the master key file missing.key",
    );
    fails_with(
        sealpost(&[&rotate[..], &["bad.key"]].concat()),
        "must be 32 bytes",
    );
    fails_with(
        sealpost(&["master-key", "rotate"]),
        "no new master key: give it with --new-key-file",
    );
    fails_with(
        sealpost(&[&rotate[..], &["master.key"]].concat()),
        "the new master key is the current one",
    );
    let stranger = [
        ("SEALPOST_MASTER_KEY_FILE", "stranger.key"),
        ("SEALPOST_DATABASE_URL", database_url),
    ];
    fails_with(
        run(directory, &stranger, &[&rotate[..], &["new.key"]].concat()),
        "does not match",
    );
    let status = ok_json(sealpost(&["master-key", "status", "--json"]));
    assert_eq!(status, serde_json::Value::Null, "nothing may have changed");

    let new_text = std::fs::read_to_string(directory.join("new.key")).unwrap();
    let by_environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_DATABASE_URL", database_url),
        ("SEALPOST_MASTER_KEY_POLL_MS", "0"),
        ("SEALPOST_NEW_MASTER_KEY", new_text.trim()),
    ];
    let report = ok_json(run(
        directory,
        &by_environment,
        &["master-key", "rotate", "--json"],
    ));
    assert_eq!(report["resumed"], false, "{report}");
    // The authenticator root and nothing else: the tenant has no sealed secret yet.
    assert_eq!(report["rewrapped"], 1, "{report}");

    fails_with(
        sealpost(&["tenant", "list"]),
        "replaced by a master key rotation",
    );
    let with_new = [
        ("SEALPOST_MASTER_KEY_FILE", "new.key"),
        ("SEALPOST_DATABASE_URL", database_url),
    ];
    let tenants = ok_json(run(directory, &with_new, &["tenant", "list", "--json"]));
    assert_eq!(tenants[0]["name"], "acme");
    let status = ok_json(run(
        directory,
        &with_new,
        &["master-key", "status", "--json"],
    ));
    assert_eq!(status["phase"], "finished", "{status}");
    fails_with(
        run(directory, &stranger, &["tenant", "list"]),
        "does not match",
    );
}

#[test]
fn master_key_rotation_refusals_and_rotation_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sealpost.db", directory.path().display());
    refusals_then_rotation(directory.path(), &url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_key_rotation_refusals_and_rotation_on_postgres() {
    let directory = tempfile::tempdir().unwrap();
    let url = sealpost_store::testing::fresh_postgres_url().await;
    let path = directory.path().to_owned();
    tokio::task::spawn_blocking(move || refusals_then_rotation(&path, &url))
        .await
        .unwrap();
}
