//! The socket-lab handshake: sockkit's lab-client against Python lab servers (the current course version
//! and the older ones, every pickle protocol), and Python student clients against sockkit's lab-server,
//! including hundreds at once and hostile ones.

use std::io::Write;
use std::process::Stdio;

use crate::harness::*;

/// The course's lab server, written from PROTOCOL.md: `PROTO` is the pickle protocol it writes, `WELCOME`
/// is `dict` (current), `int` (older) or `split` (the dict sent one byte at a time), `ACK` is `yes`, `no`
/// (older: never acknowledges) or `joined` (welcome and ack sent in one write, before the record).
const PY_LAB_SERVER: &str = r#"
import pickle, socket, sys, time
proto, welcome, ack = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0))
s.listen()
print('PORT', s.getsockname()[1], flush=True)
conn, addr = s.accept()
hello = pickle.dumps(addr[1] if welcome == 'int' else {'clientid': addr[1]}, protocol=proto)
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
if ack == 'yes':
    conn.send(pickle.dumps(1, protocol=proto))
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
    let (code, out, err, _s) = client_against(4, "dict", "yes", &["-v"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("--> sent 83 bytes"), "{out}");
    assert!(out.contains("<-- received 29 bytes"), "{out}");
    assert!(out.contains("<-- received 5 bytes"), "{out}");
    assert!(out.contains("80 04 4b 01 2e"), "{out}");
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
    'name not str': pickle.dumps({'student_name': 42, 'github_username': 'g', 'sid': 1}),
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
        "must be a str",
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
        err.contains("1 students acknowledged, 0 clients rejected"),
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
    let log = server.stderr.wait_contains("refused by --allow/--deny");
    assert!(log.starts_with("sockkit: 127.0.0.1:"), "{log}");
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
