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
    // No `help` subcommand in the pages: `sockkit help` is clap's alias for --help, and a
    // sockkit-help(1) reference would dangle.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    write_man(&cmd, "sockkit", "sockkit", &man)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("sockkit-{}", sub.get_name());
        let shown = format!("sockkit {}", sub.get_name());
        let version = cmd.get_version().unwrap_or_default().to_string();
        let sub = sub.clone().name(name.clone()).version(version);
        write_man(&sub, &name, &shown, &man)?;
    }
    Ok(())
}

/// One page: clap_mangen's sections, except the synopsis (clap_mangen leaves out option arguments)
/// and the notes after the options (clap_mangen's EXTRA is filled by man, so the examples and the
/// end-of-stream rules became ragged lines).
fn write_man(cmd: &clap::Command, name: &str, shown: &str, dir: &Path) -> Result<()> {
    let page = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    let fail = || format!("cannot render the man page of {name}");
    page.render_title(&mut buf).with_context(fail)?;
    page.render_name_section(&mut buf).with_context(fail)?;
    buf.extend_from_slice(synopsis(cmd, shown).as_bytes());
    page.render_description_section(&mut buf)
        .with_context(fail)?;
    page.render_options_section(&mut buf).with_context(fail)?;
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        page.render_subcommands_section(&mut buf)
            .with_context(fail)?;
    }
    if let Some(notes) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        buf.extend_from_slice(notes_section(&notes.to_string()).as_bytes());
    }
    page.render_version_section(&mut buf).with_context(fail)?;
    let path = dir.join(format!("{name}.1"));
    fs::write(&path, buf).with_context(|| format!("cannot write {}", path.display()))
}

/// Text for a roff line: backslashes and hyphens escaped, a leading `.` or `'` made literal.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// `.SH SYNOPSIS` with every option's argument: `[\-w|\-\-connect\-timeout DURATION]`.
fn synopsis(cmd: &clap::Command, shown: &str) -> String {
    let mut line = format!("\\fB{}\\fR", roff_text(shown));
    // Options first, then the operands, as the usage line reads.
    let args = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
        .chain(cmd.get_positionals().filter(|a| !a.is_hide_set()));
    for arg in args {
        let value = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .filter(|_| arg.get_action().takes_values());
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("\\fB\\-{short}\\fR"));
        }
        if let Some(long) = arg.get_long() {
            names.push(format!("\\fB{}\\fR", roff_text(&format!("--{long}"))));
        }
        let text = if arg.is_positional() {
            let v = value.unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
            let many = if arg.get_num_args().is_some_and(|n| n.max_values() > 1) {
                "..."
            } else {
                ""
            };
            format!("\\fI{}\\fR{many}", roff_text(&v))
        } else {
            match value {
                Some(v) => format!("{} \\fI{}\\fR", names.join("|"), roff_text(&v)),
                None => names.join("|"),
            }
        };
        if arg.is_required_set() {
            line.push_str(&format!(" {text}"));
        } else {
            line.push_str(&format!(" [{text}]"));
        }
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        line.push_str(" \\fICOMMAND\\fR");
    }
    format!(".SH SYNOPSIS\n{line}\n")
}

/// The long help's notes as sections: each `Heading:` line a `.SS`; the examples kept line for line
/// (`.nf`, so a command is never broken), the prose joined into one paragraph that man fills to the
/// reader's width (clap_mangen kept the help's line breaks inside filled text: ragged lines).
fn notes_section(notes: &str) -> String {
    let mut out = String::from(".SH NOTES\n");
    let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in notes.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            sections.push((line.trim_end_matches(':'), Vec::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            if !line.trim().is_empty() {
                body.push(line.trim());
            }
        }
    }
    for (heading, body) in sections {
        out.push_str(&format!(".SS {}\n", roff_text(heading)));
        if heading == "Examples" {
            out.push_str(".nf\n");
            for line in body {
                out.push_str(&roff_text(line));
                out.push('\n');
            }
            out.push_str(".fi\n");
        } else {
            out.push_str(&roff_text(&body.join(" ")));
            out.push('\n');
        }
    }
    out
}
