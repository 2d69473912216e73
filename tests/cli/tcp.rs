//! TCP: `listen` and `connect`, their end-of-stream rules, many clients, and real peers (python3, nc).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::*;

/// A Python server that prints `PORT n`, accepts one client and runs `BODY` with `c` the connection.
fn py_server(body: &str) -> Proc {
    let script = format!(
        "import socket, sys, time\n\
         s = socket.socket()\n\
         s.bind(('127.0.0.1', 0))\n\
         s.listen(8)\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, addr = s.accept()\n\
         {}\n",
        body
    );
    Proc::python(&script, &[])
}

fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut out = Vec::new();
    stream
        .read_to_end(&mut out)
        .expect("read until the peer closes");
    out
}

fn connect_to(port: u16) -> TcpStream {
    let s = TcpStream::connect(local(port)).expect("connect to sockkit");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s
}

fn read_exact(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    stream.read_exact(&mut buf).expect("read from sockkit");
    buf
}

// ---------------------------------------------------------------------------------------------
// End-of-stream rules
//
// Raw bytes from a stdin pipe to a stdout pipe go through the poll(2) relay; with `-C` stdin is read by
// the input thread and the async relay moves the data. The end-of-stream tests run both (their data
// has no newline, so `-C` changes no byte).

/// The two relays: `[]` for the poll(2) loop, `["-C"]` for the async relay.
const RELAYS: [&[&str]; 2] = [&[], &["-C"]];

/// `connect` with `extra` flags before `args`.
fn connect_args<'a>(extra: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["connect"];
    all.extend_from_slice(extra);
    all.extend_from_slice(args);
    all
}

#[test]
fn reply_after_our_eof_is_printed() {
    for extra in RELAYS {
        reply_after_our_eof_is_printed_with(extra);
    }
}

fn reply_after_our_eof_is_printed_with(extra: &[&str]) {
    // The server reads until our EOF, waits, then answers: the answer must not be lost.
    let mut server = py_server(
        "data = b''\n\
         while True:\n    b = c.recv(65536)\n    if not b: break\n    data += b\n\
         time.sleep(0.3)\n\
         c.sendall(b'late reply to ' + data)\n\
         c.close()",
    );
    let port = server.stdout_port().to_string();
    let (code, out, err) = run_sockkit(&connect_args(extra, &["127.0.0.1", &port]), b"hello");
    assert_eq!(code, Some(0), "{extra:?} stderr: {err}");
    assert_eq!(out, b"late reply to hello", "{extra:?}");
    assert_eq!(err, "");
    server.wait();
}

#[test]
fn peer_close_ends_connect_even_with_stdin_open() {
    for extra in RELAYS {
        let _server = py_server("c.sendall(b'bye\\n')\nc.close()\ntime.sleep(30)");
        let port = _server.stdout_port().to_string();
        let mut client = Proc::sockkit(&connect_args(extra, &["127.0.0.1", &port]));
        // stdin stays open (a terminal would): sockkit must still exit when the server closes.
        let status = client.wait();
        let err = client.stderr.text();
        assert_eq!(status.code(), Some(0), "{extra:?} stderr: {err}");
        assert_eq!(client.stdout.wait_eof(), b"bye\n", "{extra:?}");
    }
}

/// A server that closes without reading resets the connection while stdin keeps coming: sockkit must
/// end with status 1 and say so, never keep waiting. Whether the send or the receive sees the reset
/// first is a race inside the relay (the words differ), so each relay is tried five times.
#[test]
fn server_that_resets_while_stdin_keeps_coming_ends_connect() {
    for extra in RELAYS.iter().flat_map(|r| [r; 5]) {
        let _server = py_server("time.sleep(0.2)\nc.close()\ntime.sleep(30)");
        let port = _server.stdout_port().to_string();
        let mut client = Proc::sockkit(&connect_args(extra, &["-v", "127.0.0.1", &port]));
        let mut stdin = client.stdin.take().unwrap();
        let feeder = thread::spawn(move || {
            let chunk = vec![b'y'; 64 << 10];
            while stdin.write_all(&chunk).is_ok() {}
        });
        let Some(status) = client.wait_timeout(TIMEOUT) else {
            panic!("{extra:?}: still running; stderr: {}", client.stderr.text());
        };
        let err = String::from_utf8_lossy(&client.stderr.wait_eof()).into_owned();
        feeder.join().unwrap();
        assert_eq!(status.code(), Some(1), "{extra:?}: {err}");
        assert!(
            err.contains("error: could not send: connection reset by peer")
                || err.contains("error: connection lost: connection reset by peer"),
            "{extra:?}: {err}"
        );
    }
}

#[test]
fn no_shutdown_keeps_write_side_open() {
    for extra in RELAYS {
        no_shutdown_keeps_write_side_open_with(extra);
    }
}

fn no_shutdown_keeps_write_side_open_with(extra: &[&str]) {
    // The server tells us whether it saw EOF within half a second of our data.
    let script = "data = c.recv(100)\n\
         c.settimeout(0.5)\n\
         try:\n    more = c.recv(100)\n    c.sendall(b'saw eof' if more == b'' else b'more data')\n\
         except socket.timeout:\n    c.sendall(b'still open')\n\
         c.close()";
    let mut server = py_server(script);
    let port = server.stdout_port().to_string();
    let args = connect_args(extra, &["--no-shutdown", "127.0.0.1", &port]);
    let (code, out, err) = run_sockkit(&args, b"hi");
    assert_eq!(code, Some(0), "{extra:?} stderr: {err}");
    assert_eq!(String::from_utf8_lossy(&out), "still open", "{extra:?}");
    server.wait();

    let mut server = py_server(script);
    let port = server.stdout_port().to_string();
    let (code, out, _) = run_sockkit(&connect_args(extra, &["127.0.0.1", &port]), b"hi");
    assert_eq!(code, Some(0));
    assert_eq!(String::from_utf8_lossy(&out), "saw eof", "{extra:?}");
    server.wait();
}

#[test]
fn quit_after_eof_stops_waiting_for_a_silent_server() {
    for extra in RELAYS {
        // This server never answers and never closes.
        let _server = py_server("time.sleep(60)");
        let port = _server.stdout_port().to_string();
        let started = Instant::now();
        let args = connect_args(extra, &["-q", "300ms", "127.0.0.1", &port]);
        let (code, out, err) = run_sockkit(&args, b"x");
        assert_eq!(code, Some(0), "{extra:?} stderr: {err}");
        assert!(out.is_empty());
        assert!(started.elapsed() >= Duration::from_millis(300), "{extra:?}");
        assert!(started.elapsed() < TIMEOUT);
    }
}

#[test]
fn idle_timeout_closes_a_silent_connection() {
    for extra in RELAYS {
        let _server = py_server("time.sleep(60)");
        let port = _server.stdout_port().to_string();
        let started = Instant::now();
        let mut client = Proc::sockkit(&connect_args(extra, &["-i", "300ms", "127.0.0.1", &port]));
        let (code, _, err) = client.finish();
        assert_eq!(code, Some(1), "{extra:?}");
        assert!(
            err.contains("no data for 300ms (idle timeout)"),
            "{extra:?} stderr: {err}"
        );
        assert!(started.elapsed() >= Duration::from_millis(300), "{extra:?}");
    }
}

#[test]
fn send_only_and_recv_only() {
    // --send-only: quits when stdin ends, even though the server keeps the connection open.
    let server = py_server(
        "data = b''\n\
         while True:\n    b = c.recv(100)\n    if not b: break\n    data += b\n\
         print('GOT', data.decode(), flush=True)\n\
         time.sleep(30)",
    );
    let port = server.stdout_port().to_string();
    let (code, out, err) = run_sockkit(&["connect", "--send-only", "127.0.0.1", &port], b"abc");
    assert_eq!(code, Some(0), "stderr: {err}");
    assert!(out.is_empty());
    server.stdout.wait_contains("GOT abc");

    // --recv-only: stdin is never read, so the server sees no EOF from us and can still send.
    let mut server = py_server(
        "c.settimeout(0.5)\n\
         try:\n    r = c.recv(10)\n    c.sendall(b'got eof' if r == b'' else b'got data')\n\
         except socket.timeout:\n    c.sendall(b'quiet')\n\
         c.close()",
    );
    let port = server.stdout_port().to_string();
    let (code, out, _) = run_sockkit(&["connect", "--recv-only", "127.0.0.1", &port], b"ignored");
    assert_eq!(code, Some(0));
    assert_eq!(out, b"quiet");
    server.wait();
}

#[test]
fn crlf_turns_lf_into_cr_lf() {
    let mut server = py_server(
        "data = b''\n\
         while True:\n    b = c.recv(100)\n    if not b: break\n    data += b\n\
         c.sendall(repr(data).encode())\nc.close()",
    );
    let port = server.stdout_port().to_string();
    let (code, out, _) = run_sockkit(&["connect", "-C", "127.0.0.1", &port], b"GET /\n\n");
    assert_eq!(code, Some(0));
    assert_eq!(String::from_utf8_lossy(&out), r"b'GET /\r\n\r\n'");
    server.wait();
}

#[test]
fn crlf_is_right_when_cr_and_lf_come_in_different_reads() {
    // The server says how much it has after each recv, so the test knows the CR went out alone
    // before it writes the LF.
    let server = py_server(
        "data = b''\n\
         while True:\n    b = c.recv(100)\n    if not b: break\n    data += b\n    print('HAVE', len(data), flush=True)\n\
         print('DATA', repr(data), flush=True)\nc.close()",
    );
    let port = server.stdout_port().to_string();
    let mut client = Proc::sockkit(&["connect", "-C", "127.0.0.1", &port]);
    client.write(b"abc\r");
    server.stdout.wait_contains("HAVE 4\n");
    client.write(b"\nd\n");
    client.close_stdin();
    // The whole DATA line: waiting for its start alone could see half of it.
    let text = server.stdout.wait_eof();
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("DATA b'abc\\r\\nd\\r\\n'\n"), "{text}");
    assert_eq!(client.wait().code(), Some(0));
}

// ---------------------------------------------------------------------------------------------
// Bulk data

/// Sends `up` from connect to listen and `down` from listen to connect at the same time.
fn both_ways(up_len: usize, down_len: usize) {
    let up = random_bytes(up_len, 1);
    let down = random_bytes(down_len, 2);
    let mut server = Proc::sockkit(&["listen", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    let mut client = Proc::sockkit(&["connect", "127.0.0.1", &port]);
    let ((c1, got_up, e1), (c2, got_down, e2)) = exchange(&mut server, &mut client, &up, &down);
    assert_eq!((c1, c2), (Some(0), Some(0)), "listen: {e1} connect: {e2}");
    assert_eq!(got_up.len(), up.len());
    assert_eq!(got_down.len(), down.len());
    assert_eq!(hash(&got_up), hash(&up), "client to server bytes differ");
    assert_eq!(
        hash(&got_down),
        hash(&down),
        "server to client bytes differ"
    );
}

#[test]
fn random_bytes_both_ways_at_once() {
    both_ways(256 << 20, 256 << 20);
}

#[test]
fn empty_input_both_ways() {
    both_ways(0, 0);
}

/// Bulk stdin is left to gather in the pipe for a moment before it is sent, in pieces of at most
/// 64 KiB: each piece written must still arrive while stdin stays open (sizes in the gathering range,
/// and bigger than one piece); then writes that come while a piece gathers, and end of input right
/// after them, must all arrive whole and in order. Through the poll(2) relay, and through the async
/// one (a hex dump on stdout sends the socket's side through the renderer).
#[test]
fn bulk_pieces_arrive_while_stdin_stays_open() {
    for extra in [&[][..], &["--mode", "hex"][..]] {
        bulk_pieces_arrive_with(extra);
    }
}

fn bulk_pieces_arrive_with(extra: &[&str]) {
    const SIZES: [usize; 5] = [20_000, 100_000, 40_000, 20_000, 70_000];
    const BURST: usize = 100 * 20_000;
    let data = random_bytes(SIZES.iter().sum::<usize>() + BURST, 3);
    let mut server = Proc::sockkit(&["listen", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    let mut client = Proc::sockkit(&connect_args(extra, &["127.0.0.1", &port]));
    let mut end = 0;
    for (i, size) in SIZES[..5].iter().enumerate() {
        client.write(&data[end..end + size]);
        end += size;
        let got = server.stdout.wait_len(end);
        assert!(got == data[..end], "{extra:?}: piece {i} arrived wrong");
    }
    // Writes 25 µs apart: a few land while the piece before them gathers (50 µs).
    for burst in data[end..].chunks(20_000) {
        client.write(burst);
        let t = Instant::now();
        while t.elapsed() < Duration::from_micros(25) {
            std::hint::spin_loop();
        }
    }
    client.close_stdin();
    let (code, got, err) = server.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(got.len(), data.len(), "{extra:?}");
    assert!(got == data, "{extra:?}: bytes differ");
    assert_eq!(client.wait().code(), Some(0));
}

/// A stdout pipe that nobody reads for a while must still get every byte, in order: small messages
/// (passed on through a buffer, and held in a pipe of sockkit's own when stdout is full) and bulk
/// (spliced), one after the other. With stdin from /dev/null (the async relay) and from a pipe that
/// stays open (the poll(2) relay, which then ends a second after the server closes).
#[test]
fn stalled_stdout_pipe_gets_every_byte_in_order() {
    stalled_stdout_with(std::process::Stdio::null());
    stalled_stdout_with(std::process::Stdio::piped());
}

fn stalled_stdout_with(stdin: std::process::Stdio) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let mut child = std::process::Command::new(sockkit_path())
        .args(["connect", "127.0.0.1", &port])
        .stdin(stdin)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The wait below for stdout's end has no timeout of its own: a watchdog kills a hung child.
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let pid = child.id().to_string();
    let watchdog = thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid])
                .status();
        }
    });
    let (mut conn, _) = listener.accept().unwrap();
    let small = random_bytes(400_000, 11);
    let bulk = random_bytes(3 << 20, 12);
    let (told, stalled) = std::sync::mpsc::channel();
    let sender = {
        let (small, bulk) = (small.clone(), bulk.clone());
        thread::spawn(move || {
            for piece in small.chunks(1000) {
                conn.write_all(piece).unwrap();
            }
            let _ = told.send(());
            conn.write_all(&bulk).unwrap();
            for piece in small.chunks(700) {
                conn.write_all(piece).unwrap();
            }
        })
    };
    // Nobody reads stdout until the small messages are all sent (or, should the buffers between
    // us be too small to hold them, for a bounded while).
    let _ = stalled.recv_timeout(Duration::from_secs(10));
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let _ = done.send(());
    watchdog.join().unwrap();
    sender.join().unwrap();
    let mut want = small.clone();
    want.extend_from_slice(&bulk);
    want.extend_from_slice(&small);
    assert_eq!(out.len(), want.len());
    assert!(out == want, "bytes differ");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

// ---------------------------------------------------------------------------------------------
// listen: many clients, echo, broker, chat, limits

#[test]
fn keep_open_serves_two_clients_at_the_same_time() {
    let mut server = Proc::sockkit(&["listen", "-k", "0"]);
    let port = server.listening_port();
    let mut a = connect_to(port);
    let mut b = connect_to(port);
    a.write_all(b"from a\n").unwrap();
    server.stdout.wait_contains("from a\n");
    // b is served while a is still connected (nc -k would make b wait for a to leave).
    b.write_all(b"from b\n").unwrap();
    server.stdout.wait_contains("from b\n");
    // stdin goes to every client.
    server.write(b"to all\n");
    assert_eq!(read_exact(&mut a, 7), b"to all\n");
    assert_eq!(read_exact(&mut b, 7), b"to all\n");
    drop(a);
    // stdin EOF does not stop a -k listener; new clients are still served.
    server.close_stdin();
    let mut c = connect_to(port);
    c.write_all(b"from c\n").unwrap();
    server.stdout.wait_contains("from c\n");
    drop(b);
    drop(c);
    assert!(
        server.wait_timeout(Duration::from_millis(200)).is_none(),
        "listener exited"
    );
}

#[test]
fn keep_open_releases_a_client_that_half_closed_at_once() {
    // `echo $i | sockkit connect` ten times in a row against `listen -k` (its stdin open and quiet):
    // each client half-closes, and is released as soon as nothing is queued for it. Before, each one
    // was held for a one-second grace, ten seconds in all; the bound below is five times the budget of
    // a loaded machine, not a benchmark.
    let server = Proc::sockkit(&["listen", "-k", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    let started = std::time::Instant::now();
    for i in 0..10 {
        let line = format!("client {i}\n");
        let (code, out, err) = run_sockkit(&["connect", "127.0.0.1", &port], line.as_bytes());
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out, b"");
        server.stdout.wait_contains(&line);
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "ten clients took {took:?}");
    // With --echo, what the client sent before it half-closed still comes back before the release.
    let echo = Proc::sockkit_null(&["listen", "-k", "--echo", "127.0.0.1", "0"]);
    let port = echo.listening_port().to_string();
    let (code, out, err) = run_sockkit(&["connect", "127.0.0.1", &port], b"ping\n");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"ping\n");
}

#[test]
fn listen_is_dual_stack() {
    let server = Proc::sockkit(&["listen", "-k", "0"]);
    let port = server.listening_port();
    let mut v4 = TcpStream::connect(("127.0.0.1", port)).unwrap();
    v4.write_all(b"over ipv4\n").unwrap();
    server.stdout.wait_contains("over ipv4\n");
    if let Ok(mut v6) = TcpStream::connect(("::1", port)) {
        v6.write_all(b"over ipv6\n").unwrap();
        server.stdout.wait_contains("over ipv6\n");
    } else {
        // A machine without IPv6 loopback: sockkit must have fallen back to IPv4 and said nothing.
        assert!(
            std::net::TcpListener::bind("[::1]:0").is_err(),
            "::1 exists but was refused"
        );
    }
}

/// The echo server, with raw output (its own loop on a thread) and with a hex dump (the async one).
#[test]
fn echo_serves_the_tutorial_client() {
    echo_serves_the_tutorial_client_with(&[]);
    echo_serves_the_tutorial_client_with(&["--mode", "hex"]);
}

fn echo_serves_the_tutorial_client_with(extra: &[&str]) {
    let mut args = vec!["listen", "--echo", "127.0.0.1", "0"];
    args.extend_from_slice(extra);
    let mut server = Proc::sockkit_null(&args);
    let port = server.listening_port().to_string();
    // The tutorial's echo client (PROTOCOL.md section 2).
    let mut client = Proc::python(
        "import socket, sys\n\
         with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:\n\
         \x20   s.connect(('localhost', int(sys.argv[1])))\n\
         \x20   s.sendall(b'Hello, world')\n\
         \x20   data = s.recv(1024)\n\
         print('Received', repr(data))",
        &[&port],
    );
    let (code, out, err) = client.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "Received b'Hello, world'\n");
    let (code, out, _) = server.finish();
    assert_eq!(code, Some(0));
    if extra.is_empty() {
        assert_eq!(out, b"Hello, world");
    } else {
        let dump = String::from_utf8_lossy(&out);
        assert!(
            dump.contains("48 65 6c 6c") && dump.contains("|Hello, world|"),
            "{dump}"
        );
    }
}

/// A one-client echo server with `-i` closes a client that stays silent, with a clear message.
#[test]
fn echo_idle_timeout_closes_a_silent_client() {
    for extra in [&[][..], &["--mode", "hex"][..]] {
        let mut args = vec!["listen", "--echo", "-i", "300ms", "127.0.0.1", "0"];
        args.extend_from_slice(extra);
        let mut server = Proc::sockkit_null(&args);
        let mut c = connect_to(server.listening_port());
        c.write_all(b"ping").unwrap();
        assert_eq!(read_exact(&mut c, 4), b"ping", "{extra:?}");
        let started = Instant::now();
        // The server closes (after its half-close, the read sees the end).
        assert_eq!(read_all(&mut c), b"", "{extra:?}");
        assert!(started.elapsed() >= Duration::from_millis(250), "{extra:?}");
        let (code, _, err) = server.finish();
        assert_eq!(code, Some(1), "{extra:?}");
        assert!(
            err.contains("no data for 300ms (idle timeout)"),
            "{extra:?} stderr: {err}"
        );
    }
}

/// With stdout on /dev/null, received data is dropped before the stdout thread (nothing would show):
/// the echo, the byte counts and the exit status must be as with any other stdout.
#[test]
fn echo_server_with_stdout_on_dev_null_echoes_and_counts_everything() {
    let sockkit = sockkit_path();
    let script = format!("exec '{}' \"$@\" >/dev/null", sockkit.display());
    for extra in [&["-k"][..], &[][..]] {
        let mut args = vec!["-c", &script, "sh", "listen", "--echo", "-v"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["127.0.0.1", "0"]);
        let mut server = Proc::start("sh", &args, std::process::Stdio::null());
        let port = server.listening_port();
        let data = random_bytes(100_000, 7);
        let mut c = connect_to(port);
        c.write_all(&data).unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        assert!(read_all(&mut c) == data, "echo differs ({extra:?})");
        drop(c);
        if extra.is_empty() {
            let (code, _, err) = server.finish();
            assert_eq!(code, Some(0), "{err}");
            assert!(err.contains("received 100000 bytes (100.0 KB)"), "{err}");
        } else {
            server
                .stderr
                .wait_contains("left: received 100000 bytes (100.0 KB)");
        }
    }
}

#[test]
fn echo_with_keep_open_serves_many_at_once() {
    let server = Proc::sockkit_null(&["listen", "-k", "--echo", "0"]);
    let port = server.listening_port();
    let mut clients: Vec<TcpStream> = (0..5).map(|_| connect_to(port)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.write_all(format!("client {i}\n").as_bytes()).unwrap();
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let want = format!("client {i}\n");
        assert_eq!(read_exact(c, want.len()), want.as_bytes());
    }
}

#[test]
fn broker_relays_to_all_other_clients() {
    let server = Proc::sockkit_null(&["listen", "--broker", "0"]);
    let port = server.listening_port();
    // Clients join one at a time; each says hello once it is in, and hears only later lines.
    let mut a = connect_to(port);
    a.write_all(b"a1\n").unwrap();
    server.stdout.wait_contains("a1\n");
    let mut b = connect_to(port);
    b.write_all(b"b1\n").unwrap();
    server.stdout.wait_contains("b1\n");
    let mut c = connect_to(port);
    c.write_all(b"c1\n").unwrap();
    server.stdout.wait_contains("c1\n");
    assert_eq!(read_exact(&mut a, 6), b"b1\nc1\n");
    assert_eq!(read_exact(&mut b, 3), b"c1\n");
    a.write_all(b"a2\n").unwrap();
    assert_eq!(read_exact(&mut b, 3), b"a2\n");
    assert_eq!(read_exact(&mut c, 3), b"a2\n");
    // a never hears itself.
    a.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 16];
    assert!(
        a.read(&mut buf).is_err(),
        "the sender got its own message back"
    );
}

#[test]
fn chat_prefixes_lines() {
    let server = Proc::sockkit_null(&["listen", "--chat", "0"]);
    let port = server.listening_port();
    let mut a = connect_to(port);
    let mut b = connect_to(port);
    b.write_all(b"x\n").unwrap();
    server.stdout.wait_contains("<client2> x\n");
    assert_eq!(read_exact(&mut a, 12), b"<client2> x\n");
    // Two writes make one line; control characters arrive escaped.
    a.write_all(b"hel").unwrap();
    a.flush().unwrap();
    a.write_all(b"lo\x1b[2J\n").unwrap();
    let want = b"<client1> hello\\x1b[2J\n";
    assert_eq!(read_exact(&mut b, want.len()), want);
    // C1 controls (raw and UTF-8) and bidi overrides are escaped too, as the REPL display does.
    a.write_all(b"c1 \x9b2J \xc2\x9b31m bidi \xe2\x80\xaeevil\n")
        .unwrap();
    let want = b"<client1> c1 \\x9b2J \\x9b31m bidi \\u202eevil\n";
    assert_eq!(
        String::from_utf8_lossy(&read_exact(&mut b, want.len())),
        String::from_utf8_lossy(want)
    );
}

#[test]
fn max_conns_closes_extra_clients() {
    let server = Proc::sockkit_null(&["listen", "-k", "-m", "1", "0"]);
    let port = server.listening_port();
    let mut first = connect_to(port);
    first.write_all(b"first\n").unwrap();
    server.stdout.wait_contains("first\n");
    let mut second = connect_to(port);
    // The extra client is told nothing and closed.
    assert_eq!(read_all(&mut second), b"");
    server.stderr.wait_contains("--max-conns 1");
    // The first one is still served.
    first.write_all(b"still here\n").unwrap();
    server.stdout.wait_contains("still here\n");
}

#[test]
fn verbose_reports_connection_half_close_and_summary() {
    let mut server = Proc::sockkit(&["listen", "-v", "0"]);
    let port = server.stderr.wait_contains("listening on [::]:");
    assert!(port.contains("sockkit: listening on"));
    let port = server.listening_port();
    let mut c = connect_to(port);
    c.write_all(b"12345").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    server.stderr.wait_contains("peer closed its write side");
    server.write(b"abc");
    server.close_stdin();
    assert_eq!(read_all(&mut c), b"abc");
    let (code, out, err) = server.finish();
    assert_eq!(code, Some(0));
    assert_eq!(out, b"12345");
    assert!(err.contains("connection from 127.0.0.1:"), "{err}");
    assert!(err.contains("sent 3 bytes, received 5 bytes"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Real peers

#[test]
fn python_server_that_speaks_first() {
    // PROTOCOL.md section 3: the server sends first, then reads the client's answer.
    let server = py_server(
        "c.sendall(b'Hello client!')\n\
         data = c.recv(2048)\n\
         print('Client:', data.decode(), flush=True)\n\
         c.close()",
    );
    let port = server.stdout_port().to_string();
    let mut client = Proc::sockkit(&["connect", "127.0.0.1", &port]);
    client.stdout.wait_contains("Hello client!");
    client.write(b"Hello Server!");
    let (code, out, err) = client.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"Hello client!");
    server.stdout.wait_contains("Client: Hello Server!\n");
}

#[test]
fn python_client_of_a_listener_that_speaks_first() {
    let mut server = Proc::sockkit(&["listen", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    server.write(b"Hello client!");
    let client = Proc::python(
        "import socket, sys\n\
         s = socket.socket()\n\
         s.connect(('127.0.0.1', int(sys.argv[1])))\n\
         print('Server:', s.recv(2048).decode(), flush=True)\n\
         s.sendall(b'Hello Server!')\n\
         s.close()",
        &[&port],
    );
    client.stdout.wait_contains("Server: Hello client!\n");
    let (code, out, _) = server.finish();
    assert_eq!(code, Some(0));
    assert_eq!(out, b"Hello Server!");
}

#[test]
fn nc_as_server() {
    require("nc");
    let port = free_port();
    let mut nc = Proc::start(
        "nc",
        &["-l", "127.0.0.1", &port.to_string()],
        std::process::Stdio::piped(),
    );
    wait_tcp_listening(port);
    nc.write(b"from nc\n");
    let mut client = Proc::sockkit(&["connect", "127.0.0.1", &port.to_string()]);
    client.stdout.wait_contains("from nc\n");
    client.write(b"from sockkit\n");
    nc.stdout.wait_contains("from sockkit\n");
    // nc closes when its stdin ends (-N is not needed on the listening side for our EOF to matter).
    nc.close_stdin();
    drop(nc);
    let (code, out, _) = client.finish();
    assert_eq!(code, Some(0));
    assert_eq!(out, b"from nc\n");
}

#[test]
fn nc_as_client() {
    require("nc");
    let mut server = Proc::sockkit(&["listen", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    server.write(b"from sockkit\n");
    server.close_stdin();
    // nc -N half-closes on EOF like we do; sockkit's answer after nc's EOF reaches nc.
    let mut nc = Proc::start(
        "nc",
        &["-N", "127.0.0.1", &port],
        std::process::Stdio::piped(),
    );
    nc.write(b"from nc\n");
    nc.close_stdin();
    let (code, out, _) = server.finish();
    assert_eq!(code, Some(0));
    assert_eq!(out, b"from nc\n");
    assert_eq!(nc.stdout.wait_eof(), b"from sockkit\n");
}

// ---------------------------------------------------------------------------------------------
// Errors and exit codes

#[test]
fn refused_connection_is_one_clear_line() {
    let port = free_port().to_string();
    let (code, out, err) = run_sockkit(&["connect", "127.0.0.1", &port], b"");
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert_eq!(
        err,
        format!(
            "sockkit: error: could not connect to 127.0.0.1:{port}: connection refused (is a server listening there?)\n"
        )
    );
}

#[test]
fn connect_timeout_is_reported() {
    // A listener whose backlog is full drops further SYNs: connecting to it times out, all on loopback.
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    listener.bind(&local(0).into()).unwrap();
    listener.listen(0).unwrap();
    let port = listener.local_addr().unwrap().as_socket().unwrap().port();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let _ = s.connect_timeout(&local(port).into(), Duration::from_millis(200));
        fillers.push(s);
    }
    let (code, _, err) = run_sockkit(
        &["connect", "-w", "300ms", "127.0.0.1", &port.to_string()],
        b"",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("timed out after 300ms"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = run_sockkit(&["connect", "127.0.0.1", "99999"], b"");
    assert_eq!(code, Some(2));
    assert!(err.contains("invalid port '99999'"), "{err}");
    let (code, _, err) = run_sockkit(&["listen", "http"], b"");
    assert_eq!(code, Some(2));
    assert!(err.contains("invalid port 'http'"), "{err}");
    let (code, _, err) = run_sockkit(&["connect", "-w", "soon", "127.0.0.1", "80"], b"");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("invalid value 'soon' for --connect-timeout"),
        "{err}"
    );
    // A deadline this far away cannot be represented: a usage error, not a crash.
    for (cmd, flag) in [
        ("connect", "--retry"),
        ("connect", "-i"),
        ("udp-send", "--wait"),
    ] {
        let (code, _, err) =
            run_sockkit(&[cmd, flag, "18000000000000000000s", "127.0.0.1", "9"], b"");
        assert_eq!(code, Some(2), "{cmd} {flag}: {err}");
        assert!(err.contains("longer than 100 years"), "{cmd} {flag}: {err}");
    }
    let (code, _, err) = run_sockkit(&["connect", "-n", "localhost", "80"], b"");
    assert_eq!(code, Some(2));
    assert!(err.contains("-n"), "{err}");
}

#[test]
fn bad_host_is_reported() {
    let (code, _, err) = run_sockkit(&["connect", "no-such-host.invalid", "80"], b"");
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("sockkit: error: could not resolve host 'no-such-host.invalid'"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn address_in_use_is_reported() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, _, err) = run_sockkit(&["listen", "127.0.0.1", &port], b"");
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!(
            "failed to bind 127.0.0.1:{port}: address already in use"
        )),
        "{err}"
    );
}

#[test]
fn zero_io_scan() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port().to_string();
    let closed_port = free_port().to_string();
    let (code, out, err) = run_sockkit(
        &["connect", "-z", "-v", "127.0.0.1", &open_port, &closed_port],
        b"",
    );
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert!(err.contains(&format!("port {open_port} open")), "{err}");
    assert!(err.contains(&format!("port {closed_port} closed")), "{err}");
    let (code, _, err) = run_sockkit(&["connect", "-z", "127.0.0.1", &open_port], b"");
    assert_eq!(code, Some(0));
    assert_eq!(err, "");
}

#[test]
fn reset_mid_stream_keeps_what_arrived() {
    let mut server = py_server(
        "import struct\n\
         c.sendall(b'partial data')\n\
         time.sleep(0.2)\n\
         c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
         c.close()",
    );
    let port = server.stdout_port().to_string();
    let mut client = Proc::sockkit(&["connect", "127.0.0.1", &port]);
    let (code, out, err) = client.finish();
    assert_eq!(out, b"partial data");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("connection reset by peer"), "{err}");
    server.wait();
}

#[test]
fn closed_stdout_is_a_quiet_end() {
    let mut server = Proc::sockkit(&["listen", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    let mut sh = Proc::start(
        "bash",
        &[
            "-c",
            &format!(
                "set -o pipefail; {} connect 127.0.0.1 {port} | head -c 10",
                sockkit_path().display()
            ),
        ],
        std::process::Stdio::null(),
    );
    let big = vec![b'x'; 4 << 20];
    let mut stdin = server.stdin.take().unwrap();
    let w = thread::spawn(move || {
        let _ = stdin.write_all(&big);
    });
    let (code, out, err) = sh.finish();
    assert_eq!(code, Some(0));
    assert_eq!(out, b"xxxxxxxxxx");
    assert_eq!(err, "", "sockkit complained about the closed pipe");
    drop(server);
    let _ = w.join();
}

/// `>> file` (stdout opened for appending, which splice(2) refuses) keeps what the file had and gets
/// everything: with stdin a pipe (the poll(2) relay), with stdin /dev/null (the async relay), and from
/// the echo server.
#[test]
fn stdout_appended_with_shell_redirection_gets_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (file, source) = (dir.path().join("log"), dir.path().join("data"));
    std::fs::write(&file, b"before\n").unwrap();
    let data = random_bytes(300_000, 21);
    std::fs::write(&source, &data).unwrap();
    let mut want = b"before\n".to_vec();
    let sender = format!(
        "c.sendall(open({:?}, 'rb').read())\nc.close()",
        source.display().to_string()
    );
    for (before, after) in [("printf '' | ", ""), ("", " < /dev/null")] {
        let server = py_server(&sender);
        let port = server.stdout_port().to_string();
        let script = format!(
            "{before}'{}' connect 127.0.0.1 {port}{after} >> '{}'",
            sockkit_path().display(),
            file.display()
        );
        let (code, _, err) =
            Proc::start("sh", &["-c", &script], std::process::Stdio::null()).finish();
        assert_eq!(code, Some(0), "{script}: {err}");
        want.extend_from_slice(&data);
    }
    let script = format!(
        "exec '{}' listen --echo 127.0.0.1 0 >> '{}'",
        sockkit_path().display(),
        file.display()
    );
    let mut echo = Proc::start("sh", &["-c", &script], std::process::Stdio::null());
    let mut c = connect_to(echo.listening_port());
    c.write_all(&data).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    assert!(read_all(&mut c) == data, "echo differs");
    let (code, _, err) = echo.finish();
    assert_eq!(code, Some(0), "{err}");
    want.extend_from_slice(&data);
    let got = std::fs::read(&file).unwrap();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the file differs");
}

/// A stdout that cannot be spliced to and fails every write (/dev/full) is reported as itself, by
/// both relays: exit 1, "no space left on device", not the splice's "invalid argument".
#[test]
fn full_device_as_stdout_is_reported_as_such() {
    for extra in ["", " -C"] {
        let server = py_server("c.sendall(b'hello\\n' * 3)\nc.close()");
        let port = server.stdout_port().to_string();
        let script = format!(
            "printf '' | '{}' connect{extra} 127.0.0.1 {port} > /dev/full",
            sockkit_path().display()
        );
        let (code, _, err) =
            Proc::start("sh", &["-c", &script], std::process::Stdio::null()).finish();
        assert_eq!(code, Some(1), "{script}: {err}");
        assert_eq!(
            err.trim_end(),
            "sockkit: error: cannot write to stdout: no space left on device",
            "{script}"
        );
    }
}

#[test]
fn allow_and_deny_lists() {
    let server = Proc::sockkit_null(&["listen", "-k", "--allow", "127.0.0.2/32,::1", "0"]);
    let port = server.listening_port();
    // From 127.0.0.1: refused before anything is read.
    let mut refused = connect_to(port);
    let _ = refused.write_all(b"let me in\n");
    // Closed with our bytes unread: EOF or a reset, never data.
    let mut buf = [0u8; 16];
    match refused.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
    server.stderr.wait_contains("refused 127.0.0.1:");
    // From 127.0.0.2: served.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&std::net::SocketAddr::from(([127, 0, 0, 2], 0)).into())
        .unwrap();
    sock.connect(&local(port).into()).unwrap();
    let mut allowed: TcpStream = sock.into();
    allowed.write_all(b"hello from .2\n").unwrap();
    server.stdout.wait_contains("hello from .2\n");
    assert!(!server.stdout.text().contains("let me in"));

    let (code, _, err) = run_sockkit(&["listen", "--deny", "10.0.0.0/33", "0"], b"");
    assert_eq!(code, Some(2));
    assert!(err.contains("invalid --deny entry '10.0.0.0/33'"), "{err}");
}

#[test]
fn a_reset_right_after_accept_is_not_a_failed_connect() {
    // A server that accepts and resets every connection (SO_LINGER 0). Whether the reset lands before
    // or after sockkit sees its connect complete, the connect succeeded: never "could not connect".
    let server = Proc::python(
        "import socket, struct\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(100)\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         while True:\n\
         \x20   c, _ = s.accept()\n\
         \x20   c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
         \x20   c.close()",
        &[],
    );
    let port = server.stdout_port().to_string();
    for _ in 0..10 {
        let (code, _, err) = run_sockkit(&["connect", "127.0.0.1", &port], b"");
        assert_eq!(code, Some(1), "{err}");
        assert!(!err.contains("could not connect"), "{err}");
        assert!(err.contains("reset"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // A scan counts the port as open: something accepted there.
    let (code, _, err) = run_sockkit(&["connect", "-z", "-v", "127.0.0.1", &port], b"");
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("open"), "{err}");
}

/// `listen -k` in raw display: clients that send their lines in pieces, all at once, never have
/// their lines mixed on stdout (a partial line is held until its end), and every byte arrives once.
#[test]
fn keep_open_raw_lines_of_many_clients_never_mix() {
    let mut server = Proc::sockkit(&["listen", "-k", "0"]);
    server.close_stdin();
    let port = server.listening_port();
    let (clients, lines) = (40, 20);
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            thread::spawn(move || {
                let mut c = connect_to(port);
                c.set_nodelay(true).unwrap();
                for j in 0..lines {
                    let line = format!("client {i:02} line {j:02} {}\n", "x".repeat(40 + i));
                    // Three pieces, a moment apart, so pieces of different clients meet.
                    let (a, rest) = line.as_bytes().split_at(10);
                    let (b, z) = rest.split_at(20);
                    for piece in [a, b, z] {
                        c.write_all(piece).unwrap();
                        thread::sleep(Duration::from_millis(1));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let want: usize = (0..clients).map(|i| lines * (59 + i)).sum();
    let out = server.stdout.wait_len(want);
    assert_eq!(out.len(), want);
    let text = String::from_utf8(out).unwrap();
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        let i: usize = line[7..9]
            .parse()
            .unwrap_or_else(|_| panic!("mixed line {line:?}"));
        let expect_len = 58 + i;
        assert!(
            line.len() == expect_len && line.ends_with(&"x".repeat(40 + i)),
            "a line mixed with another client's: {line:?}"
        );
        assert!(seen.insert(line.to_string()), "twice: {line:?}");
    }
    assert_eq!(seen.len(), clients * lines);
}

/// Two broker clients sending each other 64 MiB at the same time: neither waits for ever on
/// the other's full queue (each keeps taking what is sent to it while it passes its own bytes on).
#[test]
fn broker_clients_send_each_other_megabytes_at_once() {
    let mut server = Proc::sockkit_null(&["listen", "-v", "--broker", "127.0.0.1", "0"]);
    server.close_stdin();
    let port = server.listening_port();
    let a = connect_to(port);
    let b = connect_to(port);
    // Both are in the broker's list.
    server.stderr.wait_contains("(client2)");
    let (a_r, b_r) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let (da, db) = (random_bytes(64 << 20, 5), random_bytes(64 << 20, 6));
    let send = |mut s: TcpStream, d: Vec<u8>| thread::spawn(move || s.write_all(&d).unwrap());
    let (wa, wb) = (send(a, da.clone()), send(b, db.clone()));
    let recv = |mut s: TcpStream, n: usize| {
        thread::spawn(move || {
            s.set_read_timeout(Some(TIMEOUT)).unwrap();
            let mut got = vec![0u8; n];
            s.read_exact(&mut got).unwrap();
            got
        })
    };
    let (ra, rb) = (recv(a_r, db.len()), recv(b_r, da.len()));
    assert!(ra.join().unwrap() == db, "a did not get b's bytes");
    assert!(rb.join().unwrap() == da, "b did not get a's bytes");
    wa.join().unwrap();
    wb.join().unwrap();
}
