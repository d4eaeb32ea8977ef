//! Where the master key comes from: `SEALPOST_MASTER_KEY`, else the configured file, else (only
//! in demo mode) a key file that Sealpost creates in the data directory. Never the database.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use sealpost_vault::MasterKey;

use crate::config::Config;

pub const ENV_VAR: &str = "SEALPOST_MASTER_KEY";
/// The new key of `sealpost master-key rotate`, when not given in a file.
pub const NEW_KEY_ENV_VAR: &str = "SEALPOST_NEW_MASTER_KEY";
/// How often serving nodes look for a master key rotation, in milliseconds; not documented
/// for operators (tests shorten it), default ten seconds.
const POLL_ENV_VAR: &str = "SEALPOST_MASTER_KEY_POLL_MS";

/// How the master key was found, for the start-up log line (never the key itself).
#[derive(Debug)]
pub enum Source {
    Environment,
    File(PathBuf),
    DemoFileCreated(PathBuf),
}

pub fn load(config: &Config, demo: bool) -> anyhow::Result<(MasterKey, Source)> {
    if let Ok(text) = std::env::var(ENV_VAR) {
        let key = MasterKey::from_text(&text).with_context(|| format!("{ENV_VAR} is invalid"))?;
        return Ok((key, Source::Environment));
    }
    if let Some(path) = &config.master_key_file {
        let key = MasterKey::from_file(path)?;
        return Ok((key, Source::File(path.clone())));
    }
    let demo_path = config.data_dir.join("master.key");
    if demo_path.exists() {
        let key = MasterKey::from_file(&demo_path)?;
        return Ok((key, Source::File(demo_path)));
    }
    if demo {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
        let key = MasterKey::generate();
        key.write_new_file(&demo_path)?;
        return Ok((key, Source::DemoFileCreated(demo_path)));
    }
    bail!(
        "no master key: Sealpost keeps DKIM keys encrypted under a master key and will not start \
         without one.\n  Create one with:  sealpost master-key generate --out /etc/sealpost/master.key\n  \
         then set master_key_file in the configuration (or SEALPOST_MASTER_KEY_FILE), or put the \
         key itself in {ENV_VAR}.\n  For a local trial, `sealpost serve --demo` creates one in the \
         data directory."
    )
}

/// The new master key of a rotation: from `--new-key-file`, else from `SEALPOST_NEW_MASTER_KEY`;
/// never from the command line, where other users of the machine could read it.
pub fn load_new(file: Option<&std::path::Path>) -> anyhow::Result<MasterKey> {
    if let Some(path) = file {
        return Ok(MasterKey::from_file(path)?);
    }
    match std::env::var(NEW_KEY_ENV_VAR) {
        Ok(text) => {
            MasterKey::from_text(&text).with_context(|| format!("{NEW_KEY_ENV_VAR} is invalid"))
        }
        Err(_) => bail!(
            "no new master key: give it with --new-key-file FILE (create one with `sealpost \
             master-key generate --out FILE`) or in {NEW_KEY_ENV_VAR}"
        ),
    }
}

/// How often a serving node looks for a master key rotation.
pub fn poll_interval() -> std::time::Duration {
    let millis = std::env::var(POLL_ENV_VAR)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(10_000);
    std::time::Duration::from_millis(millis)
}
