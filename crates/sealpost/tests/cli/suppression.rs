//! `sealpost suppression ...` on both backends: add, list, export, import (a bad line refuses the
//! whole file with its line named, and nothing is stored) and remove, per tenant.

use std::path::Path;

use crate::support::{fails_with, ok_json, run};

fn suppression_flow(directory: &Path, database_url: &str) {
    let environment = [
        ("SEALPOST_MASTER_KEY_FILE", "master.key"),
        ("SEALPOST_DATABASE_URL", database_url),
    ];
    let sealpost = |arguments: &[&str]| run(directory, &environment, arguments);
    let made = sealpost(&["master-key", "generate", "--out", "master.key"]);
    assert!(made.status.success());
    for tenant in ["acme", "other"] {
        assert!(sealpost(&["tenant", "create", tenant]).status.success());
    }
    let added = ok_json(sealpost(&[
        "suppression",
        "add",
        "--tenant",
        "acme",
        "Gone@Client.test",
        "--reason",
        "hard_bounce",
        "--detail",
        "550 5.1.1",
        "--json",
    ]));
    assert_eq!(added["address"], "gone@client.test");
    assert_eq!(added["reason"], "hard_bounce");
    fails_with(
        sealpost(&["suppression", "add", "--tenant", "acme", "nobody"]),
        "\"nobody\" is not a valid e-mail address",
    );

    std::fs::write(
        directory.join("bad.csv"),
        "address,reason\nfine@client.test,complaint\nbroken,manual\n",
    )
    .unwrap();
    fails_with(
        sealpost(&["suppression", "import", "--tenant", "acme", "bad.csv"]),
        "nothing was imported; line 3: \"broken\"",
    );
    std::fs::write(directory.join("good.csv"), "fine@client.test,complaint\n").unwrap();
    let imported = ok_json(sealpost(&[
        "suppression",
        "import",
        "--tenant",
        "acme",
        "good.csv",
        "--json",
    ]));
    assert_eq!(imported["added"], 1);

    let listed = ok_json(sealpost(&[
        "suppression",
        "list",
        "--tenant",
        "acme",
        "--json",
    ]));
    let addresses: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["fine@client.test", "gone@client.test"]);
    let other = ok_json(sealpost(&[
        "suppression",
        "list",
        "--tenant",
        "other",
        "--json",
    ]));
    assert_eq!(other, serde_json::json!([]));

    let export = sealpost(&["suppression", "export", "--tenant", "acme"]);
    assert!(export.status.success());
    let text = String::from_utf8(export.stdout).unwrap();
    assert!(
        text.starts_with("address,reason,detail,created_at,message_id\r\n"),
        "{text}"
    );
    assert!(
        text.contains("gone@client.test,hard_bounce,550 5.1.1,"),
        "{text}"
    );

    let removed = sealpost(&[
        "suppression",
        "remove",
        "--tenant",
        "acme",
        "gone@client.test",
    ]);
    assert!(removed.status.success());
    fails_with(
        sealpost(&[
            "suppression",
            "remove",
            "--tenant",
            "acme",
            "gone@client.test",
        ]),
        "suppression not found",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppression_commands_on_both_backends() {
    for postgres in [false, true] {
        let directory = tempfile::tempdir().unwrap();
        let url = match postgres {
            false => format!("sqlite://{}/sealpost.db", directory.path().display()),
            true => sealpost_store::testing::fresh_postgres_url().await,
        };
        let path = directory.path().to_owned();
        tokio::task::spawn_blocking(move || suppression_flow(&path, &url))
            .await
            .unwrap();
    }
}
