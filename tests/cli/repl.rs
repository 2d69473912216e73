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
    p.exp_string("lines now go to 2").unwrap();
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
    p.exp_string("no peer '9'").unwrap();
    p.send_line("/quit").unwrap();
    p.exp_eof().unwrap();
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
