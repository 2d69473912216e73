//! `--mode pickle` with Python as the oracle: pickles made by python3 at test time, every protocol, split
//! and joined across writes, must print exactly as Python's repr; hostile pickles must give a clear error
//! and never crash, hang or run anything.

use crate::harness::*;

/// A Python server that sends the pickles of `OBJECTS` (protocols 0 to 5) in chunks of random sizes, and
/// prints Python's repr of each object to its stdout, one per line, after `EXPECTED`.
const PY_ORACLE: &str = r#"
import pickle, random, socket, sys, time
d = {'a': 1}
rec = []; rec.append(rec)
nested = []
for i in range(50):
    nested = [nested, i]
OBJECTS = [
    0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, 2**63, -2**100, 10**50,
    0.0, -0.0, 1.0, 0.1, 1e16, 1e15, 1.5e-07, 1e-05, 0.0001, float('inf'), float('-inf'), float('nan'),
    1e308, 5e-324, 123456.789, -2.5,
    '', 'abc', "it's", 'say "hi"', 'both \' and "', 'tab\there\nnewline', 'é中😀', '\x00\x7f\x85', '\u200b\u2028\xa0', '\\',
    b'', b'bytes', b"it's", b'\x00\xff\n', bytearray(b'ba'),
    True, False, None,
    (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4),
    [], [1, [2, [3]]], {}, {'b': 1, 'a': [1, 2], 3: None, (1, 2): 'tuple key'},
    set(), {1, 2, 3}, frozenset(), frozenset({'x'}),
    [d, d], rec, nested, {'k': {'k': {'k': {}}}},
    list(range(2000)), {i: str(i) for i in range(50)}, 'x' * 70000, b'y' * 70000,
]
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
print('PORT', s.getsockname()[1], flush=True)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
stream = b''
print('EXPECTED', flush=True)
for proto in range(6):
    for obj in OBJECTS:
        stream += pickle.dumps(obj, protocol=proto)
        print(repr(obj), flush=True)
rnd = random.Random(int(sys.argv[1]))
i = 0
while i < len(stream):
    n = rnd.choice([1, 2, 3, 7, 64, 1000, 5000, 100000])
    c.sendall(stream[i:i + n])
    i += n
    if rnd.random() < 0.05:
        time.sleep(0.001)
c.close()
"#;

#[test]
fn every_type_and_protocol_prints_as_python() {
    for seed in ["1", "2"] {
        let mut server = Proc::python(PY_ORACLE, &[seed]);
        let port = server.stdout_port().to_string();
        let mut client = Proc::sockkit_null(&["connect", "--mode", "pickle", "127.0.0.1", &port]);
        let (code, out, err) = client.finish();
        server.wait();
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(err, "", "no warnings expected for plain data");
        let expected = server.stdout.text();
        let expected = expected.split("EXPECTED\n").nth(1).unwrap();
        let got = String::from_utf8(out).unwrap();
        let (want_lines, got_lines): (Vec<&str>, Vec<&str>) =
            (expected.lines().collect(), got.lines().collect());
        assert_eq!(got_lines.len(), want_lines.len(), "one line per pickle");
        for (i, (g, w)) in got_lines.iter().zip(&want_lines).enumerate() {
            assert_eq!(
                g,
                w,
                "pickle #{i} (protocol {})",
                i / (want_lines.len() / 6)
            );
        }
    }
}

#[test]
fn len32_framing_of_multiprocessing_connection() {
    let mut server = Proc::python(
        "import pickle, socket, struct\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, _ = s.accept()\n\
         for obj in [{'cmd': 'run', 'args': (1, 2)}, [b'x'] * 3, 'done']:\n\
         \x20   b = pickle.dumps(obj)\n\
         \x20   c.sendall(struct.pack('!i', len(b)) + b)\n\
         c.close()",
        &[],
    );
    let port = server.stdout_port().to_string();
    let (code, out, err) = run_sockkit(
        &[
            "connect",
            "--mode",
            "pickle",
            "--framing",
            "len32",
            "127.0.0.1",
            &port,
        ],
        b"",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "{'cmd': 'run', 'args': (1, 2)}\n[b'x', b'x', b'x']\n'done'\n"
    );
    server.wait();
}

/// Sends `payload` (Python bytes expression) from a Python server to `sockkit connect --mode pickle`.
fn show(payload: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let script = format!(
        "import os, pickle, socket, struct\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, _ = s.accept()\n\
         c.sendall({payload})\n\
         c.close()"
    );
    let mut server = Proc::python(&script, &[]);
    let port = server.stdout_port().to_string();
    let mut args = vec!["connect", "--mode", "pickle"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["127.0.0.1", &port]);
    let (code, out, err) = run_sockkit(&args, b"");
    server.wait();
    (code, String::from_utf8_lossy(&out).into_owned(), err)
}

#[test]
fn truncated_at_end_of_stream() {
    let (code, out, err) = show("pickle.dumps({'a': 1}) + pickle.dumps([1, 2, 3])[:7]", &[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        "{'a': 1}\n<truncated pickle: 7 bytes: 80 04 95 0b 00 00 00>\n"
    );
    assert!(
        err.contains("ended in the middle of a pickle (7 bytes)"),
        "{err}"
    );
}

#[test]
fn four_gigabyte_declared_length() {
    let (code, out, err) = show(
        "b'\\x80\\x04\\x8d' + struct.pack('<Q', 4 << 30) + b'abc' + pickle.dumps('after')",
        &[],
    );
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("<not a pickle: declares a 4294967296-byte argument"),
        "{out}"
    );
    assert_eq!(lines.last(), Some(&"'after'"), "decoding resumed: {out}");
    assert!(err.contains("invalid pickle data"), "{err}");
}

#[test]
fn hundred_thousand_levels_of_nesting() {
    // MARK-nested lists, and lists nested through the memo with a constant stack.
    let (code, out, _) = show(
        "b'\\x80\\x02' + b'(' * 100000 + b'l' * 100000 + b'.' + pickle.dumps(1)",
        &[],
    );
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("<not a pickle: nesting deeper than 1000 levels"),
        "{out}"
    );
    assert!(out.ends_with("\n1\n"), "{out}");
    let chain = "b'\\x80\\x02]q\\x00' + b']q\\x01h\\x00a0h\\x01q\\x000' * 100000 + b'0h\\x00.'";
    let (code, out, err) = show(chain, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "<unprintable pickle: nested deeper than 1000 levels>\n"
    );
}

#[test]
fn a_million_marks() {
    let (code, out, _) = show("b'\\x80\\x04' + b'(' * 1000000 + b'.'", &[]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("<not a pickle: nesting deeper than 1000 levels"),
        "{out}"
    );
}

#[test]
fn memo_reuse_blow_up() {
    // 60 levels of [a, a]: 2^60 leaves when expanded.
    let script = "pickle.dumps(__import__('functools').reduce(lambda a, _: [a, a], range(60), []))";
    let (code, out, err) = show(script, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("<unprintable pickle: its repr is larger than"),
        "{}",
        &out[..out.len().min(200)]
    );
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn os_system_is_shown_never_run() {
    let marker = std::env::temp_dir().join(format!("sockkit-pwned-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let payload = format!(
        "pickle.dumps(type('E', (), {{'__reduce__': lambda self: (os.system, ('touch {}',))}})())",
        marker.display()
    );
    let (code, out, err) = show(&payload, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out,
        format!("<global posix.system>('touch {}')\n", marker.display())
    );
    assert!(err.contains("names posix.system"), "{err}");
    assert!(!marker.exists(), "the pickle ran its command");
}

#[test]
fn random_bytes_never_crash() {
    for seed in 0..4 {
        let (code, out, err) = show(
            &format!("__import__('random').Random({seed}).randbytes(300000) + pickle.dumps('end')"),
            &[],
        );
        assert_eq!(code, Some(0), "{err}");
        assert!(
            out.ends_with("'end'\n"),
            "seed {seed}: {}",
            &out[out.len().saturating_sub(200)..]
        );
        for line in out.lines() {
            assert!(!line.is_empty());
        }
    }
}

#[test]
fn oversized_message_is_skipped() {
    let (code, out, _) = show(
        "pickle.dumps('x' * 5000) + pickle.dumps(2)",
        &["--max-message", "1000"],
    );
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("<not a pickle: declares a 5000-byte argument, over the 1000-byte"),
        "{out}"
    );
    assert_eq!(lines.last(), Some(&"2"));
}
