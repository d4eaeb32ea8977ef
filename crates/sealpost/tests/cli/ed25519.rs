//! `sealpost domain generate-key|import-key|dns-record --algorithm ed25519` on both backends: an
//! Ed25519 key is added beside the RSA key under its own selector, its `k=ed25519` record is
//! printed, and keys of the wrong algorithm are refused with the reason.

use std::path::Path;

use crate::support::*;

fn ed25519_flow(directory: &Path, database_url: &str) {
    let environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_DATABASE_URL", database_url),
        ("KEY_PASSWORD", "fixture-pass"),
    ];
    let sealpost = |arguments: &[&str]| run(directory, &environment, arguments);
    ok_json(sealpost(&[
        "master-key",
        "generate",
        "--out",
        "master.key",
        "--json",
    ]));
    ok_json(sealpost(&["tenant", "create", "acme", "--json"]));
    ok_json(sealpost(&[
        "domain",
        "add",
        "--tenant",
        "acme",
        "client.example",
        "--selector",
        "workplace",
        "--json",
    ]));
    let target = ["--tenant", "acme", "client.example"];
    let with_target = |command: &[&str], rest: &[&str]| {
        let mut arguments: Vec<&str> = command.to_vec();
        arguments.extend(target);
        arguments.extend(rest);
        sealpost(&arguments)
    };

    fails_with(
        with_target(&["domain", "dns-record"], &["--algorithm", "ed25519"]),
        "the domain has no Ed25519 key",
    );
    ok_json(with_target(&["domain", "generate-key"], &["--json"]));
    let generated = ok_json(with_target(
        &["domain", "generate-key"],
        &["--algorithm", "ed25519", "--json"],
    ));
    let keys = generated["keys"].as_array().unwrap();
    assert_eq!(keys[0]["algorithm"], "rsa");
    assert_eq!(keys[1]["algorithm"], "ed25519");
    assert_eq!(keys[1]["selector"], "workplace-ed");

    let record = ok_json(with_target(
        &["domain", "dns-record"],
        &["--algorithm", "ed25519", "--json"],
    ));
    assert_eq!(record["name"], "workplace-ed._domainkey.client.example");
    assert!(
        record["value"]
            .as_str()
            .unwrap()
            .starts_with("v=DKIM1; k=ed25519; p="),
        "{record}"
    );
    let rsa = ok_json(with_target(&["domain", "dns-record"], &["--json"]));
    assert!(
        rsa["value"]
            .as_str()
            .unwrap()
            .starts_with("v=DKIM1; k=rsa; p=")
    );

    let encrypted = fixture("ed25519-pkcs8-pbkdf2-aes256.pem");
    let imported = ok_json(with_target(
        &["domain", "import-key"],
        &[
            "--file",
            &encrypted,
            "--algorithm",
            "ed25519",
            "--password-env",
            "KEY_PASSWORD",
            "--json",
        ],
    ));
    let key = &imported["keys"][2];
    assert_eq!(
        (&key["selector"], &key["origin"]),
        (&"workplace-ed2".into(), &"imported".into())
    );
    let public = std::fs::read_to_string(fixture("ed25519-public.pem")).unwrap();
    assert_eq!(key["public_key_pem"], public.as_str());

    fails_with(
        with_target(
            &["domain", "import-key"],
            &["--file", &fixture("ed25519.pem"), "--json"],
        ),
        "import it as the domain's Ed25519 key",
    );
    fails_with(
        with_target(
            &["domain", "import-key"],
            &[
                "--file",
                &fixture("rsa2048-pkcs8.pem"),
                "--algorithm",
                "ed25519",
            ],
        ),
        "paste an Ed25519 key",
    );
    fails_with(
        with_target(&["domain", "generate-key"], &["--algorithm", "ed448"]),
        "ed448",
    );
}

#[test]
fn ed25519_keys_on_sqlite() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/sealpost.db", directory.path().display());
    ed25519_flow(directory.path(), &url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_keys_on_postgres() {
    let directory = tempfile::tempdir().unwrap();
    let url = sealpost_store::testing::fresh_postgres_url().await;
    let path = directory.path().to_owned();
    tokio::task::spawn_blocking(move || ed25519_flow(&path, &url))
        .await
        .unwrap();
}
