//! The example monitoring files in `packaging/monitoring`: the alert rules pass `promtool check
//! rules` and their unit tests (`promtool test rules`), the Grafana dashboard is valid JSON, and
//! every metric either names one Sealpost exports today or is marked as not exported yet.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn monitoring() -> PathBuf {
    super::repository().join("packaging/monitoring")
}

/// The metric names `/metrics` writes, read from the code that writes them.
fn exported() -> String {
    std::fs::read_to_string(super::repository().join("crates/service/src/metrics.rs")).unwrap()
}

/// The `sealpost_...` names in `text`, without the suffixes of a histogram's series.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (start, _) in text.match_indices("sealpost_") {
        let name: String = text[start..]
            .chars()
            .take_while(|character| character.is_ascii_alphanumeric() || *character == '_')
            .collect();
        names.insert(name.trim_end_matches("_bucket").to_owned());
    }
    names
}

/// Whether the code exports `name`: a counter is written as `sealpost_{name}_total` from its
/// entry `("name", "help")` in the table of counters.
fn is_exported(name: &str, code: &str) -> bool {
    let compact: String = code.split_whitespace().collect();
    let counter = name
        .strip_prefix("sealpost_")
        .and_then(|rest| rest.strip_suffix("_total"))
        .map(|counter| format!("(\"{counter}\","));
    code.contains(name) || counter.is_some_and(|counter| compact.contains(&counter))
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    for arguments in [
        ["check", "rules", "sealpost-alerts.yml"],
        ["test", "rules", "sealpost-alerts.test.yml"],
    ] {
        let output = Command::new("promtool")
            .args(arguments)
            .current_dir(monitoring())
            .output()
            .expect("promtool (Debian's prometheus package; scripts/test installs it)");
        assert!(
            output.status.success(),
            "promtool {arguments:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn rules_name_exported_metrics_or_say_they_are_not_exported_yet() {
    let rules = std::fs::read_to_string(monitoring().join("sealpost-alerts.yml")).unwrap();
    let code = exported();
    let announced: String = rules
        .lines()
        .filter(|line| line.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for name in metric_names(&rules) {
        assert!(
            is_exported(&name, &code) || announced.contains(&format!("Not exported yet: {name}")),
            "{name} is neither exported nor announced as not exported yet"
        );
    }
}

#[test]
fn the_dashboard_is_valid_json_whose_panels_query_known_metrics() {
    let text = std::fs::read_to_string(monitoring().join("sealpost-dashboard.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is valid JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10, "{} panels", panels.len());
    let code = exported();
    let mut ids = BTreeSet::new();
    for panel in panels {
        assert!(ids.insert(panel["id"].as_u64().expect("a numeric id")));
        let title = panel["title"].as_str().unwrap();
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title} has no query");
        for target in targets {
            let expression = target["expr"].as_str().unwrap();
            for name in metric_names(expression) {
                assert!(
                    is_exported(&name, &code) || title.ends_with("(not exported yet)"),
                    "panel {title}: {name} is not exported"
                );
            }
        }
    }
}
