//! `sealpost generate`: the manual pages and shell completions, made from the command line's own
//! definition so they always describe the binary they ship with (the Debian package runs it).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use clap_complete::Shell;

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Write the manual pages (section 1), one for `sealpost` and one per subcommand, into DIR.
    Man { dir: PathBuf },
    /// Print the completion script for SHELL on standard output.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// Runs `command` for `cli`, the definition of the whole command line.
pub fn generate(
    command: GenerateCommand,
    cli: clap::Command,
    output: Output,
) -> anyhow::Result<()> {
    match command {
        GenerateCommand::Man { dir } => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cli, &dir)
                .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
            let path = dir.display().to_string();
            output.print(&serde_json::json!({"dir": path}), || {
                format!("manual pages written to {path}")
            });
            Ok(())
        }
        GenerateCommand::Completions { shell } => {
            let mut cli = cli;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cli, "sealpost", &mut script);
            std::io::stdout()
                .write_all(&script)
                .context("cannot write the completion script")
        }
    }
}
