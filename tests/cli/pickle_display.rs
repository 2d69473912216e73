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
    assert_eq!(
        lines[0],
        format!(
            "# unshowable, {} bytes (nested deeper than 1000 levels)",
            2 * n + 2
        )
    );
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
    // The first client's warnings may come after the second client's value: wait for them.
    p.stderr.wait_contains("invalid pickle data");
    assert!(p.child.try_wait().unwrap().is_none(), "still running");
}

#[test]
fn hostile_2_mb_decimal_long_is_refused_as_python_refuses_it_and_nothing_is_lost() {
    // b'L' + b'9' * 2000000 + b'L\n.': quadratic to convert, so CPython refuses it (ValueError);
    // it is the last thing the peer sends before closing, and its line must still come out.
    let mut data = b"L".to_vec();
    data.extend(std::iter::repeat_n(b'9', 2_000_000));
    data.extend_from_slice(b"L\n.");
    let (code, out, err) = display(&data, 1 << 16, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 1, "{}", &out[..out.len().min(200)]);
    assert!(
        out.starts_with("# invalid, 2000004 bytes: 4c 39 39"),
        "{}",
        &out[..100]
    );
    assert!(
        err.contains(
            "Exceeds the limit (4300 digits) for integer string conversion: value has 2000000 \
             digits; use sys.set_int_max_str_digits() to increase the limit"
        ),
        "{err}"
    );
}

#[test]
fn hostile_4_mib_long4_is_a_line_naming_the_digit_limit() {
    let n = 4 << 20;
    let mut data = b"\x80\x04\x8b".to_vec();
    data.extend_from_slice(&(n as u32).to_le_bytes());
    data.extend(std::iter::repeat_n(0x99, n - 1));
    data.push(0x19);
    data.push(b'.');
    data.extend_from_slice(VALID);
    let (code, out, err) = display(&data, 1 << 16, &[]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!(
                "# unshowable, {} bytes (an int has more than 4300 digits: Python's repr raises \
                 ValueError: Exceeds the limit (4300 digits) for integer string conversion)",
                n + 8
            )
            .as_str(),
            VALID_REPR
        ]
    );
}

#[test]
fn hostile_15_million_memoize_opcodes_decode_within_the_budget() {
    // b'\x80\x04N' + b'\x94' * 15000000 + b'.' is None to Python; its memo is charged to the
    // per-message memory budget (peak RSS is measured in bench/p10_hostile.sh).
    let mut data = b"\x80\x04N".to_vec();
    data.extend(std::iter::repeat_n(0x94, 15_000_000));
    data.push(b'.');
    data.extend_from_slice(VALID);
    let (code, out, err) = display(&data, 1 << 20, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, format!("None\n{VALID_REPR}\n"));
}

#[test]
fn hostile_object_flood_over_the_memory_budget_is_invalid() {
    // A million empty lists: 1 MB of pickle, over 30 MB of objects; the budget is 6 times
    // --max-message.
    let mut data = b"\x80\x04".to_vec();
    data.extend(std::iter::repeat_n(b']', 1_000_000));
    data.push(b'.');
    data.extend_from_slice(VALID);
    let (code, out, err) = display(&data, 1 << 16, &["--max-message", "2000000"]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{}", &out[..out.len().min(200)]);
    assert!(
        lines[0].starts_with("# invalid, 1000003 bytes: 80 04 5d"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], VALID_REPR);
    assert!(
        err.contains("decoding needs more than 12000000 bytes of memory (the per-message budget"),
        "{err}"
    );
}

#[test]
fn hostile_len32_prefix_names_the_bytes_that_arrived() {
    let (code, out, err) = display(b"\xff\xff\xff\xffab", 1 << 16, &["--framing", "len32"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "# invalid, 6 bytes: ff ff ff ff 61 62\n");
    assert!(
        err.contains("length prefix of 4294967295 bytes is over the 16777216-byte limit; the stream ended after 2 of them"),
        "{err}"
    );
}

#[test]
fn sigterm_shows_what_is_left_of_each_stream_and_ends_promptly() {
    let (mut p, port) = listener(&["-k"]);
    let mut s = TcpStream::connect(local(port)).expect("connect to sockkit");
    let mut data = VALID.to_vec();
    data.extend_from_slice(b"\x80\x04K");
    s.write_all(&data).unwrap();
    p.stdout.wait_contains(VALID_REPR);
    p.signal(15);
    let (code, out, err) = p.finish();
    assert_eq!(code, Some(143), "{err}");
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].ends_with(&format!("] {VALID_REPR}")), "{out}");
    assert!(
        lines[1].ends_with("] # truncated, 3 bytes: 80 04 4b"),
        "{out}"
    );
    drop(s);
}

#[test]
fn a_blocked_stdout_at_the_end_is_an_error_saying_what_was_not_shown() {
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    // stdout is a pipe nobody reads: once it is full, sockkit cannot show the rest, and must say so
    // (exit 1) instead of exiting 0 as if all was shown.
    let err_file = tempfile::NamedTempFile::new().unwrap();
    let mut child = Kill(
        Command::new(crate::harness::sockkit_path())
            .args(["listen", "--recv-only", "--mode", "hex", "127.0.0.1", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err_file.reopen().unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let stderr = || std::fs::read_to_string(err_file.path()).unwrap();
    let port = loop {
        if let Some(l) = stderr().lines().find(|l| l.contains("listening on ")) {
            break l.rsplit(':').next().unwrap().trim().parse::<u16>().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no 'listening on' line: {}",
            stderr()
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    // 256 KiB shown in hex is over 1 MB: far more than a pipe holds.
    send(port, &random_bytes(256 << 10, 3), 1 << 16);
    let status = loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "sockkit did not exit: {}",
            stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = stderr();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains("received bytes were not shown: stdout took nothing for 2s"),
        "{err}"
    );
}

/// Pickles python3 crafts with equal keys and set items (which `pickle.dumps` never writes, but a
/// peer can), and random sets, some shrunk before pickling, at protocols 0 to 5: each line must be
/// `repr(pickle.loads(...))`, or `# invalid` where loads raises TypeError (an unhashable key).
const MERGE_CASES: &str = r#"
import pickle, pickletools, random, sys
random.seed(int(sys.argv[1]))
def body(v, p):
    b = pickle.dumps(v, p)
    out = b''
    ops = list(pickletools.genops(b))
    for (op, arg, pos), nxt in zip(ops, ops[1:] + [(None, None, len(b))]):
        if op.name not in ('PROTO', 'FRAME', 'STOP'):
            out += b[pos:nxt[2]]
    return out
def head(p):
    return bytes([0x80, p]) if p >= 2 else b''
KEYS = [0, 1, True, False, 1.0, 0.0, -0.0, 2, 2.0, 'a', 'b', b'a', (1, 2), (True, 2.0), (1, (2,)),
        None, 1.5, 2**70, float(2**70), 1+0j, 1j, frozenset({1, 2}), frozenset({2.0, True}), float('nan'),
        'a' * 3, [], {}, (1, []), bytearray(b'x')]
SET_ITEMS = [lambda: random.randrange(-20, 300), lambda: random.randrange(-2**64, 2**64),
             lambda: random.choice([0.5, -1.0, 2.0, 1e300, 5e-324, random.random()]),
             lambda: random.choice([True, False]), lambda: (random.randrange(4), random.choice([1.0, 2, -3]))]
cases = []
for n in range(400):
    p = n % 6
    pairs = [(random.choice(KEYS[:-4] if n % 5 else KEYS), random.randrange(100)) for _ in range(random.randrange(1, 8))]
    if p >= 1 and n % 2:
        data = head(p) + b'}(' + b''.join(body(k, p) + body(v, p) for k, v in pairs) + b'u.'
    else:
        data = head(p) + b'(' + b''.join(body(k, p) + body(v, p) for k, v in pairs) + b'd.'
    cases.append(data)
    items = [random.choice(KEYS[:-7] if n % 7 else KEYS[:-4]) for _ in range(random.randrange(1, 6))]
    if all(not isinstance(i, float) or i == i for i in items):
        if p >= 4:
            data = head(p) + b'(' + b''.join(body(i, p) for i in items) + b'\x91.'
        else:
            data = head(p) + b'\x8f(' + b''.join(body(i, p) for i in items) + b'\x90.' if p >= 1 else None
        # The order of a set holding str, bytes or None depends on the Python process (hash seed,
        # addresses): those are not compared.
        if data is not None and not any(i is None or isinstance(i, (str, bytes)) for i in items):
            cases.append(data)
    gen = random.choice(SET_ITEMS)
    s = {gen() for _ in range(random.choice([1, 3, 6, 12, 40, 200]))}
    if n % 3 == 0:
        for x in list(s)[: len(s) // 2]:
            s.discard(x)
    cases.append(pickle.dumps(s, p))
    cases.append(pickle.dumps(frozenset(s), p))
for data in cases:
    try:
        r = repr(pickle.loads(data))
    except TypeError as e:
        r = '# invalid: ' + str(e)
    print(data.hex() + '\t' + r)
"#;

#[test]
fn equal_keys_and_set_items_merge_and_sets_order_as_in_python() {
    for seed in ["1", "2", "3"] {
        let mut py = Proc::python(MERGE_CASES, &[seed]);
        py.close_stdin();
        let (code, out, err) = py.finish();
        assert_eq!(code, Some(0), "python3 failed: {err}");
        let cases: Vec<(Vec<u8>, String)> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| {
                let (h, r) = l.split_once('\t').unwrap();
                (hex::decode(h).unwrap(), r.to_string())
            })
            .collect();
        assert!(cases.len() > 1000, "{} cases", cases.len());
        let (code, got, err) = display(&joined(&cases), 1 << 16, &[]);
        assert_eq!(code, Some(0), "{err}");
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines.len(), cases.len(), "one line per pickle");
        let mut invalid = 0;
        for (i, ((p, want), line)) in cases.iter().zip(&lines).enumerate() {
            if let Some(why) = want.strip_prefix("# invalid: ") {
                invalid += 1;
                assert!(
                    line.starts_with("# invalid, "),
                    "pickle {i} ({}): {line}",
                    hex::encode(p)
                );
                assert!(err.contains(why), "{why} not in stderr");
            } else {
                assert_eq!(line, want, "seed {seed} pickle {i} ({})", hex::encode(p));
            }
        }
        assert!(invalid > 5, "{invalid} unhashable cases");
    }
}

/// Standard-library values most pickles carry, at protocols 0 to 5: printed as CPython's repr,
/// with no warning, nothing imported.
const STDLIB_VALUES: &str = r#"
import collections, datetime as dt, decimal, fractions, pickle, random, uuid
random.seed(11)
tzs = [dt.timezone.utc, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5), 'EST'),
       dt.timezone(dt.timedelta(0), 'UTC'), dt.timezone(dt.timedelta(minutes=-90, seconds=7))]
VALUES = [dt.datetime(2024, 5, 6, 7, 8, 9, 123456), dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59),
    dt.datetime(2024, 5, 6, 0, 0, 5), dt.datetime(2024, 5, 6, fold=1), dt.date(2024, 1, 2), dt.time(1, 2, 3, 4),
    dt.time(0, 0), dt.time(23, 5, 6, tzinfo=tzs[2], fold=1), dt.timedelta(0), dt.timedelta(days=-1, seconds=5, microseconds=7),
    dt.timedelta(microseconds=-1), dt.timedelta(999999999), decimal.Decimal('1.10'), decimal.Decimal('-0'),
    decimal.Decimal('1E+3'), decimal.Decimal('NaN'), decimal.Decimal('-Infinity'), decimal.Decimal('1e-9'),
    fractions.Fraction(3, 4), fractions.Fraction(-10**30, 7), fractions.Fraction(0), uuid.UUID(int=12345678901234567890),
    uuid.uuid5(uuid.NAMESPACE_DNS, 'example.org'), collections.OrderedDict(a=1, b=[2]), collections.OrderedDict(),
    collections.defaultdict(list, {'a': [1]}), collections.defaultdict(None), collections.defaultdict(int),
    collections.deque([1, 2], maxlen=5), collections.deque(), collections.deque('abc'), collections.Counter('abracadabra'),
    collections.Counter(), collections.Counter({'x': 1.5, 'y': 3, 'z': True}), range(1, 10, 2), range(5), range(-3, 3, -1),
    slice(1, None, 3), slice(None), Ellipsis, NotImplemented, 1+2j, bytearray(b'x'), [dt.date(2000, 2, 29), {'t': dt.time(12)}],
    list, int, dict]
VALUES += [dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=tz) for tz in tzs] + tzs
VALUES += [dt.datetime(random.randrange(1, 9999), random.randrange(1, 13), random.randrange(1, 29), random.randrange(24),
           random.randrange(60), random.randrange(60), random.choice([0, random.randrange(10**6)])) for _ in range(40)]
VALUES += [dt.timedelta(seconds=random.uniform(-1e9, 1e9)) for _ in range(20)]
for v in VALUES:
    for p in range(6):
        b = pickle.dumps(v, p)
        print(b.hex(), repr(pickle.loads(b)), sep='\t')
"#;

#[test]
fn standard_library_values_print_as_python_does() {
    let mut py = Proc::python(STDLIB_VALUES, &[]);
    py.close_stdin();
    let (code, out, err) = py.finish();
    assert_eq!(code, Some(0), "python3 failed: {err}");
    let cases: Vec<(Vec<u8>, String)> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let (h, r) = l.split_once('\t').unwrap();
            (hex::decode(h).unwrap(), r.to_string())
        })
        .collect();
    assert!(cases.len() > 600, "{} cases", cases.len());
    let (code, got, err) = display(&joined(&cases), 1 << 16, &[]);
    assert_eq!(code, Some(0), "{err}");
    compare(&cases, &got);
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn python_2_names_are_mapped_and_other_calls_warned_once_per_connection() {
    // `__builtin__.long` is `builtins.int` to pickle.loads at protocols 0 to 2 (_compat_pickle).
    let mut data = b"c__builtin__\nlong\n.".to_vec();
    data.extend_from_slice(b"\x80\x02c__builtin__\nxrange\nK\x01K\x05K\x01\x87R.");
    for _ in 0..50 {
        data.extend_from_slice(b"\x80\x02cos\ngetcwd\n)R.");
    }
    let (code, out, err) = display(&data, 1 << 16, &[]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "<class 'int'>");
    assert_eq!(lines[1], "range(1, 5)");
    assert_eq!(lines.len(), 52);
    assert!(
        lines[2..].iter().all(|l| *l == "<call os.getcwd()>"),
        "{out}"
    );
    assert_eq!(err.matches("os.getcwd").count(), 1, "{err}");
}
