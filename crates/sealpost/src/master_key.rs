//! Where the master key comes from: `SEALPOST_MASTER_KEY`, else the configured file, else (only
//! in demo mode) a key file that Sealpost creates in the data directory. Never the database.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use sealpost_vault::MasterKey;

use crate::config::Config;

pub const ENV_VAR: &str = "SEALPOST_MASTER_KEY";

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
