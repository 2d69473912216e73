//! `-v` only adds lines on stderr: on every subcommand, stdout is byte for byte what it is without it,
//! in every display mode, so a script may add `-v` to see what happens without breaking its parser.

use std::io::Write;
use std::net::{TcpStream, UdpSocket};

use crate::harness::*;

/// Bytes that exercise every display: text, controls, a pickle (`{'a': 1}`, protocol 4).
const DATA: &[u8] =
    b"hello\n\x00\x01\xff\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.";

/// A TCP server that sends DATA in one write, then closes. (How a display groups what arrives
/// follows the reads: hex rows are written as far as each read goes, bad bytes are reported as
/// they come. That is not what this test is about, so it gives them one read to come in.)
const SERVER: &str = r#"
import socket, sys
data = bytes.fromhex(sys.argv[1])
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
print('PORT', s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(data); c.close()
"#;

fn modes() -> [&'static [&'static str]; 3] {
    [
        &["--mode", "raw"],
        &["--mode", "hex"],
        &["--mode", "pickle"],
    ]
}

/// Runs `args` (with `-v` inserted after the subcommand when `verbose`) and returns stdout.
fn stdout_of(
    verbose: bool,
    args: &[&str],
    run: impl Fn(&[&str]) -> (Option<i32>, Vec<u8>, String),
) -> Vec<u8> {
    let mut all: Vec<&str> = args.to_vec();
    if verbose {
        all.insert(1, "-v");
    }
    let (code, out, err) = run(&all);
    assert_eq!(code, Some(0), "sockkit {}: {err}", all.join(" "));
    if verbose {
        assert!(
            err.contains("sockkit: "),
            "-v said nothing on stderr: {}",
            all.join(" ")
        );
    }
    out
}

fn same_with_and_without(
    what: &str,
    args: &[&str],
    run: impl Fn(&[&str]) -> (Option<i32>, Vec<u8>, String),
) {
    let plain = stdout_of(false, args, &run);
    let verbose = stdout_of(true, args, &run);
    assert!(!plain.is_empty(), "{what}: nothing on stdout");
    assert_eq!(
        String::from_utf8_lossy(&verbose),
        String::from_utf8_lossy(&plain),
        "{what}: -v changed stdout"
    );
    assert_eq!(verbose, plain, "{what}: -v changed stdout");
}

#[test]
fn connect() {
    for mode in modes() {
        same_with_and_without("connect", &[&["connect"][..], mode].concat(), |args| {
            let server = Proc::python(SERVER, &[&hex::encode(DATA)]);
            let port = server.stdout_port().to_string();
            let mut all = args.to_vec();
            all.extend(["127.0.0.1", &port]);
            Proc::sockkit_null(&all).finish()
        });
    }
}

#[test]
fn listen() {
    for mode in modes() {
        same_with_and_without(
            "listen",
            &[&["listen"][..], mode, &["0"]].concat(),
            |args| {
                let mut server = Proc::sockkit_null(args);
                let port = server.listening_port();
                let mut c = TcpStream::connect(local(port)).unwrap();
                // One write: how bad bytes are grouped into `# invalid` lines may depend on how
                // they were split into reads, which is not what this test is about.
                c.write_all(DATA).unwrap();
                drop(c);
                server.finish()
            },
        );
    }
}

#[test]
fn udp_listen() {
    for mode in modes() {
        same_with_and_without(
            "udp-listen",
            &[
                &["udp-listen", "--count", "2"][..],
                mode,
                &["127.0.0.1", "0"],
            ]
            .concat(),
            |args| {
                let mut server = Proc::sockkit_null(args);
                let port = server.listening_port();
                let c = UdpSocket::bind("127.0.0.1:0").unwrap();
                c.send_to(b"first datagram\n", local(port)).unwrap();
                c.send_to(DATA, local(port)).unwrap();
                server.finish()
            },
        );
    }
}

#[test]
fn udp_send() {
    for mode in modes() {
        same_with_and_without(
            "udp-send",
            &[&["udp-send", "--count", "1"][..], mode].concat(),
            |args| {
                // A UDP server that answers each datagram with DATA.
                let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
                peer.set_read_timeout(Some(TIMEOUT)).unwrap();
                let port = peer.local_addr().unwrap().port().to_string();
                let answer = std::thread::spawn(move || {
                    let mut buf = [0u8; 100];
                    let (_, from) = peer.recv_from(&mut buf).unwrap();
                    peer.send_to(DATA, from).unwrap();
                });
                let mut all = args.to_vec();
                all.extend(["127.0.0.1", &port, "ping"]);
                let r = Proc::sockkit_null(&all).finish();
                answer.join().unwrap();
                r
            },
        );
    }
}

#[test]
fn lab_server() {
    // The client id is the client's port, and the listening line names the server's port: the rest
    // of stdout must match exactly.
    let normalise = |out: &[u8]| -> String {
        String::from_utf8_lossy(out)
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect()
    };
    let mut seen = Vec::new();
    for verbose in [false, true] {
        let mut args = vec!["lab-server", "--port", "0"];
        if verbose {
            args.insert(1, "-v");
        }
        let mut server = Proc::sockkit_null(&args);
        let port = server.stdout_listening_port().to_string();
        let (code, _, err) = run_sockkit(
            &[
                "lab-client",
                "--port",
                &port,
                "--name",
                "Alice Brown",
                "--github",
                "abrown",
                "--sid",
                "123456789",
            ],
            b"",
        );
        assert_eq!(code, Some(0), "{err}");
        server.stdout.wait_contains("Connected: ");
        server.signal(15);
        let (_, out, err) = server.finish();
        if verbose {
            assert!(err.contains("received {"), "-v said nothing: {err}");
        }
        seen.push(normalise(&out));
    }
    assert_eq!(seen[1], seen[0], "lab-server -v changed stdout");
}
