//! The curl examples of docs/developer.md, run as written against a demo node (its tenant's API
//! key as `$API_KEY`, its address as `$SEALPOST`): each must succeed, and every field the page
//! shows in a sample answer must be in the real answer, so the guide cannot drift from the API.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::Demo;

/// The curl commands of the page, each with the sample answer shown after it (if any).
fn examples() -> Vec<(String, String)> {
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/developer.md"),
    )
    .unwrap();
    let lines: Vec<&str> = page.lines().collect();
    let mut examples = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        if !lines[index].starts_with("    curl ") {
            index += 1;
            continue;
        }
        let mut command = String::new();
        let mut quotes = 0;
        while index < lines.len() {
            let line = lines[index].strip_prefix("    ").unwrap_or(lines[index]);
            command.push_str(line);
            command.push('\n');
            quotes += line.matches('\'').count();
            index += 1;
            if !line.ends_with('\\') && quotes % 2 == 0 {
                break;
            }
        }
        // The sample answer: the indented lines after one blank line, up to the block's end.
        let mut answer = String::new();
        if lines.get(index).is_some_and(|line| line.is_empty()) {
            let mut next = index + 1;
            while next < lines.len()
                && lines[next].starts_with("    ")
                && !lines[next].starts_with("    curl ")
            {
                answer.push_str(lines[next].trim());
                next += 1;
            }
        }
        examples.push((command, answer));
    }
    examples
}

/// Every object key in `value`, at any depth.
fn keys(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                into.insert(key.clone());
                keys(value, into);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keys(item, into)),
        _ => {}
    }
}

/// The quoted field names of a sample answer such as `{"id":"0193...","replayed":false}`.
fn sample_keys(sample: &str) -> BTreeSet<String> {
    sample
        .split('"')
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|pair| pair[1].trim_start().starts_with(':'))
        .map(|pair| pair[0].to_owned())
        .filter(|key| !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect()
}

#[test]
fn the_developer_guide_curl_examples_work_as_written() {
    let demo = Demo::start(&[]);
    let examples = examples();
    assert!(examples.len() >= 5, "{examples:?}");
    let mut message_id = String::new();
    for (command, sample) in examples {
        let output = Command::new("bash")
            .arg("-c")
            .arg(format!("set -o pipefail; {command}"))
            .env("SEALPOST", format!("http://{}", demo.http))
            .env("API_KEY", &demo.api_key)
            .env("ID", &message_id)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{command}\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let answer: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|_| panic!("{command}\nnot JSON: {stdout}"));
        assert!(answer.get("error").is_none(), "{command}\n{answer:#}");
        if message_id.is_empty()
            && let Some(id) = answer["id"].as_str()
        {
            message_id = id.to_owned();
            // The guide's sample of a message shows an attempt: wait for the first one.
            demo.settled_message(&message_id);
        }
        let mut found = BTreeSet::new();
        keys(&answer, &mut found);
        let missing: Vec<String> = sample_keys(&sample).difference(&found).cloned().collect();
        assert!(
            missing.is_empty(),
            "{command}\nthe guide shows {missing:?}, the answer has none: {answer:#}"
        );
    }
    assert!(!message_id.is_empty(), "no example submitted a message");
}
