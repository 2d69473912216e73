//! Every `console` example in README.md runs, as written, and prints what the README says it prints.
//!
//! Each block runs in one bash session in a temporary directory, with the built `sockkit` first on PATH.
//! Ports 12000 to 12999 in a block (commands and output alike) are replaced by free ports. A command
//! ending in `&` runs in the background with its output discarded (unless it redirects it itself); the
//! others' stdout and stderr are compared with the lines under them, where `...` inside a line matches
//! anything. Set `README_SHOW=1` to print what each command really printed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;

use crate::harness::*;

struct Block {
    /// (command, expected output lines), in order.
    steps: Vec<(String, Vec<String>)>,
    line: usize,
}

fn blocks() -> Vec<Block> {
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap();
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start() == "```console" {
            current = Some(Block {
                steps: Vec::new(),
                line: i + 1,
            });
        } else if line.trim_start() == "```" {
            if let Some(b) = current.take() {
                out.push(b);
            }
        } else if let Some(b) = current.as_mut() {
            if let Some(cmd) = line.strip_prefix("$ ") {
                b.steps.push((cmd.to_string(), Vec::new()));
            } else if let Some(last) = b.steps.last_mut() {
                last.1.push(line.to_string());
            }
        }
    }
    out
}

/// Matches one output line against an expected one, where `...` matches anything.
fn line_matches(expected: &str, actual: &str) -> bool {
    if !expected.contains("...") {
        return expected == actual;
    }
    let parts: Vec<&str> = expected.split("...").collect();
    let mut rest = actual;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

fn substitute_ports(text: &str, ports: &mut HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut i = 0;
    let b = text.as_bytes();
    while i < b.len() {
        let is_port = i + 5 <= b.len()
            && b[i..i + 5].iter().all(|c| c.is_ascii_digit())
            && b[i..].starts_with(b"12")
            && (i == 0 || !b[i - 1].is_ascii_digit())
            && (i + 5 == b.len() || !b[i + 5].is_ascii_digit());
        if is_port {
            let key = text[i..i + 5].to_string();
            let free = ports.entry(key).or_insert_with(|| free_port().to_string());
            out.push_str(free);
            i += 5;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn readme_examples_run_as_shown() {
    require("bash");
    require("python3");
    let bin = sockkit_path();
    let bin_dir = bin.parent().unwrap().to_path_buf();
    let show = std::env::var_os("README_SHOW").is_some();
    let all = blocks();
    assert!(all.len() >= 5, "the README lost its examples");
    let mut failures = Vec::new();
    for block in all {
        let dir = tempfile::tempdir().unwrap();
        let mut ports = HashMap::new();
        let mut script = format!(
            "cd '{}'\nexport PATH='{}':\"$PATH\"\n",
            dir.path().display(),
            bin_dir.display()
        );
        let mut steps = Vec::new();
        for (i, (cmd, expected)) in block.steps.iter().enumerate() {
            let cmd = substitute_ports(cmd, &mut ports);
            let expected: Vec<String> = expected
                .iter()
                .map(|l| substitute_ports(l, &mut ports))
                .collect();
            script.push_str(&format!("printf '\\n@@{i}@@\\n'\n"));
            match cmd.trim_end().strip_suffix('&') {
                Some(bg) => script.push_str(&format!("{{ {bg} ; }} > /dev/null 2>&1 &\n")),
                None => script.push_str(&format!("{{ {cmd} ; }} 2>&1\n")),
            }
            steps.push((cmd, expected));
        }
        script.push_str("printf '\\n@@end@@\\n'\nfor j in $(jobs -p); do pkill -P $j; kill $j; done 2>/dev/null\n");
        let mut p = Proc::start("bash", &["-c", &script], Stdio::null());
        let (_, out, _) = p.finish();
        let out = String::from_utf8_lossy(&out).into_owned();
        for (i, (cmd, expected)) in steps.iter().enumerate() {
            let start = format!("\n@@{i}@@\n");
            let end = if i + 1 < steps.len() {
                format!("\n@@{}@@\n", i + 1)
            } else {
                "\n@@end@@\n".to_string()
            };
            let section = out
                .split_once(&start)
                .and_then(|(_, rest)| rest.split_once(&end).map(|(s, _)| s))
                .unwrap_or("<no output: the block did not get this far>");
            let section = section.strip_suffix('\n').unwrap_or(section);
            let actual: Vec<&str> = if section.is_empty() {
                Vec::new()
            } else {
                section.split('\n').collect()
            };
            if show {
                eprintln!("$ {cmd}\n{section}");
            }
            let ok = actual.len() == expected.len()
                && actual.iter().zip(expected).all(|(a, e)| line_matches(e, a));
            if !ok {
                failures.push(format!(
                    "README.md block at line {}: `{cmd}`\n  expected:\n{}\n  actual:\n{}",
                    block.line,
                    expected.join("\n"),
                    section
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn wildcard_lines() {
    assert!(line_matches("{'clientid': ...} has", "{'clientid': 5} has"));
    assert!(!line_matches("{'clientid': ...} has", "{'x': 5} has"));
    assert!(line_matches("a", "a"));
}
