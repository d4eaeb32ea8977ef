//! The configuration's refusals, one line each, and the environment's keys kept exhaustive.

use std::collections::BTreeSet;

use super::{Config, ENV_KEYS};

/// Every key of the configuration, nested keys joined with `__` as the environment writes them.
fn keys(value: &serde_json::Value, prefix: &str, into: &mut BTreeSet<String>) {
    let Some(object) = value.as_object() else {
        into.insert(prefix.to_owned());
        return;
    };
    for (key, value) in object {
        let name = match prefix.is_empty() {
            true => key.clone(),
            false => format!("{prefix}__{key}"),
        };
        keys(value, &name, into);
    }
}

#[test]
fn every_key_can_be_set_from_the_environment() {
    let mut expected = BTreeSet::new();
    keys(
        &serde_json::to_value(Config::default()).unwrap(),
        "",
        &mut expected,
    );
    let listed: BTreeSet<String> = ENV_KEYS.iter().map(|key| (*key).to_owned()).collect();
    assert_eq!(listed, expected);
}

#[track_caller]
fn check(toml: &str, error: Option<&str>) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("sealpost.toml");
    std::fs::write(&path, toml).unwrap();
    let loaded = Config::load(Some(&path));
    match (error, loaded) {
        (None, Ok(_)) => {}
        (None, Err(refused)) => panic!("{toml:?} refused: {refused:#}"),
        (Some(expected), Ok(_)) => panic!("{toml:?} accepted; expected {expected:?}"),
        (Some(expected), Err(refused)) => {
            let text = format!("{refused:#}");
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
    }
}

#[test]
fn contradictions_and_unknown_keys_are_refused_by_name() {
    check("", None);
    check(
        "[platform]\ndomain = \"mail.example.com\"\ndkim_tenant = \"ops\"\n",
        None,
    );
    check(
        "database_url = \"postgres://u@h/db\"\ndatabase_listen_url = \"postgres://u@h/db\"\n",
        None,
    );
    check("data_dri = \"x\"\n", Some("found `data_dri`"));
    check("data_dri = \"x\"\n", Some("for key \"data_dri\""));
    check(
        "[smtp]\ntls_crt = \"x\"\n",
        Some("for key \"smtp.tls_crt\""),
    );
    check(
        "[delivery]\nretry_delays = \"x\"\n",
        Some("delivery.retry_delays"),
    );
    check(
        "[smtp]\ntls_cert = \"/c.pem\"\n",
        Some("smtp.tls_cert and smtp.tls_key"),
    );
    check(
        "[smtp]\ntls_key = \"/k.pem\"\n",
        Some("smtp.tls_cert and smtp.tls_key"),
    );
    check(
        "[smtp]\nconnections_per_client = 0\n",
        Some("smtp.connections_per_client"),
    );
    check(
        "[checker]\nlisten = \"127.0.0.1:2525\"\n",
        Some("checker.listen needs checker.domain"),
    );
    check(
        "[platform]\ndkim_tenant = \"ops\"\n",
        Some("platform.dkim_tenant needs platform.domain"),
    );
    check(
        "[platform]\ndomain = \"x.test\"\ndkim_tenant = \"Not A Name\"\n",
        Some("platform.dkim_tenant"),
    );
    check(
        "[platform]\ndomain = \"-bad-.test\"\n",
        Some("platform.domain"),
    );
    check(
        "[platform]\nspf_include_host = \"a..b\"\n",
        Some("platform.spf_include_host"),
    );
    check(
        "[platform]\nsending_ips = [\"192.0.2.0/33\"]\n",
        Some("platform.sending_ips"),
    );
    check(
        "[delivery]\nhelo_name = \"bad name\"\n",
        Some("delivery.helo_name"),
    );
    check(
        "[delivery]\nremote_port = 0\n",
        Some("delivery.remote_port"),
    );
    check("[delivery]\nmax_age = 0\n", Some("delivery.max_age"));
    check(
        "database_max_connections = 0\n",
        Some("database_max_connections"),
    );
    check(
        "database_statement_timeout = 0\n",
        Some("database_statement_timeout"),
    );
    check(
        "database_url = \"mysql://h/db\"\n",
        Some("database_url must start with"),
    );
    check(
        "database_listen_url = \"postgres://u@h/db\"\n",
        Some("with SQLite (database_url)"),
    );
    check(
        "database_url = \"postgres://u@h/db\"\ndatabase_listen_url = \"sqlite://x\"\n",
        Some("database_listen_url must be a postgres"),
    );
    check(
        "nameserver = \"127.0.0.1:0\"\n",
        Some("nameserver needs a port"),
    );
    check(
        "http_listen = \"127.0.0.1:2525\"\n[smtp]\nlisten = \"127.0.0.1:2525\"\n",
        Some("http_listen and smtp.listen are both 127.0.0.1:2525"),
    );
    check(
        "[smtp]\nlisten = \"0.0.0.0:25\"\n[checker]\ndomain = \"c.test\"\nlisten = \"0.0.0.0:25\"\n",
        Some("smtp.listen and checker.listen"),
    );
    check(
        "http_listen = \"127.0.0.1:0\"\n[smtp]\nlisten = \"127.0.0.1:0\"\n",
        None,
    );
}

#[test]
fn traffic_shaping_is_read_and_checked() {
    let profile = "[[delivery.traffic.destinations]]\nname = \"sink\"\nhosts = [\"*.sink.test\"]\n\
                   connections = 2\nmessages_per_connection = 5\nmessages_per_minute = 60\n";
    check(profile, None);
    check(
        "[delivery.traffic]\nconnection_idle_seconds = 10\n\
         [delivery.traffic.default_destination]\nconnections = 3\n\
         messages_per_connection = 10\nmessages_per_minute = 100\n",
        None,
    );
    check(
        &profile.replace("connections = 2", "connections = 0"),
        Some("delivery.traffic.destinations \"sink\": connections, messages_per_connection"),
    );
    check(
        &profile.replace("[\"*.sink.test\"]", "[]"),
        Some("delivery.traffic.destinations \"sink\": list its MX hosts"),
    );
    check(
        &profile.replace("name = \"sink\"", "name = \" \""),
        Some("every profile needs a name"),
    );
    check(
        &format!("{profile}rate = 5\n"),
        Some("unknown field: found `rate`"),
    );
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("sealpost.toml");
    std::fs::write(&path, profile).unwrap();
    let config = Config::load(Some(&path)).unwrap();
    let shaping = config.delivery.traffic.shaping();
    let (destination, limits) = shaping.destination("mx2.sink.test");
    assert_eq!(destination.to_string(), "sink");
    assert_eq!(
        (
            limits.connections,
            limits.messages_per_connection,
            limits.messages_per_minute
        ),
        (2, 5, 60)
    );
    // The built-in profiles stay beside the configured ones.
    assert_eq!(
        shaping.destination("alt1.aspmx.l.google.com").0.to_string(),
        "google"
    );
}

#[test]
fn the_dkim_zone_needs_a_name_and_host_names() {
    check(
        "[dkim_zone]\nlisten = \"127.0.0.1:5300\"\n",
        Some("the zone has no name"),
    );
    check(
        "[platform]\ndomain = \"mail.example.com\"\n[dkim_zone]\nlisten = \"127.0.0.1:5300\"\n",
        None,
    );
    check(
        "[dkim_zone]\nlisten = \"127.0.0.1:5300\"\nzone = \"dkim.example.com\"\n\
         nameservers = [\"ns 1\"]\n",
        Some("dkim_zone.nameservers"),
    );
    check(
        "[dkim_zone]\nzone = \"dkim..example\"\n",
        Some("dkim_zone.zone"),
    );
}
