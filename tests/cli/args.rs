//! Command-line mistakes, as a person makes them: every one is a single `sockkit: error: ...` line
//! naming the flag and the value, at most one `hint:` line, and exit status 2, before any I/O.

use crate::harness::*;

/// (arguments, text the error line must contain: the flag or operand, and the value).
const BAD: &[(&[&str], &[&str])] = &[
    // Sizes, rates and modes: a leading '-' is a bad value, not an unknown flag.
    (
        &["udp-send", "--size", "-5", "127.0.0.1", "9"],
        &["--size", "'-5'"],
    ),
    (
        &["udp-send", "--rate", "-5/s", "127.0.0.1", "9"],
        &["--rate", "'-5/s'", "more than 0"],
    ),
    (
        &["udp-listen", "--rcvbuf", "-1", "127.0.0.1", "0"],
        &["--rcvbuf", "'-1'"],
    ),
    (
        &["listen", "-U", "/nonexistent/x", "--unix-mode", "-600"],
        &["--unix-mode", "'-600'"],
    ),
    // Durations: negative numbers are values, and every wording names the flag.
    (
        &["connect", "-w", "-1s", "127.0.0.1", "9"],
        &["--connect-timeout", "'-1s'", "negative"],
    ),
    (
        &["connect", "-w", "1e99s", "127.0.0.1", "9"],
        &["--connect-timeout", "'1e99s'", "100 years"],
    ),
    (
        &["connect", "-w", "soon", "127.0.0.1", "9"],
        &["--connect-timeout", "'soon'"],
    ),
    (
        &["connect", "-w", "0", "127.0.0.1", "9"],
        &["--connect-timeout", "'0'", "more than 0"],
    ),
    (
        &["connect", "-i", "0s", "127.0.0.1", "9"],
        &["--idle-timeout", "'0s'"],
    ),
    (
        &["lab-server", "--handshake-timeout", "0"],
        &["--handshake-timeout", "'0'"],
    ),
    (
        &["udp-send", "--wait", "-2", "127.0.0.1", "9"],
        &["--wait", "'-2'", "negative"],
    ),
    (
        &["connect", "127.0.0.1", "9", "-w", "-v"],
        &["--connect-timeout", "'-v'", "flag"],
    ),
    // Ports: 0 where a port must be reached, words where numbers are needed.
    (&["connect", "127.0.0.1", "0"], &["port", "'0'"]),
    (&["connect", "-z", "127.0.0.1", "0-2"], &["port", "'0'"]),
    (&["udp-send", "127.0.0.1", "0", "hi"], &["PORT", "'0'"]),
    (
        &[
            "lab-client",
            "--port",
            "0",
            "--name",
            "A",
            "--github",
            "a",
            "--sid",
            "1",
        ],
        &["--port", "'0'"],
    ),
    (&["lab-server", "--port", "abc"], &["--port", "'abc'"]),
    (&["lab-server", "--port", "-1"], &["--port", "'-1'"]),
    (&["listen", "-p", "70000"], &["--port", "'70000'"]),
    (&["listen", "http"], &["port", "'http'"]),
    // Empty hosts.
    (&["connect", "", "80"], &["HOST", "''"]),
    (&["udp-send", "", "80", "x"], &["HOST", "''"]),
    (&["listen", "", "0"], &["HOST", "''"]),
    (&["lab-server", "--host", ""], &["--host", "''"]),
    (
        &[
            "lab-client",
            "--ip",
            "",
            "--name",
            "A",
            "--github",
            "a",
            "--sid",
            "1",
        ],
        &["--ip", "''"],
    ),
    // Zero counts and limits.
    (&["listen", "-m", "0", "0"], &["--max-conns", "'0'"]),
    (&["lab-server", "-m", "0"], &["--max-conns", "'0'"]),
    (
        &["lab-server", "--max-message", "0"],
        &["--max-message", "'0'"],
    ),
    (
        &["connect", "--max-message", "0", "127.0.0.1", "9"],
        &["--max-message", "'0'"],
    ),
    (&["udp-listen", "--count", "0", "0"], &["--count", "'0'"]),
    (
        &["udp-send", "--count", "-3", "127.0.0.1", "9"],
        &["--count", "'-3'"],
    ),
    (
        &["connect", "--pickle-protocol", "9", "127.0.0.1", "9"],
        &["--pickle-protocol", "'9'"],
    ),
    // Numbers that look like flags are values.
    (
        &["lab-client", "--name", "A", "--github", "a", "--sid", "12x"],
        &["--sid", "'12x'"],
    ),
    // Flags that do not apply to the mode they are given in.
    (&["listen", "-k", "-q", "1", "0"], &["-q", "-k"]),
    (&["listen", "--chat", "-q", "1", "0"], &["-q", "--chat"]),
    (
        &["listen", "-k", "--no-shutdown", "0"],
        &["--no-shutdown", "-k"],
    ),
    (
        &["connect", "--send-only", "--recv-only", "127.0.0.1", "9"],
        &["--send-only", "--recv-only"],
    ),
    (
        &["connect", "-z", "-q", "1", "127.0.0.1", "9"],
        &["-q", "-z"],
    ),
    (
        &["connect", "-z", "--send", "hex", "127.0.0.1", "9"],
        &["--send", "-z"],
    ),
    (
        &["listen", "--echo", "--send-only", "0"],
        &["--send-only", "--echo"],
    ),
    (&["listen", "--echo", "-q", "1", "0"], &["-q", "--echo"]),
    // Filters fail closed: an empty entry never means "everyone".
    (&["listen", "--allow", "", "0"], &["--allow", "''", "empty"]),
    (
        &["listen", "--allow", "127.0.0.1,,10.0.0.1", "0"],
        &["--allow", "'127.0.0.1,,10.0.0.1'"],
    ),
    (&["lab-server", "--deny", ""], &["--deny", "''"]),
    (
        &["listen", "--deny", "10.0.0.0/33", "0"],
        &["--deny", "'10.0.0.0/33'"],
    ),
    // Plain clap mistakes keep the same shape.
    (
        &["connect", "--mode", "loud", "127.0.0.1", "9"],
        &["--mode", "'loud'"],
    ),
    (&["connect", "--bogus", "127.0.0.1", "9"], &["'--bogus'"]),
    (&["conect", "127.0.0.1", "9"], &["'conect'"]),
    (&["listen", "1", "2", "3"], &["'3'"]),
    (&["connect"], &["HOST", "PORT"]),
    (&[], &["command"]),
];

#[test]
fn every_usage_error_is_one_line_naming_flag_and_value() {
    let mut failures = Vec::new();
    for (args, needles) in BAD {
        let (code, out, err) = run_sockkit(args, b"");
        let lines: Vec<&str> = err.lines().collect();
        let ok = code == Some(2)
            && out.is_empty()
            && !lines.is_empty()
            && lines[0].starts_with("sockkit: error: ")
            && lines.len() <= 2
            && lines.get(1).is_none_or(|h| h.starts_with("hint: "))
            && needles.iter().all(|n| lines[0].contains(n));
        if !ok {
            failures.push(format!(
                "sockkit {}\n  expected: exit 2, one 'sockkit: error:' line containing {needles:?}, at most one 'hint:' line\n  got: exit {code:?}, stderr {err:?}",
                args.join(" ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn help_and_version_stay_clap_s() {
    let (code, out, err) = run_sockkit(&["connect", "--help"], b"");
    assert_eq!(code, Some(0), "{err}");
    assert!(String::from_utf8_lossy(&out).contains("Usage: sockkit connect"));
    let (code, out, _) = run_sockkit(&["--version"], b"");
    assert_eq!(code, Some(0));
    assert!(String::from_utf8_lossy(&out).starts_with("sockkit "));
}

#[test]
fn a_negative_student_id_is_a_value() {
    // Python's int takes -5; the record is built and sent (here to a closed port: exit 1, not 2).
    let port = free_port().to_string();
    let (code, _, err) = run_sockkit(
        &[
            "lab-client",
            "--port",
            &port,
            "--name",
            "A",
            "--github",
            "a",
            "--sid",
            "-5",
            "-w",
            "2s",
        ],
        b"",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.starts_with("sockkit: error: could not connect"),
        "{err}"
    );
}

#[test]
fn interactive_without_a_terminal_is_one_clear_line() {
    let (code, _, err) = run_sockkit(&["connect", "-I", "127.0.0.1", "9"], b"hi\n");
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("sockkit: error: -I/--interactive needs a terminal"),
        "{err}"
    );
}
