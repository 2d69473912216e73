//! The committed completions and man pages are exactly what the code generates, and they work.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(sockkit_path())
        .args(["generate", "--out-dir"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn committed_completions_and_man_pages_are_current() {
    let fresh = generate();
    for sub in ["completions", "man"] {
        let want = fresh.path().join(sub);
        let have = repo().join(sub);
        assert_eq!(
            files(&have),
            files(&want),
            "{sub}/ is out of date: run `cargo run -- generate --out-dir .` and commit the result"
        );
        for name in files(&want) {
            let a = std::fs::read(want.join(&name)).unwrap();
            let b = std::fs::read(have.join(&name)).unwrap();
            assert!(
                a == b,
                "{sub}/{name} is out of date: run `cargo run -- generate --out-dir .` and commit the result"
            );
        }
    }
}

#[test]
fn completion_scripts_parse() {
    require("bash");
    require("zsh");
    let dir = repo().join("completions");
    let out = Command::new("bash")
        .arg("-n")
        .arg(dir.join("sockkit.bash"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("zsh")
        .arg("-n")
        .arg(dir.join("_sockkit"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the bash completion function for the words typed so far and returns its candidates.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = format!(
        "source {}\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n_sockkit sockkit \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        repo().join("completions/sockkit.bash").display(),
        words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        words.len() - 1
    );
    let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn bash_completion_completes_subcommands_and_modes() {
    require("bash");
    let subs = bash_complete(&["sockkit", ""]);
    for s in [
        "connect",
        "listen",
        "udp-listen",
        "udp-send",
        "lab-client",
        "lab-server",
    ] {
        assert!(subs.contains(&s.to_string()), "{s} not offered: {subs:?}");
    }
    assert!(
        !subs.contains(&"generate".to_string()),
        "the hidden command is offered"
    );
    let modes = bash_complete(&["sockkit", "connect", "--mode", ""]);
    assert_eq!(modes, ["raw", "hex", "pickle"], "{modes:?}");
    // `--ke` would offer `--key` (--tls) too.
    let flags = bash_complete(&["sockkit", "listen", "--kee"]);
    assert_eq!(flags, ["--keep-open"]);
}

#[test]
fn man_pages_render_without_warnings() {
    require("man");
    for name in files(&repo().join("man")) {
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(repo().join("man").join(&name))
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "",
            "groff warnings in {name}"
        );
        // man may embolden with overstrikes (X backspace X) when writing to a pipe: drop them.
        let mut text = String::new();
        for c in String::from_utf8_lossy(&out.stdout).chars() {
            if c == '\u{8}' {
                text.pop();
            } else {
                text.push(c);
            }
        }
        assert!(text.contains("SYNOPSIS"), "{name} rendered as {text:?}");
    }
}
