//! `sockkit relay`: a forwarder between real clients and real servers (python3, nc), showing both
//! directions decoded, passing each side's end and resets on.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::*;

/// A lab server as course programs write it, serving `N` students one after another: welcome,
/// one record, acknowledgement, close.
const PY_LAB_SERVER: &str = r#"
import pickle, socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
print('PORT', s.getsockname()[1], flush=True)
for _ in range(int(sys.argv[1])):
    conn, addr = s.accept()
    conn.send(pickle.dumps({'clientid': addr[1]}))
    student = pickle.loads(conn.recv(1024))
    conn.send(pickle.dumps(1))
    conn.close()
"#;

/// A student client as course programs write it.
const PY_STUDENT: &str = r#"
import pickle, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.settimeout(10)
welcome = pickle.loads(s.recv(1024))
s.send(pickle.dumps({'student_name': sys.argv[2], 'github_username': 'gh', 'sid': 42}))
print(pickle.loads(s.recv(1024)), flush=True)
"#;

/// A threaded echo server: each connection's bytes back until it ends, then close.
const PY_ECHO: &str = r#"
import socket, threading
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(64)
print('PORT', s.getsockname()[1], flush=True)
def serve(c):
    while True:
        b = c.recv(65536)
        if not b:
            break
        c.sendall(b)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

/// Starts `sockkit relay ARGS 127.0.0.1:0 127.0.0.1:TARGET` and returns it with its port.
fn relay(args: &[&str], target: u16) -> (Proc, u16) {
    let target = format!("127.0.0.1:{target}");
    let mut all = vec!["relay"];
    all.extend_from_slice(args);
    all.extend(["127.0.0.1:0", &target]);
    let mut p = Proc::sockkit(&all);
    p.close_stdin();
    let port = p.listening_port();
    (p, port)
}

#[test]
fn lab_handshakes_show_decoded_per_connection_and_direction() {
    let server = Proc::python(PY_LAB_SERVER, &["2"]);
    let (relay, port) = relay(&["--mode", "pickle"], server.stdout_port());
    for name in ["Ada", "Bob"] {
        let mut student = Proc::python(PY_STUDENT, &[&port.to_string(), name]);
        let (code, out, err) = student.finish();
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out, b"1\n", "the student got the acknowledgement");
    }
    let text = relay.stdout.wait_for("both handshakes", |b| {
        String::from_utf8_lossy(b)
            .matches("server -> client] 1\n")
            .count()
            == 2
    });
    let text = String::from_utf8(text).unwrap();
    for (n, name) in [(1, "Ada"), (2, "Bob")] {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("[#{n} ")))
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].starts_with(&format!("[#{n} server -> client] {{'clientid': ")),
            "{text}"
        );
        assert_eq!(
            lines[1],
            format!("[#{n} client -> server] {{'student_name': '{name}', 'github_username': 'gh', 'sid': 42}}")
        );
        assert_eq!(lines[2], format!("[#{n} server -> client] 1"));
    }
}

#[test]
fn a_late_reply_after_half_close_reaches_nc() {
    require("nc");
    // The server answers only once the client has finished sending, and a moment later.
    let server = Proc::python(
        "import socket, time\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, _ = s.accept()\n\
         got = b''\n\
         while True:\n\
         \x20   b = c.recv(65536)\n\
         \x20   if not b: break\n\
         \x20   got += b\n\
         time.sleep(0.3)\n\
         c.sendall(b'you sent ' + str(len(got)).encode() + b' bytes\\n'); c.close()",
        &[],
    );
    let (relay, port) = relay(&["-v"], server.stdout_port());
    let mut nc = Proc::start(
        "nc",
        &["-N", "127.0.0.1", &port.to_string()],
        std::process::Stdio::piped(),
    );
    nc.write(b"hello relay\n");
    nc.close_stdin();
    let (_, out, err) = nc.finish();
    assert_eq!(out, b"you sent 12 bytes\n", "{err}");
    let log = relay.stderr.wait_contains("closed (");
    assert!(log.contains("(the client ended first)"), "{log}");
    assert!(
        log.contains("client -> server 12 bytes, server -> client 18 bytes"),
        "{log}"
    );
    // A pure forwarder: nothing on stdout.
    assert!(relay.stdout.bytes().is_empty());
}

#[test]
fn twenty_clients_at_once_four_mib_each_way() {
    let server = Proc::python(PY_ECHO, &[]);
    let (_relay, port) = relay(&[], server.stdout_port());
    let clients: Vec<_> = (0..20u64)
        .map(|i| {
            thread::spawn(move || {
                let data = random_bytes(4 << 20, i + 1);
                let mut c = TcpStream::connect(local(port)).unwrap();
                c.set_read_timeout(Some(TIMEOUT)).unwrap();
                let mut w = c.try_clone().unwrap();
                let sent = data.clone();
                let writer = thread::spawn(move || {
                    w.write_all(&sent).unwrap();
                    w.shutdown(Shutdown::Write).unwrap();
                });
                let mut back = Vec::new();
                c.read_to_end(&mut back).unwrap();
                writer.join().unwrap();
                assert_eq!(back.len(), data.len(), "client {i}");
                assert_eq!(hash(&back), hash(&data), "client {i}");
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
}

#[test]
fn a_refusing_target_closes_that_client_and_the_relay_keeps_serving() {
    let closed = free_port();
    let (relay, port) = relay(&["-w", "2s"], closed);
    for _ in 0..2 {
        let mut c = TcpStream::connect(local(port)).unwrap();
        c.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut buf = [0u8; 16];
        assert!(matches!(c.read(&mut buf), Ok(0) | Err(_)));
    }
    let log = relay.stderr.wait_for("two refusals", |b| {
        String::from_utf8_lossy(b)
            .matches("connection refused")
            .count()
            == 2
    });
    let log = String::from_utf8_lossy(&log);
    assert!(
        log.contains("#1 127.0.0.1:") && log.contains(&format!("could not connect to 127.0.0.1:{closed}: connection refused (is the target listening?)")),
        "{log}"
    );
}

#[test]
fn a_client_reset_resets_its_target() {
    // The target reports how its connection ended.
    let server = Proc::python(
        "import socket\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, _ = s.accept()\n\
         try:\n\
         \x20   while c.recv(65536): pass\n\
         \x20   print('EOF', flush=True)\n\
         except ConnectionResetError:\n\
         \x20   print('RESET', flush=True)",
        &[],
    );
    let (_relay, port) = relay(&[], server.stdout_port());
    let c = TcpStream::connect(local(port)).unwrap();
    (&c).write_all(b"some bytes").unwrap();
    socket2::SockRef::from(&c)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(c);
    server.stdout.wait_contains("RESET");
}

#[test]
fn hex_mode_heads_each_block_with_connection_and_direction() {
    let server = Proc::python(
        "import socket\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, _ = s.accept(); c.recv(100); c.sendall(b'pong'); c.close()",
        &[],
    );
    let (relay, port) = relay(&["-x"], server.stdout_port());
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.write_all(b"ping").unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"pong");
    let out = relay.stdout.wait_for("both blocks", |b| {
        let t = String::from_utf8_lossy(b);
        t.contains("70 6f 6e 67") && t.contains("70 69 6e 67")
    });
    let text = String::from_utf8(out).unwrap();
    let ping = text.find("# #1 client -> server\n").expect(&text);
    assert!(text[ping..].contains("00000000  70 69 6e 67"), "{text}");
    let pong = text.find("# #1 server -> client\n").expect(&text);
    assert!(text[pong..].contains("00000000  70 6f 6e 67"), "{text}");
}

#[test]
fn relay_command_line_mistakes_are_one_line() {
    for (args, want) in [
        (
            &["relay", "0", "localhost"][..],
            "invalid target 'localhost': expected HOST:PORT",
        ),
        (
            &["relay", "0", "127.0.0.1:0"][..],
            "invalid target port '0'",
        ),
        (&["relay", "0", ":80"][..], "the host is empty"),
    ] {
        let started = Instant::now();
        let (code, out, err) = run_sockkit(args, b"");
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(started.elapsed() < TIMEOUT);
    }
}

#[test]
fn a_target_reset_resets_its_client() {
    let server = Proc::python(
        "import socket, struct\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, _ = s.accept(); c.recv(100)\n\
         c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()",
        &[],
    );
    let (relay, port) = relay(&[], server.stdout_port());
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.write_all(b"hello").unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0u8; 16];
    let e = c.read(&mut buf).expect_err("the reset is passed on");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
    relay
        .stderr
        .wait_contains("the target's connection was lost: connection reset by peer");
}

#[test]
fn raw_relay_prints_only_with_show_and_then_whole_lines() {
    let server = Proc::python(PY_ECHO, &[]);
    let (relay, port) = relay(&["--show"], server.stdout_port());
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.set_nodelay(true).unwrap();
    // A line in two pieces: it is shown once whole, in each direction.
    c.write_all(b"hello ").unwrap();
    thread::sleep(Duration::from_millis(20));
    c.write_all(b"world\n").unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut back = [0u8; 12];
    c.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"hello world\n");
    let out = relay.stdout.wait_len(24);
    assert_eq!(out, b"hello world\nhello world\n");
}

/// The pin a `--tls` server printed on stderr (`... --pin sha256:HEX ...`).
fn printed_pin(p: &Proc) -> String {
    let text = p.stderr.wait_for("a --pin line", |b| {
        let t = String::from_utf8_lossy(b);
        t.lines().any(|l| l.contains("--pin sha256:")) && t.ends_with('\n')
    });
    let text = String::from_utf8_lossy(&text);
    let at = text.find("--pin sha256:").unwrap() + "--pin ".len();
    text[at..at + "sha256:".len() + 64].to_string()
}

/// TLS on both sides: a client speaks TLS to the relay (its self-signed certificate, pinned), the
/// relay speaks TLS to a TLS echo server (pinned too), and the bytes in between are shown.
#[test]
fn tls_on_both_sides_with_the_bytes_shown_in_between() {
    let server = Proc::sockkit_null(&["listen", "--tls", "-k", "--echo", "127.0.0.1", "0"]);
    let sport = server.listening_port();
    let spin = printed_pin(&server);
    let target = format!("127.0.0.1:{sport}");
    let mut relay = Proc::sockkit(&[
        "relay",
        "-x",
        "--listen-tls",
        "--target-tls",
        "--pin",
        &spin,
        "127.0.0.1:0",
        &target,
    ]);
    relay.close_stdin();
    let rport = relay.listening_port().to_string();
    let rpin = printed_pin(&relay);
    let mut client = Proc::sockkit(&["connect", "--tls", "--pin", &rpin, "127.0.0.1", &rport]);
    client.write(b"secret\n");
    client.stdout.wait_contains("secret\n");
    client.close_stdin();
    let (code, out, err) = client.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"secret\n");
    // In between, in the clear: "secret\n" both ways.
    relay.stdout.wait_for("both directions", |b| {
        let t = String::from_utf8_lossy(b);
        t.matches("73 65 63 72 65 74 0a").count() == 2
    });
}

#[test]
fn a_wrong_target_pin_closes_that_client_with_one_line() {
    let server = Proc::sockkit_null(&["listen", "--tls", "-k", "127.0.0.1", "0"]);
    let target = format!("127.0.0.1:{}", server.listening_port());
    let wrong = format!("sha256:{}", "ab".repeat(32));
    let mut relay = Proc::sockkit(&[
        "relay",
        "--target-tls",
        "--pin",
        &wrong,
        "127.0.0.1:0",
        &target,
    ]);
    relay.close_stdin();
    let port = relay.listening_port();
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0u8; 8];
    assert!(matches!(c.read(&mut buf), Ok(0) | Err(_)));
    let log = relay.stderr.wait_contains("TLS handshake with 127.0.0.1:");
    assert!(log.contains("#1 127.0.0.1:"), "{log}");
}

/// Unix sockets on either side: a Unix listener in front of a TCP echo server, and a TCP
/// listener in front of a Unix echo server (python3's AF_UNIX), with the socket file removed at
/// the end.
#[test]
fn unix_sockets_on_either_side() {
    let dir = tempfile::tempdir().unwrap();
    // Unix in front of TCP.
    let tcp_echo = Proc::python(PY_ECHO, &[]);
    let sock = dir.path().join("front.sock");
    let target = format!("127.0.0.1:{}", tcp_echo.stdout_port());
    let mut relay = Proc::sockkit(&["relay", sock.to_str().unwrap(), &target]);
    relay.close_stdin();
    relay.stderr.wait_contains("listening on");
    let mut c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    c.write_all(b"over unix\n").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"over unix\n");
    relay.signal(15);
    assert_eq!(relay.wait().code(), Some(143));
    assert!(!sock.exists(), "the relay's socket file was left behind");
    // TCP in front of Unix.
    let back_sock = dir.path().join("back.sock");
    let unix_echo = Proc::python(
        "import socket, sys\n\
         s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()\n\
         print('READY', flush=True)\n\
         c, _ = s.accept()\n\
         while True:\n\
         \x20   b = c.recv(65536)\n\
         \x20   if not b: break\n\
         \x20   c.sendall(b)\n\
         c.close()",
        &[back_sock.to_str().unwrap()],
    );
    unix_echo.stdout.wait_contains("READY");
    let (_relay, port) = {
        let mut p = Proc::sockkit(&["relay", "127.0.0.1:0", back_sock.to_str().unwrap()]);
        p.close_stdin();
        let port = p.listening_port();
        (p, port)
    };
    let mut c = TcpStream::connect(local(port)).unwrap();
    c.write_all(b"to unix\n").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"to unix\n");
}
