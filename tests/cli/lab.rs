//! The socket-lab handshake: sockkit's lab-client against Python lab servers (the current course version
//! and the older ones, every pickle protocol), and Python student clients against sockkit's lab-server,
//! including hundreds at once and hostile ones.

use std::io::Write;
use std::process::Stdio;

use crate::harness::*;

/// The course's lab server, written from PROTOCOL.md: `PROTO` is the pickle protocol it writes, `WELCOME`
/// is `dict` (current), `int` (older), `nested` (`{'clientid': {'clientid': id}}`, as a real instructor
/// server sends), `strid` (the id as a str) or `split` (the dict sent one byte at a time); `ACK` is `yes`,
/// `true` (`True`), `float` (`1.0`), `slow` (1 after 5.5 s), `no` (older: never acknowledges) or
/// `joined` (welcome and ack sent in one write, before the record).
const PY_LAB_SERVER: &str = r#"
import pickle, socket, sys, time
proto, welcome, ack = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0))
s.listen()
print('PORT', s.getsockname()[1], flush=True)
conn, addr = s.accept()
hello = {'int': addr[1], 'nested': {'clientid': {'clientid': addr[1]}}, 'strid': {'clientid': str(addr[1])}}.get(welcome, {'clientid': addr[1]})
hello = pickle.dumps(hello, protocol=proto)
if welcome == 'split':
    for b in hello:
        conn.send(bytes([b]))
        time.sleep(0.002)
elif ack == 'joined':
    conn.send(hello + pickle.dumps(1, protocol=proto))
else:
    conn.send(hello)
data = conn.recv(1024)
student = pickle.loads(data)
print(f"Connected: Student: {student['student_name']}, Github Username: {student['github_username']}, sid: {student['sid']}", flush=True)
if ack == 'slow':
    time.sleep(5.5)
if ack in ('yes', 'slow'):
    conn.send(pickle.dumps(1, protocol=proto))
elif ack == 'true':
    conn.send(pickle.dumps(True, protocol=proto))
elif ack == 'float':
    conn.send(pickle.dumps(1.0, protocol=proto))
elif ack == 'no':
    time.sleep(30)
conn.close()
"#;

fn lab_client(port: u16, extra: &[&str]) -> Proc {
    let port = port.to_string();
    let mut args = vec![
        "lab-client",
        "--ip",
        "127.0.0.1",
        "--port",
        &port,
        "--name",
        "Alice Brown",
        "--github",
        "abrown",
        "--sid",
        "123456789",
    ];
    args.extend_from_slice(extra);
    Proc::sockkit_null(&args)
}

fn client_against(
    proto: u8,
    welcome: &str,
    ack: &str,
    extra: &[&str],
) -> (Option<i32>, String, String, Proc) {
    let server = Proc::python(PY_LAB_SERVER, &[&proto.to_string(), welcome, ack]);
    let port = server.stdout_port();
    let mut client = lab_client(port, extra);
    let (code, out, err) = client.finish();
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        err,
        server,
    )
}

#[test]
fn lab_client_passes_against_the_python_server_in_every_protocol() {
    for proto in 0..=5u8 {
        let (code, out, err, mut server) = client_against(proto, "dict", "yes", &[]);
        assert_eq!(code, Some(0), "protocol {proto}: {err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "protocol {proto}: {out}");
        // `{'clientid': <our source port>} has successfully connected to 127.0.0.1/<port>`
        assert!(lines[0].starts_with("{'clientid': "), "{out}");
        assert!(
            lines[0].contains("} has successfully connected to 127.0.0.1/"),
            "{out}"
        );
        assert_eq!(
            lines[1],
            "Data acknowledged by server and you passed the test"
        );
        assert_eq!(err, "");
        server.stdout.wait_contains(
            "Connected: Student: Alice Brown, Github Username: abrown, sid: 123456789\n",
        );
        server.wait();
    }
}

#[test]
fn lab_client_reads_split_and_joined_messages() {
    let (code, out, err, _s) = client_against(4, "split", "yes", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.ends_with("Data acknowledged by server and you passed the test\n"),
        "{out}"
    );
    let (code, out, err, _s) = client_against(4, "dict", "joined", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.ends_with("Data acknowledged by server and you passed the test\n"),
        "{out}"
    );
}

#[test]
fn lab_client_tolerates_older_servers() {
    // A bare int id instead of a dict.
    let (code, out, err, _s) = client_against(3, "int", "yes", &[]);
    assert_eq!(code, Some(0), "{err}");
    let first = out.lines().next().unwrap();
    let id: u16 = first
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .expect("a bare id first");
    assert!(id > 0);
    // No acknowledgement at all: waits --ack-timeout, says so, exits 1.
    let (code, out, err, _s) = client_against(4, "dict", "no", &["--ack-timeout", "300ms"]);
    assert_eq!(code, Some(1));
    assert_eq!(out.lines().count(), 1, "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no acknowledgement from the lab server within 300ms"),
        "{err}"
    );
}

#[test]
fn lab_client_accepts_what_a_python_client_accepts() {
    // A nested welcome and a str id are printed with Python's str(), as a Python client's f-string does.
    let (code, out, err, _s) = client_against(4, "nested", "yes", &[]);
    assert_eq!(code, Some(0), "{err}");
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with("{'clientid': {'clientid': ")
            && first.contains("}} has successfully connected to 127.0.0.1/"),
        "{out}"
    );
    let (code, out, err, _s) = client_against(4, "strid", "yes", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("{'clientid': '"), "{out}");
    // Acknowledgements equal to 1 in Python: True and 1.0.
    for ack in ["true", "float"] {
        let (code, out, err, _s) = client_against(4, "dict", ack, &[]);
        assert_eq!(code, Some(0), "ack {ack}: {err}");
        assert!(
            out.ends_with("Data acknowledged by server and you passed the test\n"),
            "ack {ack}: {out}"
        );
        assert_eq!(err, "", "ack {ack}");
    }
}

#[test]
fn lab_client_waits_for_a_slow_acknowledgement_as_python_does() {
    // The server acknowledges after 5.5 s: no timeout by default, one note on stderr after 5 s.
    let (code, out, err, _s) = client_against(4, "dict", "slow", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.ends_with("Data acknowledged by server and you passed the test\n"),
        "{out}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "sockkit: still waiting for the acknowledgement from the lab server at 127.0.0.1/"
        ),
        "{err}"
    );
}

#[test]
fn lab_client_failures_are_one_line() {
    let port = free_port();
    let mut client = lab_client(port, &[]);
    let (code, _, err) = client.finish();
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!("sockkit: error: could not connect to 127.0.0.1:{port}: connection refused (is the lab server running?)\n")
    );

    // A server that answers with something that is not a pickle.
    let server = Proc::python(
        "import socket\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, a = s.accept(); c.sendall(b'HTTP/1.0 400 Bad Request\\r\\n\\r\\n'); c.close()",
        &[],
    );
    let mut client = lab_client(server.stdout_port(), &[]);
    let (code, _, err) = client.finish();
    assert_eq!(code, Some(1));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a pickle"), "{err}");

    // A server that closes at once.
    let server = Proc::python(
        "import socket\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, a = s.accept(); c.close()",
        &[],
    );
    let mut client = lab_client(server.stdout_port(), &[]);
    let (code, _, err) = client.finish();
    assert_eq!(code, Some(1));
    assert!(
        err.contains("closed the connection before sending a client id"),
        "{err}"
    );

    // An unexpected acknowledgement is shown as Python would print it.
    let server = Proc::python(
        "import socket, pickle\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, a = s.accept(); c.sendall(pickle.dumps({'clientid': a[1]})); c.recv(1024)\n\
         c.sendall(pickle.dumps({'error': 'bad sid'})); c.close()",
        &[],
    );
    let mut client = lab_client(server.stdout_port(), &[]);
    let (code, _, err) = client.finish();
    assert_eq!(code, Some(1));
    assert!(
        err.contains("unexpected reply from the lab server: {'error': 'bad sid'} (expected 1)"),
        "{err}"
    );
}

#[test]
fn lab_client_verbose_shows_the_bytes() {
    // -v: the trace on stderr, stdout exactly the lab's two lines.
    let (code, out, err, _s) = client_against(4, "dict", "yes", &["-v"]);
    assert_eq!(code, Some(0), "{err}");
    for needle in [
        "--> sent 83 bytes",
        "<-- received 29 bytes",
        "<-- received 5 bytes",
        "80 04 4b 01 2e",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[1],
        "Data acknowledged by server and you passed the test"
    );
    // --mode hex: the same trace is the output.
    let (code, out, err, _s) = client_against(4, "dict", "yes", &["--mode", "hex"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("--> sent 83 bytes"), "{out}");
    assert!(out.contains("80 04 4b 01 2e"), "{out}");
    assert_eq!(err, "");
}

/// The student's client of the lab, written from PROTOCOL.md; checks the welcome bytes are exactly what
/// the Python server sends.
const PY_STUDENT: &str = r#"
import pickle, socket, sys
port, proto, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.connect(('127.0.0.1', port))
data = s.recv(4096)
me = s.getsockname()[1]
assert data == pickle.dumps({'clientid': me}, protocol=4), data
print(f"{pickle.loads(data)} has successfully connected to 127.0.0.1/{port}")
s.send(pickle.dumps({'student_name': name, 'github_username': 'gh' + str(me), 'sid': me}, protocol=proto))
ack = s.recv(4096)
assert ack == b'\x80\x04K\x01.', ack
assert pickle.loads(ack) == 1
print("Data acknowledged by server and you passed the test")
"#;

fn lab_server(extra: &[&str]) -> Proc {
    let mut args = vec!["lab-server", "--port", "0"];
    args.extend_from_slice(extra);
    Proc::sockkit_null(&args)
}

#[test]
fn lab_server_serves_the_python_student_in_every_protocol() {
    let server = lab_server(&[]);
    let port = server.stdout_listening_port();
    for proto in 0..=5 {
        let name = format!("Student P{proto}");
        let mut student = Proc::python(PY_STUDENT, &[&port.to_string(), &proto.to_string(), &name]);
        let (code, out, err) = student.finish();
        assert_eq!(code, Some(0), "protocol {proto}: {err}");
        assert!(String::from_utf8_lossy(&out).ends_with("you passed the test\n"));
        server
            .stdout
            .wait_contains(&format!("Connected: Student: {name}, Github Username: gh"));
    }
    let first = server.stdout.text();
    assert!(
        first.starts_with(&format!("Listening at 127.0.0.1/{port}\n")),
        "{first}"
    );
}

#[test]
fn lab_server_serves_hundreds_at_once_and_keeps_a_roster() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    let server = lab_server(&["--roster", roster.to_str().unwrap()]);
    let port = server.stdout_listening_port();
    // 300 clients connect first, then all do the handshake: they are all connected at the same time.
    let mut load = Proc::python(
        r#"
import asyncio, pickle, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
async def one(i, ready, go):
    r, w = await asyncio.open_connection('127.0.0.1', port)
    ready.append(i)
    await go.wait()
    hello = pickle.loads(await r.readexactly(29))
    w.write(pickle.dumps({'student_name': f'S{i}', 'github_username': f'g{i}', 'sid': i}))
    await w.drain()
    ack = await r.readexactly(5)
    assert pickle.loads(ack) == 1
    w.close()
    return hello['clientid']
async def main():
    ready, go = [], asyncio.Event()
    tasks = [asyncio.create_task(one(i, ready, go)) for i in range(n)]
    while len(ready) < n:
        await asyncio.sleep(0.01)
    go.set()
    ids = await asyncio.gather(*tasks)
    print('OK', len(set(ids)))
asyncio.run(main())
"#,
        &[&port.to_string(), "300"],
    );
    let (code, out, err) = load.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "OK 300\n");
    let text = server.stdout.wait_for("300 Connected lines", |b| {
        String::from_utf8_lossy(b)
            .matches("Connected: Student: ")
            .count()
            >= 300
    });
    let text = String::from_utf8_lossy(&text);
    for i in [0, 150, 299] {
        assert!(
            text.contains(&format!(
                "Connected: Student: S{i}, Github Username: g{i}, sid: {i}\n"
            )),
            "student {i} missing"
        );
    }
    // The roster has a header and one row per student, written as they were acknowledged.
    let csv = std::fs::read_to_string(&roster).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "time,client_id,name,github,sid");
    assert_eq!(rows.len(), 301, "{csv}");
    let row = rows
        .iter()
        .find(|r| r.ends_with(",S7,g7,7"))
        .expect("S7's row");
    let fields: Vec<&str> = row.split(',').collect();
    assert_eq!(fields.len(), 5);
    assert!(
        fields[0].ends_with('Z') && fields[0].contains('T'),
        "time {}",
        fields[0]
    );
    assert!(fields[1].parse::<u16>().is_ok());
}

#[test]
fn lab_server_survives_hostile_clients() {
    let server = lab_server(&["--handshake-timeout", "1s", "--max-message", "65536"]);
    let port = server.stdout_listening_port();
    let mut mix = Proc::python(
        r#"
import asyncio, pickle, sys
port = int(sys.argv[1])
good = {'student_name': 'Good', 'github_username': 'g', 'sid': 1}
hostile = {
    'garbage': b'GET / HTTP/1.0\r\n\r\n',
    'truncated': pickle.dumps(good)[:40],
    'wrong type': pickle.dumps([1, 2, 3]),
    'missing keys': pickle.dumps({'student_name': 'X'}),
    'old client': pickle.dumps({'name': 'X', 'email': 'x@example.com'}),
    'oversized': pickle.dumps({'student_name': 'A' * 200000, 'github_username': 'g', 'sid': 1}),
    'deep': b'\x80\x04' + b'(' * 100000,
    'frame 1 GiB': b'\x80\x04\x95' + (1 << 30).to_bytes(8, 'little') + b'}\x94(' + b'A' * 1000,
    'evil global': b"cos\nsystem\n(S'touch /tmp/sockkit-lab-pwned'\ntR.",
    'silent': None,
    'mid-message': pickle.dumps(good)[:10],
}
async def bad(kind, payload):
    r, w = await asyncio.open_connection('127.0.0.1', port)
    await r.readexactly(29)
    if payload is not None:
        w.write(payload)
        await w.drain()
    if kind in ('truncated', 'mid-message'):
        w.close()
        return
    try:
        data = await asyncio.wait_for(r.read(100), 10)
    except Exception:
        data = b''
    w.close()
    assert data == b'', (kind, data)   # closed, never acknowledged
async def good_one(i):
    r, w = await asyncio.open_connection('127.0.0.1', port)
    await r.readexactly(29)
    w.write(pickle.dumps({'student_name': f'Good{i}', 'github_username': 'g', 'sid': i}))
    await w.drain()
    assert pickle.loads(await r.readexactly(5)) == 1
    w.close()
    return 1
async def main():
    tasks = []
    for i in range(40):
        tasks.append(good_one(i))
        kind = list(hostile)[i % len(hostile)]
        tasks.append(bad(kind, hostile[kind]))
    results = await asyncio.gather(*tasks)
    print('GOOD', sum(1 for r in results if r == 1))
asyncio.run(main())
"#,
        &[&port.to_string()],
    );
    let (code, out, err) = mix.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "GOOD 40\n");
    assert!(
        !std::path::Path::new("/tmp/sockkit-lab-pwned").exists(),
        "a pickle ran a command"
    );
    // Still serving after all that.
    let mut last = Proc::python(PY_STUDENT, &[&port.to_string(), "4", "Last One"]);
    let (code, _, err) = last.finish();
    assert_eq!(code, Some(0), "{err}");
    server.stdout.wait_contains("Connected: Student: Last One,");
    let log = server.stderr.wait_contains("--handshake-timeout");
    for needle in [
        "not a valid pickle",
        "not a student record",
        "missing key 'github_username'",
        "missing key 'student_name'",
        "expected a dict with the keys student_name, github_username, sid, got a list",
        "middle of a message",
        // Refused on the header, not left to the handshake timeout.
        "FRAME declares 1073741824 bytes",
    ] {
        assert!(log.contains(needle), "no log line with {needle:?}:\n{log}");
    }
    // One line per problem, each naming the client.
    for line in log.lines() {
        assert!(
            line.starts_with("sockkit: 127.0.0.1:"),
            "unexpected log line {line:?}"
        );
    }
}

#[test]
fn lab_server_ctrl_c_prints_a_summary() {
    let mut server = lab_server(&[]);
    let port = server.stdout_listening_port();
    let mut student = Proc::python(PY_STUDENT, &[&port.to_string(), "4", "Alice Brown"]);
    assert_eq!(student.finish().0, Some(0));
    server
        .stdout
        .wait_contains("Connected: Student: Alice Brown");
    server.signal(2);
    let (code, _, err) = server.finish();
    assert_eq!(code, Some(130));
    assert!(
        err.contains("lab-server stopped: 1 student acknowledged, 0 clients rejected\n"),
        "{err}"
    );
}

#[test]
fn lab_server_bind_failure_is_clear() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut server = Proc::start(
        sockkit_path(),
        &["lab-server", "--port", &port],
        Stdio::null(),
    );
    let (code, _, err) = server.finish();
    assert_eq!(code, Some(1));
    assert!(err.contains("address already in use"), "{err}");
    let _ = std::io::stderr().flush();
}

#[test]
fn lab_server_allow_and_deny_refuse_before_the_welcome() {
    use std::io::Read;
    let server = lab_server(&["--deny", "127.0.0.1/32", "--allow", "127.0.0.0/8,::1"]);
    let port = server.stdout_listening_port();
    // Denied: closed without a welcome.
    let mut denied = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    denied
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 64];
    match denied.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0, "a denied client got {:?}", &buf[..n]),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
    let log = server.stderr.wait_contains("not allowed by --allow/--deny");
    assert!(log.starts_with("sockkit: refused 127.0.0.1:"), "{log}");
    // Allowed (127.0.0.2 is in 127.0.0.0/8 and not denied): welcomed with its client id.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&std::net::SocketAddr::from(([127, 0, 0, 2], 0)).into())
        .unwrap();
    sock.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into())
        .unwrap();
    let mut allowed: std::net::TcpStream = sock.into();
    allowed
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut welcome = [0u8; 29];
    allowed.read_exact(&mut welcome).unwrap();
    assert_eq!(&welcome[..3], b"\x80\x04\x95");
    assert!(welcome.windows(8).any(|w| w == b"clientid"));
}

/// Runs a Python script (given the server's port as argv[1]) to completion; returns its stdout.
fn python_against(port: u16, script: &str) -> String {
    let mut p = Proc::python(script, &[&port.to_string()]);
    let (code, out, err) = p.finish();
    assert_eq!(code, Some(0), "python peer failed: {err}");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn lab_server_accepts_any_values_and_extra_keys_as_the_original_does() {
    let server = lab_server(&[]);
    let port = server.stdout_listening_port();
    // Real student clients: the sid as a str (even with a prefix), extra keys, bytes, None.
    let out = python_against(
        port,
        r#"
import collections, pickle, socket, sys
for record in [
    {'student_name': 'Bob Li', 'github_username': 'bobli', 'sid': '920652002'},
    {'sid': 'SID: 920652002', 'student_name': 'Carol', 'github_username': 'carol', 'section': 3},
    {'student_name': b'Dan', 'github_username': None, 'sid': 7.0},
    collections.OrderedDict([('student_name', 'Eve'), ('github_username', 'eve'), ('sid', 5)]),
    collections.defaultdict(str, {'student_name': 'Fay', 'github_username': 'fay', 'sid': 6}),
]:
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.settimeout(10)
    s.recv(4096)
    s.send(pickle.dumps(record))
    assert pickle.loads(s.recv(4096)) == 1
    s.close()
print('OK')
"#,
    );
    assert_eq!(out, "OK\n");
    let text = server.stdout.wait_contains("sid: 6\n");
    for line in [
        "Connected: Student: Bob Li, Github Username: bobli, sid: 920652002\n",
        "Connected: Student: Carol, Github Username: carol, sid: SID: 920652002\n",
        "Connected: Student: b'Dan', Github Username: None, sid: 7.0\n",
        "Connected: Student: Eve, Github Username: eve, sid: 5\n",
        "Connected: Student: Fay, Github Username: fay, sid: 6\n",
    ] {
        assert!(text.contains(line), "{line:?} missing from {text:?}");
    }
    assert_eq!(server.stderr.text(), "");
}

#[test]
fn lab_server_strict_restores_the_type_checks() {
    let server = lab_server(&["--strict"]);
    let port = server.stdout_listening_port();
    let out = python_against(
        port,
        r#"
import pickle, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.settimeout(10)
s.recv(4096)
s.send(pickle.dumps({'student_name': 'Bob', 'github_username': 'bob', 'sid': '920652002'}))
print('closed' if s.recv(4096) == b'' else 'acknowledged')
"#,
    );
    assert_eq!(out, "closed\n");
    let log = server
        .stderr
        .wait_contains("'sid' must be an int (--strict), got a str");
    assert!(log.starts_with("sockkit: 127.0.0.1:"), "{log}");
}

#[test]
fn lab_server_keeps_acknowledged_students_connected() {
    // A deadline of 300 ms for each record, and a student who then sits in recv() for 1.5 s, as real
    // clients do after "you passed the test": it must not be closed, and a second record is acknowledged.
    let mut server = lab_server(&["--handshake-timeout", "300ms"]);
    let port = server.stdout_listening_port();
    let out = python_against(
        port,
        r#"
import pickle, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.recv(4096)
s.send(pickle.dumps({'student_name': 'Idle', 'github_username': 'idle', 'sid': 1}))
assert pickle.loads(s.recv(4096)) == 1
print('Data acknowledged by server and you passed the test')
s.settimeout(1.5)
try:
    data = s.recv(1024)
    print('closed by the server' if data == b'' else 'got %r' % data)
except socket.timeout:
    print('still connected')
s.settimeout(10)
s.send(pickle.dumps({'student_name': 'Idle', 'github_username': 'idle', 'sid': 2}))
print('second ack', pickle.loads(s.recv(4096)))
"#,
    );
    assert_eq!(
        out,
        "Data acknowledged by server and you passed the test\nstill connected\nsecond ack 1\n"
    );
    // A second student stays connected, idle, while the server is stopped: it is closed at once,
    // counted as acknowledged, and nobody is "cut off".
    let mut idle = Proc::python(
        r#"
import pickle, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.recv(4096)
s.send(pickle.dumps({'student_name': 'Waiting', 'github_username': 'w', 'sid': 3}))
assert pickle.loads(s.recv(4096)) == 1
print('acked', flush=True)
s.settimeout(30)
print('server closed' if s.recv(1024) == b'' else 'data')
"#,
        &[&port.to_string()],
    );
    idle.stdout.wait_contains("acked\n");
    server.signal(2);
    let (code, _, err) = server.finish();
    assert_eq!(code, Some(130));
    assert!(
        err.ends_with("lab-server stopped: 2 students acknowledged, 0 clients rejected\n"),
        "{err}"
    );
    let (code, out, _) = idle.finish();
    assert_eq!(code, Some(0));
    assert_eq!(String::from_utf8_lossy(&out), "acked\nserver closed\n");
}

#[test]
fn lab_server_handshake_timeout_is_a_deadline_not_an_idle_timer() {
    let server = lab_server(&["--handshake-timeout", "1s"]);
    let port = server.stdout_listening_port();
    // Slowloris: a valid record, one byte every 50 ms (4 s for 83 bytes), first as the first record,
    // then as a second record after an acknowledged one. Both are closed before they finish.
    let out = python_against(
        port,
        r#"
import pickle, socket, sys, time
record = pickle.dumps({'student_name': 'Slow', 'github_username': 's', 'sid': 1})
def trickle(s):
    for i, b in enumerate(record):
        try:
            s.send(bytes([b]))
        except OSError:
            return i
        time.sleep(0.05)
    s.settimeout(10)
    return 'finished, got %r' % s.recv(100)
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.recv(4096)
n = trickle(s)
print('first record cut off' if isinstance(n, int) and n < len(record) else n)
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.recv(4096)
s.send(record)
assert pickle.loads(s.recv(4096)) == 1
n = trickle(s)
print('second record cut off' if isinstance(n, int) and n < len(record) else n)
"#,
    );
    assert_eq!(out, "first record cut off\nsecond record cut off\n");
    let log = server
        .stderr
        .wait_contains("a record begun was not complete within 1s (--handshake-timeout); closed");
    assert!(
        log.contains(
            "no complete student record within 1s of connecting (--handshake-timeout); closed"
        ),
        "{log}"
    );
}

#[test]
fn lab_server_escapes_what_students_chose() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    let server = lab_server(&["-v", "--roster", roster.to_str().unwrap()]);
    let port = server.stdout_listening_port();
    let out = python_against(
        port,
        r#"
import pickle, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.recv(4096)
name = 'Mallory\nConnected: Student: Forged Person, Github Username: x, sid: 1\x1b[2J\x1b]0;pwned\x07\u202e'
s.send(pickle.dumps({'student_name': name, 'github_username': '\x9bm\r', 'sid': '1,2\n'}))
assert pickle.loads(s.recv(4096)) == 1
print('OK')
"#,
    );
    assert_eq!(out, "OK\n");
    let expected = "Connected: Student: Mallory\\nConnected: Student: Forged Person, Github Username: x, sid: 1\\x1b[2J\\x1b]0;pwned\\x07\\u202e, Github Username: \\x9bm\\r, sid: 1,2\\n\n";
    let text = server.stdout.wait_contains(expected);
    // Exactly one Connected line: the forged one is inside it, escaped.
    assert_eq!(text.lines().count(), 2, "{text}");
    let log = server.stderr.wait_contains("received ");
    assert!(!log.contains('\x1b') && !log.contains('\u{9b}'), "{log:?}");
    for line in log.lines() {
        assert!(line.starts_with("sockkit: "), "{line:?}");
    }
    let csv = std::fs::read_to_string(&roster).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.ends_with(",\\x9bm\\r,\"1,2\\n\"\n"), "{csv}");
    assert!(!csv.contains('\x1b'));
}

/// Peak resident memory of a process, in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

#[test]
fn lab_server_refuses_doubled_shared_values_before_expanding_them() {
    let server = lab_server(&[]);
    let port = server.stdout_listening_port();
    // t = []; 40 times t = (t, t): Python pickles it in about 330 bytes (memo references); its str()
    // would be 2**40 times longer. 60 such students, then a good one.
    let out = python_against(
        port,
        r#"
import pickle, socket, sys
t = []
for _ in range(40):
    t = (t, t)
bomb = pickle.dumps({'student_name': t, 'github_username': 'g', 'sid': 1})
assert len(bomb) < 400, len(bomb)
closed = 0
for _ in range(60):
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.settimeout(10)
    s.recv(4096)
    s.send(bomb)
    closed += s.recv(100) == b''
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.settimeout(10)
s.recv(4096)
s.send(pickle.dumps({'student_name': 'Good', 'github_username': 'g', 'sid': 2}))
print(closed, pickle.loads(s.recv(4096)))
"#,
    );
    assert_eq!(out, "60 1\n");
    server.stdout.wait_contains("Connected: Student: Good,");
    // Each refusal is logged before its client is closed, but the harness may not have read it yet.
    let refused = "'student_name': a tuple too large to print";
    let log = server.stderr.wait_for("60 refusals", |b| {
        String::from_utf8_lossy(b).matches(refused).count() >= 60
    });
    let log = String::from_utf8_lossy(&log);
    assert_eq!(log.matches(refused).count(), 60, "{log}");
    let peak = peak_rss_mb(server.child.id());
    assert!(peak < 40.0, "peak RSS {peak:.1} MB");
}

#[test]
fn lab_server_answers_a_client_that_sends_before_reading() {
    let server = lab_server(&[]);
    let port = server.stdout_listening_port();
    // The record goes out right after connect, before the welcome is read; a careful reader then finds
    // the welcome and the acknowledgement, in that order, whether they came in one recv() or two.
    let out = python_against(
        port,
        r#"
import io, pickle, socket, sys
for _ in range(20):
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.settimeout(10)
    s.send(pickle.dumps({'student_name': 'Eager', 'github_username': 'e', 'sid': 4}))
    data = b''
    while len(data) < 34:
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    f = io.BytesIO(data)
    welcome, ack = pickle.load(f), pickle.load(f)
    assert welcome == {'clientid': s.getsockname()[1]}, welcome
    assert ack == 1 and f.read() == b''
    s.close()
print('OK')
"#,
    );
    assert_eq!(out, "OK\n");
}
