//! The REPL, driven in a real pseudo-terminal (rexpect) against Python peers.

use std::net::TcpStream;
use std::process::Command;

use rexpect::session::{spawn_command, PtySession};

use crate::harness::*;

/// A TCP peer driven by commands on its stdin (`send <python bytes literal>`, `close`); it reports
/// `CONNECTED`, `GOT <repr>` (and `PICKLE <repr>` for pickles), `EOF` on stdout.
const PEER: &str = r#"
import pickle, socket, sys, threading
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
print('PORT', s.getsockname()[1], flush=True)
c, a = s.accept()
print('CONNECTED', flush=True)
def reader():
    while True:
        b = c.recv(65536)
        if not b:
            print('EOF', flush=True)
            return
        print('GOT', repr(b), flush=True)
        if b.startswith(b'\x80'):
            print('PICKLE', repr(pickle.loads(b)), flush=True)
threading.Thread(target=reader, daemon=True).start()
for line in sys.stdin:
    cmd = line.rstrip('\n')
    if cmd.startswith('send '):
        c.sendall(eval(cmd[5:]))
    elif cmd == 'close':
        c.close()
        print('CLOSED', flush=True)
        break
"#;

fn pty(args: &[&str], state: &std::path::Path) -> PtySession {
    let mut cmd = Command::new(sockkit_path());
    cmd.args(args)
        .env("XDG_STATE_HOME", state)
        .env("TERM", "xterm");
    spawn_command(cmd, Some(TIMEOUT.as_millis() as u64)).expect("start sockkit in a pty")
}

fn exit_code(p: &mut PtySession) -> i32 {
    match p.process.wait().expect("wait for sockkit") {
        rexpect::process::wait::WaitStatus::Exited(_, code) => code,
        other => panic!("sockkit did not exit normally: {other:?}"),
    }
}

struct Setup {
    peer: Proc,
    port: String,
    state: tempfile::TempDir,
}

fn setup() -> Setup {
    let peer = Proc::python(PEER, &[]);
    let port = peer.stdout_port().to_string();
    Setup {
        peer,
        port,
        state: tempfile::tempdir().unwrap(),
    }
}

#[test]
fn typing_while_data_arrives_keeps_the_line() {
    let mut s = setup();
    let mut p = pty(&["connect", "127.0.0.1", &s.port], s.state.path());
    let prompt = format!("127.0.0.1:{}> ", s.port);
    p.exp_string(&prompt).unwrap();
    s.peer.stdout.wait_contains("CONNECTED");
    p.send("hello wor").unwrap();
    p.flush().unwrap();
    p.exp_string("hello wor").unwrap();
    // The peer speaks while half a line is typed: its text shows above, the half line is redrawn.
    s.peer.write(b"send b'pushed by the peer\\n'\n");
    p.exp_string("pushed by the peer").unwrap();
    p.exp_string(&format!("{prompt}hello wor")).unwrap();
    p.send_line("ld").unwrap();
    s.peer.stdout.wait_contains("GOT b'hello world\\n'");
    // The peer closes: the REPL says so and ends with status 0.
    s.peer.write(b"close\n");
    p.exp_string("the peer closed the connection").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 0);
}

#[test]
fn history_persists_across_runs() {
    let s = setup();
    let mut p = pty(&["connect", "127.0.0.1", &s.port], s.state.path());
    p.exp_string("> ").unwrap();
    p.send_line("remember me").unwrap();
    s.peer.stdout.wait_contains("GOT b'remember me\\n'");
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 0);
    let saved = std::fs::read_to_string(s.state.path().join("sockkit/history")).unwrap();
    assert!(saved.contains("remember me"), "{saved}");

    let s2 = setup();
    let mut p = pty(&["connect", "127.0.0.1", &s2.port], s.state.path());
    p.exp_string("> ").unwrap();
    // Up twice: the last entry is the /quit that ended the first run.
    p.send("\x1b[A").unwrap();
    p.flush().unwrap();
    p.exp_string("/quit").unwrap();
    p.send("\x1b[A").unwrap();
    p.flush().unwrap();
    p.exp_string("remember me").unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    s2.peer.stdout.wait_contains("GOT b'remember me\\n'");
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
    // --no-history reads nothing and writes nothing.
    let s3 = setup();
    let mut p = pty(
        &["connect", "--no-history", "127.0.0.1", &s3.port],
        s3.state.path(),
    );
    p.exp_string("> ").unwrap();
    p.send_line("secret").unwrap();
    s3.peer.stdout.wait_contains("GOT b'secret\\n'");
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
    assert!(!s3.state.path().join("sockkit/history").exists());
}

#[test]
fn commands_send_bytes_and_change_the_display() {
    let mut s = setup();
    let mut p = pty(&["connect", "127.0.0.1", &s.port], s.state.path());
    p.exp_string("> ").unwrap();
    p.send_line("/hex 48 65 6c 6c 6f").unwrap();
    s.peer.stdout.wait_contains("GOT b'Hello'");
    p.send_line("/pickle {'a': [1, 2], 'b': (None, True)}")
        .unwrap();
    s.peer
        .stdout
        .wait_contains("PICKLE {'a': [1, 2], 'b': (None, True)}");
    p.send_line("/raw no newline").unwrap();
    s.peer.stdout.wait_contains("GOT b'no newline'");
    // A bad command or literal sends nothing.
    p.send_line("/hex 4g").unwrap();
    p.exp_string("error: column").unwrap();
    p.send_line("/pickle [1, 2").unwrap();
    p.exp_string("error: column").unwrap();
    p.send_line("/nope").unwrap();
    p.exp_string("unknown command /nope").unwrap();
    // /mode hex: what arrives next is shown as a hex dump.
    p.send_line("/mode hex").unwrap();
    p.exp_string("/mode hex").unwrap();
    p.exp_string("> ").unwrap();
    s.peer.write(b"send b'AB'\n");
    p.exp_string("00000000  41 42").unwrap();
    // Tab completes commands.
    p.send("/hel").unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("/help").unwrap();
    p.send("\x15").unwrap(); // Ctrl-U clears the line
    p.send("/clo\t").unwrap();
    p.flush().unwrap();
    p.exp_string("/close").unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    // /close half-closes: the peer sees EOF and can still answer.
    s.peer.stdout.wait_contains("EOF");
    s.peer.write(b"send b'after your EOF'\n");
    p.exp_string("61 66 74 65 72").unwrap();
    s.peer.write(b"close\n");
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 0);
    let got = s.peer.stdout.text();
    assert!(!got.contains("4g"), "a bad line was sent: {got}");
}

#[test]
fn ctrl_d_half_closes() {
    let mut s = setup();
    let mut p = pty(&["connect", "127.0.0.1", &s.port], s.state.path());
    p.exp_string("> ").unwrap();
    p.send_control('d').unwrap();
    s.peer.stdout.wait_contains("EOF");
    s.peer.write(b"send b'late reply'\n");
    p.exp_string("late reply").unwrap();
    s.peer.write(b"close\n");
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 0);
}

#[test]
fn to_chooses_a_client_of_listen_k() {
    let state = tempfile::tempdir().unwrap();
    let mut p = pty(&["listen", "-k", "127.0.0.1", "0"], state.path());
    let (_, port) = p.exp_regex(r"listening on 127\.0\.0\.1:\d+").unwrap();
    let port: u16 = port.rsplit(':').next().unwrap().parse().unwrap();
    let mut one = TcpStream::connect(local(port)).unwrap();
    let mut two = TcpStream::connect(local(port)).unwrap();
    use std::io::{Read, Write};
    one.write_all(b"hi from one\n").unwrap();
    p.exp_string("hi from one").unwrap();
    two.write_all(b"hi from two\n").unwrap();
    p.exp_string("hi from two").unwrap();
    p.send_line("/peers").unwrap();
    p.exp_string("2: client2 127.0.0.1:").unwrap();
    p.send_line("/to 2").unwrap();
    p.exp_string("lines now go to 127.0.0.1:").unwrap();
    p.send_line("just for two").unwrap();
    let mut buf = [0u8; 13];
    two.set_read_timeout(Some(TIMEOUT)).unwrap();
    two.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"just for two\n");
    p.send_line("/to all").unwrap();
    p.exp_string("lines now go to every client").unwrap();
    p.send_line("for everyone").unwrap();
    let mut buf = [0u8; 13];
    one.set_read_timeout(Some(TIMEOUT)).unwrap();
    one.read_exact(&mut buf).unwrap();
    assert_eq!(
        &buf, b"for everyone\n",
        "client one got the line meant for two"
    );
    p.send_line("/to 9").unwrap();
    p.exp_string("no peer 9").unwrap();
    // /to HOST:PORT names the same client as its number.
    let one_addr = one.local_addr().unwrap().to_string();
    p.send_line(&format!("/to {one_addr}")).unwrap();
    p.exp_string(&format!("lines now go to {one_addr}"))
        .unwrap();
    p.send_line("only one").unwrap();
    let mut buf = [0u8; 9];
    one.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"only one\n");
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
}

/// `/peers` lists the clients of `listen -k -U` (by process and user: their sockets have no name),
/// and `/to N` sends to one of them only.
#[test]
fn unix_to_chooses_a_client_of_listen_k_u() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    let state = tempfile::tempdir().unwrap();
    let path = state.path().join("k.sock");
    let mut p = pty(
        &["listen", "-k", "-U", path.to_str().unwrap()],
        state.path(),
    );
    p.exp_string("listening on").unwrap();
    let mut one = UnixStream::connect(&path).unwrap();
    let mut two = UnixStream::connect(&path).unwrap();
    one.write_all(b"hi from one\n").unwrap();
    p.exp_string("hi from one").unwrap();
    two.write_all(b"hi from two\n").unwrap();
    p.exp_string("hi from two").unwrap();
    p.send_line("/peers").unwrap();
    let pid = std::process::id();
    p.exp_string(&format!("1: client1 a local process (pid {pid}, uid "))
        .unwrap();
    p.exp_string(&format!("2: client2 a local process (pid {pid}, uid "))
        .unwrap();
    p.send_line("/to 2").unwrap();
    p.exp_string("lines now go to a local process").unwrap();
    p.send_line("just for two").unwrap();
    let mut buf = [0u8; 13];
    two.set_read_timeout(Some(TIMEOUT)).unwrap();
    two.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"just for two\n");
    p.send_line("/to all").unwrap();
    p.exp_string("lines now go to every client").unwrap();
    p.send_line("for everyone").unwrap();
    let mut buf = [0u8; 13];
    one.set_read_timeout(Some(TIMEOUT)).unwrap();
    one.read_exact(&mut buf).unwrap();
    assert_eq!(
        &buf, b"for everyone\n",
        "client one got the line meant for two"
    );
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
    assert!(!path.exists(), "the socket file outlived /quit");
}

#[test]
fn lab_client_keeps_talking_with_interactive() {
    let state = tempfile::tempdir().unwrap();
    let server = Proc::sockkit_null(&["lab-server", "--port", "0"]);
    let port = server.stdout_listening_port().to_string();
    let mut p = pty(
        &[
            "lab-client",
            "-I",
            "--port",
            &port,
            "--name",
            "Alice Brown",
            "--github",
            "abrown",
            "--sid",
            "1",
        ],
        state.path(),
    );
    p.exp_string("Data acknowledged by server and you passed the test")
        .unwrap();
    p.exp_string(&format!("lab 127.0.0.1/{port}> ")).unwrap();
    p.send_line("/pickle {'student_name': 'Bob', 'github_username': 'bob', 'sid': 2}")
        .unwrap();
    // The server's acknowledgement, shown as a pickle.
    p.exp_string("[K1\r\n").unwrap();
    server
        .stdout
        .wait_contains("Connected: Student: Bob, Github Username: bob, sid: 2");
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 0);
}

#[test]
fn progress_shows_on_a_terminal_and_is_cleared() {
    let server = Proc::sockkit_null(&["listen", "0"]);
    let port = server.listening_port().to_string();
    // Three megabytes, a little at a time, so that the meter ticks while they flow.
    let writer = "import sys, time\nfor i in range(6):\n    sys.stdout.buffer.write(bytes(500000)); sys.stdout.flush(); time.sleep(0.25)";
    let script = format!(
        "python3 -c '{writer}' | {} connect --progress 127.0.0.1 {port}",
        sockkit_path().display()
    );
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &script]).env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(TIMEOUT.as_millis() as u64)).expect("start in a pty");
    p.exp_regex(r"sent [0-9.]+ [kM]B \([0-9.]+ [kM]?B/s\)  received 0 B")
        .unwrap();
    // At the end the meter's line is erased, so nothing of it stays on the terminal.
    let rest = p.exp_eof().unwrap();
    assert!(rest.ends_with("\r\x1b[2K"), "{rest:?}");
    assert_eq!(exit_code(&mut p), 0);
    server
        .stdout
        .wait_for("3,000,000 bytes", |b| b.len() == 3_000_000);

    // Not a terminal: no meter, stderr stays clean.
    let server = Proc::sockkit_null(&["listen", "0"]);
    let port = server.listening_port().to_string();
    let (code, _, err) = run_sockkit(&["connect", "--progress", "127.0.0.1", &port], b"data\n");
    assert_eq!(code, Some(0));
    assert!(!err.contains("sent"), "{err}");
    server.stdout.wait_contains("data\n");
}

#[test]
fn send_file_sends_every_byte_with_progress() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    // Two megabytes: large enough for the progress line.
    let mut body = vec![b'a'; 2 << 20];
    body.extend_from_slice(b"THE END");
    std::fs::write(&path, &body).unwrap();
    let mut p = pty(&["connect", "127.0.0.1", &s.port], s.state.path());
    p.exp_string("> ").unwrap();
    s.peer.stdout.wait_contains("CONNECTED");
    p.send_line("/send /nonexistent/file").unwrap();
    p.exp_string("error: cannot open /nonexistent/file")
        .unwrap();
    p.send_line(&format!("/send {}", path.display())).unwrap();
    p.exp_regex(r"sent [0-9.]+ [kM]B of 2\.1 MB").unwrap();
    p.exp_string(&format!("sent {} (2.1 MB)", path.display()))
        .unwrap();
    s.peer.stdout.wait_contains("THE END'");
    // Every byte arrived, in order: the peer's reprs add up to the file.
    let got: usize = s
        .peer
        .stdout
        .text()
        .lines()
        .filter_map(|l| l.strip_prefix("GOT b'"))
        .map(|l| l.trim_end_matches('\'').len())
        .sum();
    assert_eq!(got, body.len());
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
}

/// A server that greets each client at once and then keeps the connection open, reading.
const GREETER: &str = r#"
import socket, threading
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
print('PORT', s.getsockname()[1], flush=True)
def serve(c):
    c.sendall(b'Welcome to the server\n')
    while c.recv(65536): pass
    print('EOF', flush=True)
    threading.Event().wait()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

#[test]
fn a_greeting_prints_whole_above_the_first_prompt() {
    let greeter = Proc::python(GREETER, &[]);
    let port = greeter.stdout_port().to_string();
    let state = tempfile::tempdir().unwrap();
    // The greeting races the editor's start: repeat so that both orders happen.
    for _ in 0..5 {
        let mut p = pty(&["connect", "127.0.0.1", &port], state.path());
        // Whole, with its line end, so the first prompt draw (\r\e[K) cannot erase it.
        p.exp_string("Welcome to the server\r\n").unwrap();
        p.exp_string(&format!("127.0.0.1:{port}> ")).unwrap();
        p.send_line("/quit").unwrap();
        p.exp_eof().unwrap();
        assert_eq!(exit_code(&mut p), 0);
    }
}

#[test]
fn quit_ends_the_session_after_close_or_ctrl_d() {
    let greeter = Proc::python(GREETER, &[]);
    let port = greeter.stdout_port().to_string();
    let state = tempfile::tempdir().unwrap();
    // connect: the peer keeps the connection open after our EOF.
    for half_close in ["/close", "ctrl-d"] {
        let mut p = pty(&["connect", "127.0.0.1", &port], state.path());
        p.exp_string("> ").unwrap();
        if half_close == "/close" {
            p.send_line("/close").unwrap();
        } else {
            p.send_control('d').unwrap();
        }
        p.exp_string("(sent EOF").unwrap();
        greeter.stdout.wait_contains("EOF");
        // Lines cannot be sent any more, and say so.
        p.send_line("too late").unwrap();
        p.exp_string("EOF was sent").unwrap();
        p.send_line("/quit").unwrap();
        p.exp_eof().unwrap();
        assert_eq!(exit_code(&mut p), 0, "{half_close} then /quit");
    }
    // listen -k and udp-listen: /close, then /quit.
    for args in [
        &["listen", "-k", "127.0.0.1", "0"][..],
        &["udp-listen", "127.0.0.1", "0"],
    ] {
        let mut p = pty(args, state.path());
        p.exp_regex(r"listening on 127\.0\.0\.1:\d+").unwrap();
        p.exp_string("> ").unwrap();
        p.send_line("/close").unwrap();
        p.exp_string("(sent EOF").unwrap();
        p.send_line("/quit").unwrap();
        p.exp_eof().unwrap();
        assert_eq!(exit_code(&mut p), 0, "{args:?}");
    }
}

#[test]
fn ctrl_c_clears_a_typed_line_and_twice_on_an_empty_one_ends_with_130() {
    let s = setup();
    let mut p = pty(&["connect", "127.0.0.1", &s.port], s.state.path());
    p.exp_string("> ").unwrap();
    s.peer.stdout.wait_contains("CONNECTED");
    p.send("not this").unwrap();
    p.flush().unwrap();
    p.exp_string("not this").unwrap();
    p.send_control('c').unwrap();
    p.send_line("but this").unwrap();
    s.peer.stdout.wait_contains("GOT b'but this\\n'");
    assert!(!s.peer.stdout.text().contains("not this"));
    // One Ctrl-C on an empty line warns; a line in between starts the count again.
    p.send_control('c').unwrap();
    p.exp_string("(Ctrl-C again to end the session)").unwrap();
    p.send_line("still here").unwrap();
    s.peer.stdout.wait_contains("GOT b'still here\\n'");
    p.send_control('c').unwrap();
    p.exp_string("(Ctrl-C again to end the session)").unwrap();
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 130);
}

fn termios_of(p: &PtySession) -> libc::termios {
    use std::os::fd::AsRawFd;
    // SAFETY: tcgetattr fills the struct; the master side reads the slave's settings.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(p.process.pty.as_raw_fd(), &mut t), 0);
        t
    }
}

#[test]
fn sighup_and_sigterm_restore_the_terminal() {
    for (signal, code) in [(libc::SIGHUP, 129), (libc::SIGTERM, 143)] {
        let s = setup();
        let mut p = pty(&["connect", "127.0.0.1", &s.port], s.state.path());
        p.exp_string("> ").unwrap();
        // The editor is in raw mode now: no canonical mode, no signals from keys.
        let raw = termios_of(&p);
        assert_eq!(raw.c_lflag & libc::ICANON, 0, "not in raw mode yet");
        // SAFETY: kill(2) on the child we started.
        unsafe {
            libc::kill(p.process.child_pid.as_raw(), signal);
        }
        p.exp_eof().unwrap();
        assert_eq!(exit_code(&mut p), code, "signal {signal}");
        let after = termios_of(&p);
        for (flag, name) in [
            (libc::ICANON, "ICANON"),
            (libc::ISIG, "ISIG"),
            (libc::IEXTEN, "IEXTEN"),
        ] {
            assert_ne!(
                after.c_lflag & flag,
                0,
                "{name} left off after signal {signal}"
            );
        }
        assert_ne!(
            after.c_iflag & libc::ICRNL,
            0,
            "ICRNL left off after signal {signal}"
        );
    }
}

#[test]
fn to_takes_a_number_or_an_address_on_udp_listen_too() {
    use std::net::UdpSocket;
    let state = tempfile::tempdir().unwrap();
    let mut p = pty(&["udp-listen", "127.0.0.1", "0"], state.path());
    let (_, at) = p.exp_regex(r"listening on 127\.0\.0\.1:\d+").unwrap();
    let port: u16 = at.rsplit(':').next().unwrap().parse().unwrap();
    p.exp_string("> ").unwrap();
    let senders: Vec<UdpSocket> = (0..2)
        .map(|_| {
            let u = UdpSocket::bind("127.0.0.1:0").unwrap();
            u.set_read_timeout(Some(TIMEOUT)).unwrap();
            u
        })
        .collect();
    senders[0].send_to(b"from one\n", local(port)).unwrap();
    p.exp_string("from one").unwrap();
    senders[1].send_to(b"from two\n", local(port)).unwrap();
    p.exp_string("from two").unwrap();
    let one = senders[0].local_addr().unwrap().to_string();
    let two = senders[1].local_addr().unwrap().to_string();
    p.send_line("/peers").unwrap();
    p.exp_string(&format!("1: sender {one}")).unwrap();
    p.exp_string(&format!("2: sender {two}")).unwrap();
    // By number: the first sender, though the second sent last.
    p.send_line("/to 1").unwrap();
    p.exp_string(&format!("lines now go to {one}")).unwrap();
    p.send_line("for one").unwrap();
    let mut buf = [0u8; 64];
    let n = senders[0].recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"for one\n");
    // By address.
    p.send_line(&format!("/to {two}")).unwrap();
    p.exp_string(&format!("lines now go to {two}")).unwrap();
    p.send_line("for two").unwrap();
    let n = senders[1].recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"for two\n");
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 0);
}

#[test]
fn interactive_with_a_message_is_a_usage_error_even_on_a_terminal() {
    let state = tempfile::tempdir().unwrap();
    let mut p = pty(&["udp-send", "-I", "127.0.0.1", "9", "hi"], state.path());
    p.exp_string("sockkit: error: -I/--interactive does not apply with MESSAGE")
        .unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&mut p), 2);
}
