//! `--mode pickle`: python3 writes pickles at test time and sockkit must print each one exactly as
//! Python's `repr` does, however the bytes are split; hostile input gives a clear report, never a
//! crash, a hang or anything executed.

use std::io::Write;
use std::net::{Shutdown, TcpStream};

use crate::harness::{local, random_bytes, Proc};

/// Values covering every type and quoting rule; each is pickled at protocols 0 to 5.
const VALUES: &str = r#"
import math
d = {'a': 1}
rec = []
rec.append(rec)
recd = {}
recd['self'] = recd
VALUES = [
    None, True, False, 0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**63, -2**63 - 1, 2**200, -3**150,
    1.0, -0.0, 1e16, 1e15, 1.5e-07, 0.0001, 1e-05, 0.1, 123.456, float('inf'), float('-inf'), float('nan'),
    1.7976931348623157e308, 5e-324,
    '', 'abc', "it's", 'say "hi"', 'both \' and "', 'tab\there\nnewline\r\\', '\x00\x7f\x80\xa0\xad',
    'é€😀\u200b\ue000\U000e0001\ud800', 'x' * 300,
    b'', b'abc', b"it's", b'\x00\xff\n', bytearray(b"a'b"), bytearray(),
    (), (1,), (1, 2), [], [1, [2, [3, []]]], {}, {'b': 1, 'a': 2, 3: 'c'}, set(), {1, 2, 3}, frozenset(), frozenset({5}),
    [d, d], (d, [d]), rec, recd, 1+2j, complex(0, -1), {'clientid': 60644},
    {'student_name': 'Alice Brown', 'github_username': 'abrown', 'sid': 123456789},
    list(range(2500)), {str(i): i for i in range(1200)},
]
"#;

/// Runs python3 to pickle `VALUES`: returns (pickle, Python's repr of it loaded) per value and protocol.
fn python_cases() -> Vec<(Vec<u8>, String)> {
    let script = format!(
        "{VALUES}\nimport pickle\nfor v in VALUES:\n    for p in range(6):\n        b = pickle.dumps(v, p)\n        print(b.hex(), repr(pickle.loads(b)), sep='\\t')\n"
    );
    let mut p = Proc::python(&script, &[]);
    p.close_stdin();
    let (code, out, err) = p.finish();
    assert_eq!(code, Some(0), "python3 failed: {err}");
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let (h, r) = l.split_once('\t').unwrap();
            (hex::decode(h).unwrap(), r.to_string())
        })
        .collect()
}

/// `sockkit listen --recv-only --mode pickle 127.0.0.1 0 EXTRA...` and its port.
fn listener(extra: &[&str]) -> (Proc, u16) {
    let mut args = vec!["listen", "--recv-only", "--mode", "pickle"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["127.0.0.1", "0"]);
    let p = Proc::sockkit_null(&args);
    let port = p.listening_port();
    (p, port)
}

/// Connects, writes `data` in pieces of `chunk` bytes (each flushed), then closes.
fn send(port: u16, data: &[u8], chunk: usize) {
    let mut s = TcpStream::connect(local(port)).expect("connect to sockkit");
    s.set_nodelay(true).unwrap();
    for piece in data.chunks(chunk.max(1)) {
        s.write_all(piece).unwrap();
        s.flush().unwrap();
    }
    s.shutdown(Shutdown::Write).unwrap();
}

/// Sends `data` to a fresh single-client listener; returns (exit code, stdout, stderr).
fn display(data: &[u8], chunk: usize, extra: &[&str]) -> (Option<i32>, String, String) {
    let (mut p, port) = listener(extra);
    send(port, data, chunk);
    let (code, out, err) = p.finish();
    (code, String::from_utf8(out).expect("stdout is UTF-8"), err)
}

fn compare(cases: &[(Vec<u8>, String)], got: &str) {
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines.len(), cases.len(), "one line per pickle");
    for (i, ((p, want), line)) in cases.iter().zip(&lines).enumerate() {
        assert_eq!(
            line,
            want,
            "pickle {i} ({})",
            hex::encode(&p[..p.len().min(80)])
        );
    }
}

fn joined(cases: &[(Vec<u8>, String)]) -> Vec<u8> {
    cases.iter().flat_map(|(p, _)| p.iter().copied()).collect()
}

#[test]
fn every_type_and_protocol_matches_python_repr() {
    let cases = python_cases();
    assert!(cases.len() >= 300, "{} cases", cases.len());
    let (code, out, err) = display(&joined(&cases), 1 << 20, &[]);
    assert_eq!(code, Some(0), "{err}");
    compare(&cases, &out);
    assert!(
        !err.contains("warning"),
        "no globals in these values: {err}"
    );
}

#[test]
fn pickles_split_across_many_writes_print_once_each() {
    let cases = python_cases();
    let data = joined(&cases);
    for chunk in [1usize, 7, 4093] {
        // Writes of 1 byte are slow over TCP: a prefix of the stream is enough for them.
        let n = if chunk == 1 { 60 } else { cases.len() };
        let part = joined(&cases[..n]);
        let (code, out, err) = display(if chunk == 1 { &part } else { &data }, chunk, &[]);
        assert_eq!(code, Some(0), "{err}");
        compare(&cases[..n], &out);
    }
}

#[test]
fn python_peer_sending_byte_by_byte() {
    let (mut p, port) = listener(&[]);
    let script = "import pickle, socket, sys\n\
        s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n\
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n\
        data = b''.join(pickle.dumps({'n': i, 'sq': [i * i, str(i)]}, i % 6) for i in range(20))\n\
        for i in range(len(data)):\n    s.send(data[i:i + 1])\n\
        s.close()\n";
    let mut py = Proc::python(script, &[&port.to_string()]);
    let (_, out, err) = p.finish();
    assert_eq!(py.wait().code(), Some(0));
    let want: Vec<String> = (0..20)
        .map(|i| format!("{{'n': {i}, 'sq': [{}, '{i}']}}", i * i))
        .collect();
    assert_eq!(
        String::from_utf8(out).unwrap().lines().collect::<Vec<_>>(),
        want,
        "{err}"
    );
}

#[test]
fn len32_framing_from_multiprocessing_connection() {
    let (mut p, port) = listener(&["--framing", "len32"]);
    let script = "import sys\n\
        from multiprocessing.connection import Client\n\
        c = Client(('127.0.0.1', int(sys.argv[1])))\n\
        for v in [{'a': 1}, [1, 2.5, 'x'], b'\\x00', None]:\n    c.send(v)\n\
        c.close()\n";
    let mut py = Proc::python(script, &[&port.to_string()]);
    let (_, out, err) = p.finish();
    assert_eq!(py.wait().code(), Some(0));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{'a': 1}\n[1, 2.5, 'x']\nb'\\x00'\nNone\n",
        "{err}"
    );
}

const VALID: &[u8] =
    b"\x80\x04\x95\x12\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x08clientid\x94M\xe4\xecs.";
const VALID_REPR: &str = "{'clientid': 60644}";

#[test]
fn hostile_truncated_message_is_reported_with_its_bytes() {
    let (code, out, err) = display(&VALID[..20], 1 << 16, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        format!("# truncated, 20 bytes: {}\n", spaced_hex(&VALID[..20]))
    );
    assert!(err.contains("ended inside a pickle"), "{err}");
}

fn spaced_hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn hostile_4_gb_declared_lengths_fail_at_once_and_decoding_resumes() {
    for opcode in [0x8du8, 0x8e, 0x96, 0x95] {
        // BINUNICODE8, BINBYTES8, BYTEARRAY8, FRAME claiming 4 GiB, then a few bytes and a real pickle.
        let mut data = vec![0x80, 0x04, opcode];
        data.extend_from_slice(&(4u64 << 30).to_le_bytes());
        data.extend_from_slice(b"abc");
        data.extend_from_slice(VALID);
        let (code, out, err) = display(&data, 1 << 16, &[]);
        assert_eq!(code, Some(0));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with("# invalid, 14 bytes: 80 04"), "{out}");
        assert_eq!(lines[1], VALID_REPR);
        assert!(err.contains("limit"), "{err}");
    }
    // BINBYTES with a 32-bit length just under 4 GiB, at protocol 3.
    let mut data = b"\x80\x03B".to_vec();
    data.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    data.extend_from_slice(VALID);
    let (_, out, _) = display(&data, 1 << 16, &[]);
    assert!(out.ends_with(&format!("{VALID_REPR}\n")), "{out}");
}

#[test]
fn hostile_100000_levels_of_nesting() {
    let n = 100_000;
    let mut data = b"\x80\x04".to_vec();
    data.extend(std::iter::repeat_n(b']', n));
    data.extend(std::iter::repeat_n(b'a', n - 1));
    data.push(b'.');
    // And the same nesting through MARK ... TUPLE at protocol 0.
    data.extend(std::iter::repeat_n(b'(', n / 20));
    data.push(b'N');
    data.extend(std::iter::repeat_n(b't', n / 20));
    data.push(b'.');
    data.extend_from_slice(VALID);
    let (code, out, err) = display(&data, 1 << 16, &[]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], format!("# unshowable, {} bytes", 2 * n + 2));
    assert!(lines[1].starts_with("# unshowable"), "{}", lines[1]);
    assert_eq!(lines[2], VALID_REPR);
    assert!(err.contains("nested deeper than 1000 levels"), "{err}");
}

#[test]
fn hostile_a_million_marks() {
    let mut data = b"\x80\x04".to_vec();
    data.extend(std::iter::repeat_n(b'(', 1_000_000));
    data.extend_from_slice(VALID);
    let (code, out, err) = display(&data, 1 << 16, &[]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("# invalid, 1000002 bytes: 80 04 28 28"),
        "{}",
        &out[..100]
    );
    assert!(lines[0].ends_with(" ..."));
    assert_eq!(lines[1], VALID_REPR);
    assert_eq!(lines.len(), 2);
    assert!(err.contains("MARKs open"), "{err}");
}

#[test]
fn hostile_memo_reuse_blow_up() {
    // a0 = []; a_{i+1} = [a_i, a_i]: 100 levels is 2**100 lists once expanded.
    let mut data = b"\x80\x04]\x94".to_vec();
    for i in 0..100u32 {
        data.extend_from_slice(b"]\x94(j");
        data.extend_from_slice(&i.to_le_bytes());
        data.push(b'j');
        data.extend_from_slice(&i.to_le_bytes());
        data.extend_from_slice(b"e0");
    }
    data.push(b'j');
    data.extend_from_slice(&100u32.to_le_bytes());
    data.push(b'.');
    data.extend_from_slice(VALID);
    let (code, out, err) = display(&data, 1 << 16, &[]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{}", &out[..out.len().min(200)]);
    assert!(lines[0].starts_with("# unshowable"));
    assert_eq!(lines[1], VALID_REPR);
    assert!(err.contains("shared sub-objects"), "{err}");
}

#[test]
fn hostile_os_system_reduce_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let script = "import os, pickle, sys\n\
        class Evil:\n    def __reduce__(self):\n        return (os.system, ('touch ' + sys.argv[1],))\n\
        sys.stdout.write(b''.join(pickle.dumps(Evil(), p) for p in range(6)).hex())\n";
    let mut py = Proc::python(script, &[marker.to_str().unwrap()]);
    py.close_stdin();
    let (_, hexed, _) = py.finish();
    let data = hex::decode(hexed).unwrap();
    let (code, out, err) = display(&data, 1 << 16, &[]);
    assert_eq!(code, Some(0));
    assert!(!marker.exists(), "the command ran!");
    let want = format!("<call posix.system('touch {}')>", marker.display());
    assert_eq!(out.lines().collect::<Vec<_>>(), vec![want.as_str(); 6]);
    assert!(
        err.contains("posix.system: shown as text, nothing imported or called"),
        "{err}"
    );
}

#[test]
fn hostile_random_bytes_then_the_server_keeps_serving() {
    let (mut p, port) = listener(&["-k"]);
    send(port, &random_bytes(256 * 1024, 7), 4096);
    // A second client on the same server is decoded normally.
    send(port, VALID, 1 << 16);
    p.stdout.wait_contains(VALID_REPR);
    // Whatever the noise decoded to, stdout stays UTF-8 text, one non-empty line per event.
    let text = String::from_utf8(p.stdout.bytes()).expect("stdout is UTF-8");
    assert!(text.lines().all(|l| !l.is_empty()));
    assert!(p.stderr.text().contains("invalid pickle data"));
    assert!(p.child.try_wait().unwrap().is_none(), "still running");
}
