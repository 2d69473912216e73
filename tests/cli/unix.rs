//! Unix domain sockets (`-U PATH`): stream sockets for connect and listen, datagram sockets for the
//! udp commands, against python3's `socket.AF_UNIX`, Debian's `nc -U`, and sockkit itself; the socket
//! file's life (stale ones replaced, live ones "in use", other files left alone, ours removed on
//! every exit); the Linux abstract namespace; the end-of-stream rules; errors naming the path.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::*;

/// A fresh directory for socket files (removed with its contents when the test ends).
fn dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sk")
        .tempdir()
        .expect("a temporary directory")
}

fn text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Waits (bounded) until a socket file exists at `path`: for peers that print no ready line.
fn wait_socket(path: &Path) {
    use std::os::unix::fs::FileTypeExt;
    let deadline = Instant::now() + TIMEOUT;
    while !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        assert!(
            Instant::now() < deadline,
            "no socket appeared at {}",
            path.display()
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Waits (bounded) until nothing is at `path`.
fn wait_gone(path: &Path) {
    let deadline = Instant::now() + TIMEOUT;
    while path.symlink_metadata().is_ok() {
        assert!(
            Instant::now() < deadline,
            "{} was not removed",
            path.display()
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// A python3 stream server at `path` that says READY, accepts one client and runs `body` with `c`
/// the connection.
fn py_server(path: &Path, body: &str) -> Proc {
    let script = format!(
        "import socket, sys, time\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n\
         s.bind(sys.argv[1])\n\
         s.listen(8)\n\
         print('READY', flush=True)\n\
         c, _ = s.accept()\n\
         {body}\n"
    );
    let p = Proc::python(&script, &[text(path)]);
    p.stdout.wait_contains("READY\n");
    p
}

/// `sockkit listen -U PATH ARGS...`, once it listens.
fn listen(path: &Path, extra: &[&str]) -> Proc {
    let mut args = vec!["listen", "-U", text(path)];
    args.extend_from_slice(extra);
    let p = Proc::sockkit(&args);
    p.stderr.wait_contains("listening on");
    p
}

/// The two relays of the engine: the Linux fast path (raw stdin from a pipe) and the stdin thread.
const RELAYS: [&[&str]; 2] = [&[], &["-C"]];

// ---------------------------------------------------------------------------------------------
// End-of-stream rules over a Unix stream

#[test]
fn unix_stdin_eof_half_closes_and_the_late_reply_is_printed() {
    for extra in RELAYS {
        let d = dir();
        let path = d.path().join("s");
        let server = py_server(
            &path,
            "data = b''\n\
             while True:\n    b = c.recv(65536)\n    if not b: break\n    data += b\n\
             time.sleep(0.3)\n\
             c.sendall(b'late reply to ' + data)\n\
             c.close()",
        );
        let mut args = vec!["connect", "-U", text(&path)];
        args.extend_from_slice(extra);
        let (code, out, err) = run_sockkit(&args, b"hello");
        assert_eq!(code, Some(0), "{extra:?} stderr: {err}");
        assert_eq!(out, b"late reply to hello", "{extra:?}");
        assert_eq!(err, "");
        drop(server);
    }
}

#[test]
fn unix_peer_close_ends_connect_with_stdin_open() {
    for extra in RELAYS {
        let d = dir();
        let path = d.path().join("s");
        let _server = py_server(&path, "c.sendall(b'bye\\n')\nc.close()\ntime.sleep(30)");
        let mut args = vec!["connect", "-U", text(&path)];
        args.extend_from_slice(extra);
        let mut client = Proc::sockkit(&args);
        let status = client.wait();
        let err = client.stderr.text();
        assert_eq!(status.code(), Some(0), "{extra:?} stderr: {err}");
        assert_eq!(client.stdout.wait_eof(), b"bye\n", "{extra:?}");
    }
}

#[test]
fn unix_listen_serves_a_python_client_and_removes_its_file() {
    let d = dir();
    let path = d.path().join("srv.sock");
    let mut server = listen(&path, &[]);
    server.write(b"from sockkit\n");
    server.close_stdin();
    let client = Proc::python(
        "import socket, sys\n\
         s = socket.socket(socket.AF_UNIX)\n\
         s.connect(sys.argv[1])\n\
         s.sendall(b'from python\\n')\n\
         s.shutdown(socket.SHUT_WR)\n\
         data = b''\n\
         while True:\n    b = s.recv(65536)\n    if not b: break\n    data += b\n\
         print('GOT', data.decode(), end='', flush=True)",
        &[text(&path)],
    );
    let (code, out, err) = server.finish();
    assert_eq!(code, Some(0), "stderr: {err}");
    assert_eq!(out, b"from python\n");
    client.stdout.wait_contains("GOT from sockkit\n");
    assert!(
        !path.exists(),
        "the socket file is still there after a normal end"
    );
}

// ---------------------------------------------------------------------------------------------
// Bulk data

#[test]
fn unix_64_mib_each_way_at_once() {
    let d = dir();
    let path = d.path().join("bulk");
    let up = random_bytes(64 << 20, 11);
    let down = random_bytes(64 << 20, 12);
    let mut server = listen(&path, &[]);
    let mut client = Proc::sockkit(&["connect", "-U", text(&path)]);
    let ((c1, got_up, e1), (c2, got_down, e2)) = exchange(&mut server, &mut client, &up, &down);
    assert_eq!((c1, c2), (Some(0), Some(0)), "listen: {e1} connect: {e2}");
    assert_eq!((got_up.len(), got_down.len()), (up.len(), down.len()));
    assert_eq!(hash(&got_up), hash(&up), "client to server bytes differ");
    assert_eq!(
        hash(&got_down),
        hash(&down),
        "server to client bytes differ"
    );
}

// ---------------------------------------------------------------------------------------------
// nc

#[test]
fn unix_nc_as_server() {
    require("nc");
    let d = dir();
    let path = d.path().join("nc.sock");
    let mut nc = Proc::start("nc", &["-lU", text(&path)], std::process::Stdio::piped());
    wait_socket(&path);
    nc.write(b"from nc\n");
    let mut client = Proc::sockkit(&["connect", "-U", text(&path)]);
    client.stdout.wait_contains("from nc\n");
    client.write(b"from sockkit\n");
    nc.stdout.wait_contains("from sockkit\n");
    drop(nc);
    let (code, out, err) = client.finish();
    assert_eq!(code, Some(0), "stderr: {err}");
    assert_eq!(out, b"from nc\n");
}

#[test]
fn unix_nc_as_client() {
    require("nc");
    let d = dir();
    let path = d.path().join("s");
    let mut server = listen(&path, &[]);
    server.write(b"from sockkit\n");
    server.close_stdin();
    let mut nc = Proc::start(
        "nc",
        &["-N", "-U", text(&path)],
        std::process::Stdio::piped(),
    );
    nc.write(b"from nc\n");
    nc.close_stdin();
    let (code, out, err) = server.finish();
    assert_eq!(code, Some(0), "stderr: {err}");
    assert_eq!(out, b"from nc\n");
    assert_eq!(nc.stdout.wait_eof(), b"from sockkit\n");
}

// ---------------------------------------------------------------------------------------------
// The socket file

#[test]
fn unix_stale_socket_is_replaced() {
    let d = dir();
    let path = d.path().join("stale");
    // A socket file nobody holds: bound, then the process ended without removing it.
    let mut py = Proc::python(
        "import socket, sys\n\
         s = socket.socket(socket.AF_UNIX)\n\
         s.bind(sys.argv[1])\n\
         s.close()",
        &[text(&path)],
    );
    assert_eq!(py.wait().code(), Some(0));
    wait_socket(&path);
    for cmd in ["listen", "udp-listen"] {
        let mut server = Proc::sockkit(&[cmd, "-U", text(&path)]);
        server.stderr.wait_contains("listening on");
        let kind = if cmd == "listen" { "STREAM" } else { "DGRAM" };
        let mut client = Proc::python(
            &format!(
                "import socket, sys\n\
                 s = socket.socket(socket.AF_UNIX, socket.SOCK_{kind})\n\
                 s.connect(sys.argv[1])\n\
                 s.send(b'through the new socket\\n')"
            ),
            &[text(&path)],
        );
        assert_eq!(client.wait().code(), Some(0), "{cmd}");
        server.stdout.wait_contains("through the new socket\n");
        server.signal(15);
        assert_eq!(server.wait().code(), Some(143), "{cmd}");
        assert!(!path.exists(), "{cmd} left its socket file behind");
        // Leave a stale file again for the next command.
        let mut py = Proc::python(
            "import socket, sys\n\
             s = socket.socket(socket.AF_UNIX)\n\
             s.bind(sys.argv[1])",
            &[text(&path)],
        );
        assert_eq!(py.wait().code(), Some(0));
    }
}

#[test]
fn unix_socket_in_use_is_refused_and_its_server_undisturbed() {
    let d = dir();
    let path = d.path().join("busy");
    let mut first = listen(&path, &[]);
    for cmd in ["listen", "udp-listen"] {
        let (code, out, err) = run_sockkit(&[cmd, "-U", text(&path)], b"");
        assert_eq!(code, Some(1), "{cmd}: {err}");
        assert!(out.is_empty());
        assert_eq!(
            err,
            format!(
                "sockkit: error: cannot bind {}: in use (another program listens there)\n",
                path.display()
            ),
            "{cmd}"
        );
    }
    // The refused commands did not connect to the first server (it takes one client): it still
    // has its socket and serves the client that comes now.
    assert!(path.exists());
    let (code, _, err) = run_sockkit(&["connect", "-U", text(&path)], b"still here\n");
    assert_eq!(code, Some(0), "{err}");
    first.close_stdin();
    let (code, out, err) = first.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"still here\n");
}

#[test]
fn unix_a_file_that_is_not_a_socket_is_left_alone() {
    let d = dir();
    let path = d.path().join("notes.txt");
    std::fs::write(&path, b"precious").unwrap();
    for cmd in ["listen", "udp-listen"] {
        let (code, _, err) = run_sockkit(&[cmd, "-U", text(&path)], b"");
        assert_eq!(code, Some(1), "{cmd}: {err}");
        assert_eq!(
            err,
            format!(
                "sockkit: error: cannot bind {}: it exists and is not a socket (left as it is; remove it or pick another path)\n",
                path.display()
            )
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    }
}

#[test]
fn unix_socket_file_removed_after_sigterm_and_sigint() {
    for (sig, status) in [(15, 143), (2, 130)] {
        for args in [
            &["listen"][..],
            &["listen", "-k"],
            &["listen", "--echo", "-k"],
            &["udp-listen"],
        ] {
            let d = dir();
            let path = d.path().join("s");
            let mut all = args.to_vec();
            all.extend_from_slice(&["-U", text(&path)]);
            let mut p = Proc::sockkit(&all);
            p.stderr.wait_contains("listening on");
            assert!(path.exists());
            p.signal(sig);
            assert_eq!(p.wait().code(), Some(status), "{args:?} signal {sig}");
            wait_gone(&path);
        }
    }
}

#[test]
fn unix_unix_mode_sets_the_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir();
    let path = d.path().join("m");
    let mut p = Proc::sockkit(&["listen", "-U", text(&path), "--unix-mode", "600"]);
    p.stderr.wait_contains("listening on");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
    p.signal(15);
    p.wait();
    let (code, _, err) = run_sockkit(&["listen", "--unix-mode", "9", "-U", "/tmp/x"], b"");
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = run_sockkit(&["listen", "--unix-mode", "600", "0"], b"");
    assert_eq!(code, Some(2), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The abstract namespace (Linux)

#[test]
fn unix_abstract_names_stream_and_datagram() {
    let name = format!("@sockkit-test-{}", std::process::id());
    let mut server = Proc::sockkit(&["listen", "-U", &name]);
    server.stderr.wait_contains(&format!("listening on {name}"));
    let table = std::fs::read_to_string("/proc/net/unix").unwrap();
    assert!(table.contains(&name), "{name} not in /proc/net/unix");
    let (code, _, err) = run_sockkit(&["connect", "-U", &name], b"abstract\n");
    assert_eq!(code, Some(0), "{err}");
    server.close_stdin();
    let (code, out, err) = server.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"abstract\n");
    // Datagrams: an echo pair, udp-send's reply socket abstract too.
    let dname = format!("{name}-dgram");
    let mut echo = Proc::sockkit_null(&["udp-listen", "--echo", "--count", "1", "-U", &dname]);
    echo.stderr.wait_contains("listening on");
    let (code, out, err) = run_sockkit(&["udp-send", "-U", &dname, "ping"], b"");
    assert_eq!((code, out), (Some(0), b"ping".to_vec()), "{err}");
    assert_eq!(echo.wait().code(), Some(0));
    // Nobody there: one line naming it.
    let (code, _, err) = run_sockkit(&["connect", "-U", &name], b"");
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!(
            "sockkit: error: could not connect to {name}: connection refused (nobody listens on that abstract name)\n"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// -v

#[test]
fn unix_verbose_shows_the_peers_credentials() {
    let d = dir();
    let path = d.path().join("v");
    let mut server = listen(&path, &["-v"]);
    let mut client = Proc::sockkit(&["connect", "-v", "-U", text(&path)]);
    let client_pid = client.child.id();
    let server_pid = server.child.id();
    let (uid, gid) = {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(d.path()).unwrap();
        (m.uid(), m.gid())
    };
    server.stderr.wait_contains(&format!(
        "sockkit: connection from a local process (pid {client_pid}, uid {uid}, gid {gid})"
    ));
    client.close_stdin();
    server.close_stdin();
    let (code, _, err) = client.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "sockkit: connected to {} (pid {server_pid}, uid {uid}, gid {gid})",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(server.finish().0, Some(0));
}

// ---------------------------------------------------------------------------------------------
// Datagrams

#[test]
fn unix_udp_send_gets_the_reply_of_a_python_datagram_server() {
    let d = dir();
    let path = d.path().join("dg");
    let server = Proc::python(
        "import socket, sys\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         s.bind(sys.argv[1])\n\
         print('READY', flush=True)\n\
         data, sender = s.recvfrom(65536)\n\
         s.sendto(b'echo: ' + data, sender)\n\
         print('SENDER', sender, flush=True)",
        &[text(&path)],
    );
    server.stdout.wait_contains("READY\n");
    let (code, out, err) = run_sockkit(&["udp-send", "-U", text(&path), "hi"], b"");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"echo: hi");
    // The reply socket was abstract (Linux), so no file was left anywhere.
    server.stdout.wait_contains("SENDER b'\\x00sockkit-");
}

#[test]
fn unix_udp_listen_shows_the_sender_and_answers_the_latest() {
    let d = dir();
    let path = d.path().join("l");
    let mut server = Proc::sockkit(&["udp-listen", "--show-sender", "-U", text(&path)]);
    server.stderr.wait_contains("listening on");
    let me = d.path().join("client");
    let client = Proc::python(
        "import socket, sys\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         s.bind(sys.argv[2])\n\
         s.sendto(b'hello', sys.argv[1])\n\
         print('ANSWER', s.recv(100).decode(), end='', flush=True)",
        &[text(&path), text(&me)],
    );
    server
        .stdout
        .wait_contains(&format!("{} 5\nhello\n", me.display()));
    server.write(b"yes\n");
    client.stdout.wait_contains("ANSWER yes\n");
    server.signal(15);
    assert_eq!(server.wait().code(), Some(143));
    wait_gone(&path);
}

#[test]
fn unix_udp_listen_with_nc_datagrams() {
    require("nc");
    let d = dir();
    let path = d.path().join("n");
    let mut server = Proc::sockkit_null(&["udp-listen", "--count", "1", "-U", text(&path)]);
    server.stderr.wait_contains("listening on");
    // nc -Uu binds a reply socket of its own in /tmp; -N is not needed: one line, then nc is killed.
    let mut nc = Proc::start("nc", &["-Uu", text(&path)], std::process::Stdio::piped());
    nc.write(b"from nc\n");
    let (code, out, err) = server.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"from nc\n");
    drop(nc);
}

// ---------------------------------------------------------------------------------------------
// Errors: one line each, naming the path

#[test]
fn unix_missing_path_is_one_line() {
    let d = dir();
    let path = d.path().join("nobody");
    let (code, out, err) = run_sockkit(&["connect", "-U", text(&path)], b"");
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert_eq!(
        err,
        format!(
            "sockkit: error: could not connect to {}: not found (no such socket file: is the server running?)\n",
            path.display()
        )
    );
    let (code, _, err) = run_sockkit(&["udp-send", "-U", text(&path), "x"], b"");
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!(
            "sockkit: error: cannot send to {}: not found (no such socket file: is the server running?)\n",
            path.display()
        )
    );
}

#[test]
fn unix_missing_directory_is_one_line() {
    let d = dir();
    let path = d.path().join("no-such-dir").join("s");
    for cmd in ["listen", "udp-listen"] {
        let (code, _, err) = run_sockkit(&[cmd, "-U", text(&path)], b"");
        assert_eq!(code, Some(1), "{cmd}: {err}");
        assert_eq!(
            err,
            format!(
                "sockkit: error: cannot bind {}: not found (its directory does not exist)\n",
                path.display()
            )
        );
    }
}

#[test]
fn unix_stale_socket_on_connect_is_one_line() {
    let d = dir();
    let path = d.path().join("stale");
    let mut py = Proc::python(
        "import socket, sys\n\
         s = socket.socket(socket.AF_UNIX)\n\
         s.bind(sys.argv[1])",
        &[text(&path)],
    );
    assert_eq!(py.wait().code(), Some(0));
    let (code, _, err) = run_sockkit(&["connect", "-U", text(&path)], b"");
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!(
            "sockkit: error: could not connect to {}: connection refused (a stale socket: nobody listens on it)\n",
            path.display()
        )
    );
}

#[test]
fn unix_connect_to_a_file_that_is_not_a_socket_is_one_line() {
    let d = dir();
    let path = d.path().join("plain");
    std::fs::write(&path, b"x").unwrap();
    let (code, _, err) = run_sockkit(&["connect", "-U", text(&path)], b"");
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!(
            "sockkit: error: could not connect to {}: connection refused (it is not a socket)\n",
            path.display()
        )
    );
}

#[test]
fn unix_path_too_long_is_a_usage_error() {
    let long = format!("/tmp/{}", "x".repeat(110));
    for args in [
        &["connect", "-U", long.as_str()][..],
        &["listen", "-U", &long],
        &["udp-listen", "-U", &long],
        &["udp-send", "-U", &long, "m"],
    ] {
        let (code, _, err) = run_sockkit(args, b"");
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert_eq!(
            err,
            format!(
                "sockkit: error: -U {long}: the socket path is 115 bytes long; at most 107 fit in a Unix socket address on this system (use a shorter or relative path)\n"
            ),
            "{args:?}"
        );
    }
}

#[test]
fn unix_permission_denied_is_one_line() {
    // Nobody may create files in /sys, root included.
    let path = PathBuf::from("/sys/sockkit-test.sock");
    let (code, _, err) = run_sockkit(&["listen", "-U", text(&path)], b"");
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        format!(
            "sockkit: error: cannot bind {}: permission denied\n",
            path.display()
        )
    );
}

#[test]
fn unix_flags_that_do_not_apply_are_refused() {
    for args in [
        &["connect", "-U", "/tmp/x", "localhost", "80"][..],
        &["connect", "-U", "/tmp/x", "-z"],
        &["listen", "-U", "/tmp/x", "12345"],
        &["listen", "-U", "/tmp/x", "--allow", "10.0.0.0/8"],
        &["udp-listen", "-U", "/tmp/x", "12345"],
        &["udp-send", "-U", "/tmp/x", "localhost", "80"],
        &["connect", "-U", ""],
        &[
            "lab-client",
            "-U",
            "/tmp/x",
            "--port",
            "80",
            "--name",
            "a",
            "--github",
            "b",
            "--sid",
            "1",
        ],
        &["lab-server", "-U", "/tmp/x", "--host", "0.0.0.0"],
        &["lab-server", "-U", "/tmp/x", "--deny", "10.0.0.0/8"],
        &["lab-server", "--unix-mode", "600"],
    ] {
        let (code, out, err) = run_sockkit(args, b"");
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Many clients

#[test]
fn unix_echo_and_chat_serve_many_clients() {
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    let d = dir();
    let path = d.path().join("many");
    let connect = || {
        let s = UnixStream::connect(&path).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s
    };
    let read = |s: &mut UnixStream, len: usize| {
        let mut buf = vec![0u8; len];
        s.read_exact(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    };
    let mut echo = Proc::sockkit_null(&["listen", "-k", "--echo", "-U", text(&path)]);
    echo.stderr.wait_contains("listening on");
    let (mut one, mut two) = (connect(), connect());
    two.write_all(b"second\n").unwrap();
    one.write_all(b"first\n").unwrap();
    assert_eq!(read(&mut one, 6), "first\n");
    assert_eq!(read(&mut two, 7), "second\n");
    drop((one, two));
    echo.signal(15);
    assert_eq!(echo.wait().code(), Some(143));
    wait_gone(&path);

    let chat = Proc::sockkit_null(&["listen", "--chat", "-v", "-U", text(&path)]);
    chat.stderr.wait_contains("listening on");
    let mut one = connect();
    chat.stderr.wait_contains("(client1)");
    let mut two = connect();
    chat.stderr.wait_contains("(client2)");
    one.write_all(b"hello two\n").unwrap();
    assert_eq!(read(&mut two, 19), "<client1> hello two");
}

// ---------------------------------------------------------------------------------------------
// The lab handshake over a Unix socket

/// A student client as the course's, over `AF_UNIX`: the sid as a str (the original server only
/// formats it), exact welcome and acknowledgement bytes checked.
const PY_UNIX_STUDENT: &str = r#"
import pickle, socket, sys
path, want_id, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
data = s.recv(4096)
assert data == pickle.dumps({'clientid': want_id}, protocol=4), data
s.send(pickle.dumps({'student_name': name, 'github_username': 'gh', 'sid': '920652002', 'extra': 1}))
ack = s.recv(4096)
assert ack == b'\x80\x04K\x01.', ack
print(f"{pickle.loads(data)} has successfully connected to {path}")
print("Data acknowledged by server and you passed the test")
"#;

/// A lab server as an instructor would write it over `AF_UNIX` (there is no port: it numbers its
/// clients), answering one client.
const PY_UNIX_LAB_SERVER: &str = r#"
import pickle, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen()
print('READY', flush=True)
conn, _ = s.accept()
conn.send(pickle.dumps({'clientid': 7}))
student = pickle.loads(conn.recv(1024))
print(f"Connected: Student: {student['student_name']}, Github Username: {student['github_username']}, sid: {student['sid']}", flush=True)
conn.send(pickle.dumps(1))
conn.recv(1024)
"#;

fn unix_lab_client(path: &Path) -> (Option<i32>, String, String) {
    let mut p = Proc::sockkit_null(&[
        "lab-client",
        "-U",
        text(path),
        "--name",
        "Alice Brown",
        "--github",
        "abrown",
        "--sid",
        "123456789",
    ]);
    let (code, out, err) = p.finish();
    (code, String::from_utf8(out).unwrap(), err)
}

#[test]
fn unix_lab_server_serves_python_and_sockkit_students_and_survives_garbage() {
    let d = dir();
    let path = d.path().join("lab");
    let roster = d.path().join("roster.csv");
    let mut server =
        Proc::sockkit_null(&["lab-server", "-U", text(&path), "--roster", text(&roster)]);
    server
        .stdout
        .wait_contains(&format!("Listening at {}\n", path.display()));

    // Client 1: the course's Python student; clients are numbered, as there is no port.
    let mut student = Proc::python(PY_UNIX_STUDENT, &[text(&path), "1", "Py Student"]);
    let (code, out, err) = student.finish();
    assert_eq!(code, Some(0), "{err}");
    assert!(String::from_utf8_lossy(&out).ends_with("you passed the test\n"));
    server
        .stdout
        .wait_contains("Connected: Student: Py Student, Github Username: gh, sid: 920652002\n");

    // Client 2: sockkit's own lab client.
    let (code, out, err) = unix_lab_client(&path);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        format!(
            "{{'clientid': 2}} has successfully connected to {}\nData acknowledged by server and you passed the test\n",
            path.display()
        )
    );

    // Client 3 sends garbage: logged by its number and process, closed; the server goes on.
    {
        use std::io::Read;
        let mut bad = std::os::unix::net::UnixStream::connect(&path).unwrap();
        bad.set_read_timeout(Some(TIMEOUT)).unwrap();
        // pickle.dumps({'clientid': 3}, 4)
        let want = b"\x80\x04\x95\x11\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x08clientid\x94K\x03s.";
        let mut welcome = [0u8; 28];
        bad.read_exact(&mut welcome).unwrap();
        assert_eq!(&welcome, want);
        bad.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let line = server.stderr.wait_contains("not a valid pickle");
        assert!(
            line.starts_with("sockkit: client 3, a local process (pid "),
            "{line}"
        );
    }
    let mut student = Proc::python(PY_UNIX_STUDENT, &[text(&path), "4", "Late Student"]);
    assert_eq!(student.finish().0, Some(0));
    server
        .stdout
        .wait_contains("Connected: Student: Late Student");

    // SIGTERM: the summary, the socket file gone, the roster naming each client by its number.
    server.signal(15);
    let (code, _, err) = server.finish();
    assert_eq!(code, Some(143), "{err}");
    assert!(
        err.contains("lab-server stopped: 3 students acknowledged, 1 client rejected\n"),
        "{err}"
    );
    wait_gone(&path);
    let rows = std::fs::read_to_string(&roster).unwrap();
    let ids: Vec<&str> = rows
        .lines()
        .skip(1)
        .map(|r| r.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(ids, ["1", "2", "4"], "{rows}");
}

#[test]
fn unix_lab_client_passes_against_a_python_unix_lab_server() {
    let d = dir();
    let path = d.path().join("pylab");
    let mut server = Proc::python(PY_UNIX_LAB_SERVER, &[text(&path)]);
    server.stdout.wait_contains("READY\n");
    let (code, out, err) = unix_lab_client(&path);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        format!(
            "{{'clientid': 7}} has successfully connected to {}\nData acknowledged by server and you passed the test\n",
            path.display()
        )
    );
    server.stdout.wait_contains(
        "Connected: Student: Alice Brown, Github Username: abrown, sid: 123456789\n",
    );
    assert_eq!(server.finish().0, Some(0));
}

/// As over UDP: datagrams queued before Ctrl-C are shown and counted, then the socket file goes.
#[test]
fn unix_datagrams_queued_before_ctrl_c_are_still_shown() {
    let d = dir();
    let path = d.path().join("q");
    for _ in 0..3 {
        let mut listener = Proc::sockkit(&["udp-listen", "-v", "-U", text(&path)]);
        listener.stderr.wait_contains("listening on");
        let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
        listener.signal(libc::SIGSTOP);
        for i in 0..5 {
            s.send_to(format!("d{i}\n").as_bytes(), &path).unwrap();
        }
        listener.signal(libc::SIGINT);
        listener.signal(libc::SIGCONT);
        let (code, out, err) = listener.finish();
        assert_eq!(code, Some(130), "{err}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "d0\nd1\nd2\nd3\nd4\n",
            "{err}"
        );
        assert!(err.contains("sockkit: received 5 datagrams"), "{err}");
        wait_gone(&path);
    }
}
