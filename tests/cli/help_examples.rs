//! Every example shown in `--help` runs as written (ports and host names aside) and does what its
//! comment says, and fits in 78 columns so that no terminal of 80 columns or more wraps it: a line
//! copied from the help runs. The README's examples have their own test (readme.rs).

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::process::Stdio;

use crate::harness::*;

const COMMANDS: &[&str] = &[
    "connect",
    "listen",
    "udp-listen",
    "udp-send",
    "lab-client",
    "lab-server",
    "relay",
];

/// The example command lines under `Examples:` in `help` (comments left out).
fn examples_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Examples:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.trim().to_string())
        .collect()
}

fn help(sub: &str, flag: &str) -> String {
    let (code, out, err) = run_sockkit(&[sub, flag], b"");
    assert_eq!(code, Some(0), "{err}");
    String::from_utf8(out).unwrap()
}

/// The example with the real binary, 127.0.0.1 for host names, and `port` for every port number.
fn localise(line: &str, port: u16) -> String {
    let bin = sockkit_path().display().to_string();
    let mut out = Vec::new();
    for word in line.split(' ') {
        let word = match word {
            "sockkit" => bin.clone(),
            "localhost" | "example.org" => "127.0.0.1".to_string(),
            w if w
                .split('-')
                .all(|p| p.len() >= 4 && p.chars().all(|c| c.is_ascii_digit())) =>
            {
                w.split('-')
                    .map(|_| port.to_string())
                    .collect::<Vec<_>>()
                    .join("-")
            }
            w => w.to_string(),
        };
        out.push(word);
    }
    out.join(" ")
}

fn bash(line: &str, dir: &std::path::Path) -> Proc {
    let script = format!("cd '{}' && {line}", dir.display());
    Proc::start("bash", &["-c", &script], Stdio::null())
}

/// Runs one example of `sub` against a peer, asserting what its comment promises.
fn run_example(sub: &str, line: &str) {
    let dir = tempfile::tempdir().unwrap();
    let pickle = b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.";
    match sub {
        "connect" | "udp-send" | "lab-client" => {
            let peer = match sub {
                "connect" => Proc::sockkit_null(&["listen", "-k", "--echo", "127.0.0.1", "0"]),
                "udp-send" => Proc::sockkit_null(&["udp-listen", "--echo", "127.0.0.1", "0"]),
                _ => Proc::sockkit_null(&["lab-server", "--port", "0"]),
            };
            let port = if sub == "lab-client" {
                peer.stdout_listening_port()
            } else {
                peer.listening_port()
            };
            let (code, out, err) = bash(&localise(line, port), dir.path()).finish();
            assert_eq!(code, Some(0), "`{line}`: {err}");
            if sub == "lab-client" {
                assert!(
                    String::from_utf8_lossy(&out).contains("passed the test"),
                    "`{line}`"
                );
            }
        }
        "listen" | "udp-listen" | "lab-server" => {
            let server = bash(&format!("exec {}", localise(line, 0)), dir.path());
            if sub == "lab-server" {
                let port = server.stdout_listening_port().to_string();
                let (code, _, err) = run_sockkit(
                    &[
                        "lab-client",
                        "--port",
                        &port,
                        "--name",
                        "Ada",
                        "--github",
                        "ada",
                        "--sid",
                        "1",
                    ],
                    b"",
                );
                assert_eq!(code, Some(0), "`{line}`: {err}");
                server.stdout.wait_contains("Connected: Student: Ada");
                return;
            }
            let port = server.listening_port();
            let (data, shown): (&[u8], &str) = if line.contains("--mode pickle") {
                (pickle, "{'a': 1}")
            } else if line.contains("-x") {
                (b"hello\n", "68 65 6c 6c 6f 0a")
            } else {
                (b"hello from the test\n", "hello from the test")
            };
            if sub == "listen" {
                let mut c = TcpStream::connect(local(port)).unwrap();
                c.write_all(data).unwrap();
                if line.contains("--echo") {
                    c.set_read_timeout(Some(TIMEOUT)).unwrap();
                    let mut back = vec![0u8; data.len()];
                    std::io::Read::read_exact(&mut c, &mut back).unwrap();
                    assert_eq!(back, data, "`{line}` did not echo");
                }
                let shown = if line.contains("--chat") {
                    "<client1> hello from the test"
                } else {
                    shown
                };
                server.stdout.wait_contains(shown);
            } else {
                let c = UdpSocket::bind("127.0.0.1:0").unwrap();
                c.set_read_timeout(Some(TIMEOUT)).unwrap();
                c.send_to(data, local(port)).unwrap();
                server.stdout.wait_contains(shown);
                if line.contains("--echo") {
                    let mut back = [0u8; 64];
                    let n = c.recv(&mut back).unwrap();
                    assert_eq!(&back[..n], data, "`{line}` did not echo");
                }
                if line.contains("--show-sender") {
                    let me = c.local_addr().unwrap().to_string();
                    server.stdout.wait_contains(&me);
                }
            }
        }
        "relay" => {
            // The target: an echo server. The relay listens where the example says, on a free port.
            let target = Proc::sockkit_null(&["listen", "-k", "--echo", "127.0.0.1", "0"]);
            let tport = target.listening_port();
            let words: Vec<&str> = line.split(' ').collect();
            let last = words.len() - 1;
            let line: Vec<String> = words
                .iter()
                .enumerate()
                .map(|(i, w)| match w.rsplit_once(':') {
                    _ if *w == "sockkit" => sockkit_path().display().to_string(),
                    Some(_) if i == last => format!("127.0.0.1:{tport}"),
                    Some(_) => "127.0.0.1:0".to_string(),
                    None if w.len() >= 4 && w.chars().all(|c| c.is_ascii_digit()) => "0".into(),
                    None => w.to_string(),
                })
                .collect();
            let relay = bash(&format!("exec {}", line.join(" ")), dir.path());
            let port = relay.listening_port();
            let data: &[u8] = if line.contains(&"pickle".to_string()) {
                pickle
            } else {
                b"hello\n"
            };
            let mut c = TcpStream::connect(local(port)).unwrap();
            c.write_all(data).unwrap();
            c.set_read_timeout(Some(TIMEOUT)).unwrap();
            let mut back = vec![0u8; data.len()];
            std::io::Read::read_exact(&mut c, &mut back).unwrap();
            assert_eq!(back, data, "`{}` did not forward both ways", line.join(" "));
            if line.contains(&"pickle".to_string()) {
                relay.stdout.wait_contains("[#1 server -> client] {'a': 1}");
            } else if line.contains(&"-x".to_string()) {
                relay.stdout.wait_contains("68 65 6c 6c 6f 0a");
            }
        }
        other => panic!("no runner for {other}"),
    }
}

#[test]
fn every_help_example_fits_and_runs() {
    let mut total = 0;
    for sub in COMMANDS {
        let short = examples_in(&help(sub, "-h"));
        let long = examples_in(&help(sub, "--help"));
        assert!(!short.is_empty(), "sockkit {sub} -h shows no example");
        assert_eq!(short, long, "-h and --help show different examples");
        for line in &short {
            assert!(line.len() + 2 <= 78, "longer than 78 columns: {line}");
            assert!(line.contains(&format!("sockkit {sub}")), "{line}");
            run_example(sub, line);
            total += 1;
        }
    }
    assert!(total >= 15, "only {total} examples found");
}

#[test]
fn help_footers_describe_only_what_each_command_accepts() {
    for sub in COMMANDS {
        let text = help(sub, "--help");
        let accepts = |flag: &str| {
            let (code, _, err) = run_sockkit(&[sub, flag, "--help"], b"");
            code == Some(0) || !err.contains("unexpected argument")
        };
        for flag in ["--no-shutdown", "-q"] {
            let footer = text.split("End of stream:").nth(1).unwrap_or("");
            if footer.contains(flag) {
                assert!(
                    accepts(flag),
                    "sockkit {sub} --help describes {flag}, which it rejects"
                );
            }
        }
        assert!(text.contains("Exit status:"), "{sub}");
    }
}

#[test]
fn man_pages_have_no_dangling_references_and_full_synopses() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for page in &pages {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        // Every `name(1)` named in a page has a page of its own.
        for (i, _) in text.match_indices("(1)") {
            let start = text[..i]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\\'))
                .map_or(0, |s| s + 1);
            let name = text[start..i].replace("\\-", "-").replace("\\fB", "");
            assert!(
                pages.contains(&format!("{name}.1")),
                "{page} refers to {name}(1)"
            );
        }
        // Options that take a value show it in the synopsis.
        if page == "sockkit-connect.1" {
            assert!(
                text.contains("\\-\\-connect\\-timeout\\fR \\fIDURATION"),
                "{text}"
            );
        }
        // The notes keep the examples line for line.
        if page != "sockkit.1" {
            assert!(text.contains(".SS Examples\n.nf\n"), "{page}");
        }
    }
}
