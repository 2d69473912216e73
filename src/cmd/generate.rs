//! `sockkit generate --out-dir DIR` (hidden): shell completions and man pages, produced from the clap
//! definition so they never drift from the real flags. The repository's `completions/` and `man/` are
//! its output, and a test fails when they differ from what the code generates.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, GenerateArgs};

pub fn run(args: GenerateArgs) -> Result<()> {
    write_all(&args.out_dir)
}

/// Writes `dir/completions/*` and `dir/man/*.1`.
pub fn write_all(dir: &Path) -> Result<()> {
    let completions = dir.join("completions");
    let man = dir.join("man");
    for d in [&completions, &man] {
        fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    // Completions offer only what `--help` shows: the hidden `generate` is left out.
    let full = Cli::command();
    let mut cmd = clap::Command::new("sockkit")
        .version(full.get_version().unwrap_or_default().to_string())
        .about(full.get_about().cloned().unwrap_or_default())
        .subcommand_required(true)
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        clap_complete::generate_to(shell, &mut cmd, "sockkit", &completions)
            .with_context(|| format!("cannot write {shell} completions"))?;
    }
    let cmd = Cli::command();
    write_man(&cmd, "sockkit", &man)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("sockkit-{}", sub.get_name());
        let version = cmd.get_version().unwrap_or_default().to_string();
        let sub = sub.clone().name(name.clone()).version(version);
        write_man(&sub, &name, &man)?;
    }
    Ok(())
}

fn write_man(cmd: &clap::Command, name: &str, dir: &Path) -> Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .with_context(|| format!("cannot render the man page of {name}"))?;
    let path = dir.join(format!("{name}.1"));
    fs::write(&path, buf).with_context(|| format!("cannot write {}", path.display()))
}
