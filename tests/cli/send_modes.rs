//! `--send hex` and `--send pickle`: what a python3 server receives from `sockkit connect`, and how
//! bad lines are reported.

use crate::harness::{run_sockkit, Proc};

/// A one-shot TCP server: prints `PORT n`, reads until the client closes, then reports.
/// `hex` mode prints the bytes received; `pickle` mode loads successive pickles from the bytes and
/// compares each with the literal text given (hex-encoded) in argv, printing one verdict per line:
/// `EXACT` (same bytes as `pickle.dumps(eval(text), protocol)`), `EQUAL` (same value and types), or
/// `BAD ...`.
const SERVER: &str = r#"
import socket, sys, pickle, io, ast, math
def same(a, b):
    if type(a) is not type(b): return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(k1, k2) and same(v1, v2) for (k1, v1), (k2, v2) in zip(a.items(), b.items()))
    return a == b
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
s.settimeout(20)
print('PORT', s.getsockname()[1], flush=True)
c, _ = s.accept()
c.settimeout(20)
data = b''
while True:
    b = c.recv(65536)
    if not b: break
    data += b
mode = sys.argv[1]
if mode == 'hex':
    print('HEX', data.hex())
else:
    protocol = int(sys.argv[2])
    texts = [bytes.fromhex(h).decode() for h in sys.argv[3:]]
    f = io.BytesIO(data)
    pickles = []
    while f.tell() < len(data):
        start = f.tell()
        obj = pickle.Unpickler(f).load()
        pickles.append((obj, data[start:f.tell()]))
    print('COUNT', len(pickles), 'EXPECTED', len(texts))
    for text, (obj, raw) in zip(texts, pickles):
        try:
            want = ast.literal_eval(text)
        except Exception:
            want = eval(text)
        if not same(obj, want):
            print('BAD %r: loads gives %r' % (text, obj))
        elif pickle.dumps(eval(text), protocol) == raw:
            print('EXACT')
        else:
            print('EQUAL')
c.close()
print('DONE')
"#;

/// Literals a person might type: big ints, nesting, every string form, sets, shared strings.
const LITERALS: &[&str] = &[
    "{'clientid': 60644}",
    "1",
    "{'student_name': 'Alice Brown', 'github_username': 'abrown', 'sid': 123456789}",
    "-170141183460469231731687303715884105729",
    "0x_dead_beef_dead_beef_dead_beef",
    "[1, [2, [3, [4, [5, {'deep': ({'er': None},)}]]]]]",
    r#"('single', "double", '''triple''', """triple double""", r'raw\n', b'bytes\x00\xff', rb'\d')"#,
    r#"'escapes: \n \t \\ \' \" \x41 \101 \u00e9 \U0001F600 é€😀'"#,
    "'adjacent' \"strings\" 'join'",
    "{'b': 2, 'a': 1, 'b': 3}",
    "[1.5, -0.0, 1e16, 1.5e-07, True, False, None, (), (1,), [], {}]",
    "{(1, 'a'), frozenset({2})}",
    "['shared', 'shared', ('t', 1), ('t', 1)]",
    "  [1, 2, 3,]  # trailing comma and a comment",
    "[1+2j, -0j, 1-0j, 2J, (0.5-1.5e3j, 1+2j), ..., ...]",
    r"b'\777\101'",
];

fn hex_args(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| hex::encode(t.as_bytes())).collect()
}

/// Sends `input` with `sockkit connect <extra> 127.0.0.1 PORT` to a server started with
/// `server_args`; returns (sockkit exit code, sockkit stderr, server stdout).
fn send_to_python(
    server_args: &[String],
    extra: &[&str],
    input: &[u8],
) -> (Option<i32>, String, String) {
    let args: Vec<&str> = server_args.iter().map(String::as_str).collect();
    let mut server = Proc::python(SERVER, &args);
    let port = server.stdout_port().to_string();
    let mut cmd = vec!["connect"];
    cmd.extend_from_slice(extra);
    cmd.extend_from_slice(&["127.0.0.1", &port]);
    let (code, _out, err) = run_sockkit(&cmd, input);
    let (_, out, server_err) = server.finish();
    let out = String::from_utf8_lossy(&out).into_owned();
    assert!(out.contains("DONE"), "server failed: {out}\n{server_err}");
    (code, err, out)
}

fn verdicts(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with("EXACT") || l.starts_with("EQUAL") || l.starts_with("BAD"))
        .collect()
}

#[test]
fn pickle_lines_load_in_python_as_eval_reads_them_at_every_protocol() {
    let input: String = LITERALS.iter().map(|l| format!("{l}\n")).collect();
    for protocol in 0..=5u8 {
        let p = protocol.to_string();
        let mut server_args = vec!["pickle".to_string(), p.clone()];
        server_args.extend(hex_args(LITERALS));
        let (code, err, out) = send_to_python(
            &server_args,
            &["--send", "pickle", "--pickle-protocol", &p],
            input.as_bytes(),
        );
        assert_eq!(code, Some(0), "protocol {protocol}: stderr {err}");
        assert!(
            out.contains(&format!(
                "COUNT {} EXPECTED {}",
                LITERALS.len(),
                LITERALS.len()
            )),
            "protocol {protocol}: {out}"
        );
        let v = verdicts(&out);
        assert_eq!(v.len(), LITERALS.len(), "protocol {protocol}: {out}");
        for (text, verdict) in LITERALS.iter().zip(&v) {
            // Sets are written in the order typed, Python writes them in hash order: equal values.
            let want_exact = !text.contains("frozenset");
            assert!(
                *verdict == "EXACT" || (!want_exact && *verdict == "EQUAL"),
                "protocol {protocol}, {text}: {verdict}"
            );
        }
    }
}

#[test]
fn pickle_default_protocol_is_4_like_python_3_8_to_3_13() {
    let texts = ["{'clientid': 60644}", "1"];
    let mut server_args = vec!["pickle".to_string(), "4".to_string()];
    server_args.extend(hex_args(&texts));
    let (code, err, out) = send_to_python(
        &server_args,
        &["--send", "pickle"],
        b"{'clientid': 60644}\r\n1\n",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(verdicts(&out), ["EXACT", "EXACT"], "{out}");
}

#[test]
fn hex_lines_arrive_as_the_exact_bytes() {
    let input = "48656c6c6f\n\n2c 20 77 6F 72\t6c 64\r\n   \n00ff 80 0a\n";
    let (code, err, out) =
        send_to_python(&["hex".to_string()], &["--send", "hex"], input.as_bytes());
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains(&format!(
            "HEX {}",
            hex::encode(b"Hello, world\x00\xff\x80\n")
        )),
        "{out}"
    );
    assert!(err.is_empty(), "unexpected stderr: {err}");
}

#[test]
fn bad_hex_lines_are_reported_and_skipped() {
    let input = "4142\n41 4g 43\n4344\n123\n45\n";
    let (code, err, out) =
        send_to_python(&["hex".to_string()], &["--send", "hex"], input.as_bytes());
    assert_eq!(code, Some(1), "exit status after bad lines; stderr {err}");
    assert!(
        out.contains(&format!("HEX {}", hex::encode(b"ABCDE"))),
        "{out}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one line per bad input line: {err}");
    assert!(
        lines[0].contains("line 2, column 5") && lines[0].contains("'g' is not a hex digit"),
        "{err}"
    );
    assert!(
        lines[1].contains("line 4, column 3") && lines[1].contains("odd number"),
        "{err}"
    );
}

#[test]
fn bad_pickle_lines_are_reported_and_skipped() {
    let good = ["[1, 2]", "'ok'", "{'a': (1,)}"];
    let input = "[1, 2]\n[1, (2, 3]\n'ok'\n{[1]: 2}\n{'a': (1,)}\n[1, 2\n'unterminated\n";
    let mut server_args = vec!["pickle".to_string(), "4".to_string()];
    server_args.extend(hex_args(&good));
    let (code, err, out) = send_to_python(&server_args, &["--send", "pickle"], input.as_bytes());
    assert_eq!(code, Some(1), "exit status after bad lines; stderr {err}");
    assert!(
        out.contains("COUNT 3 EXPECTED 3"),
        "only the good lines were sent: {out}"
    );
    assert_eq!(verdicts(&out), ["EXACT", "EXACT", "EXACT"], "{out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "one line per bad input line: {err}");
    assert!(
        lines[0].contains("line 2, column 10") && lines[0].contains("does not match"),
        "{err}"
    );
    assert!(
        lines[1].contains("line 4, column 2") && lines[1].contains("unhashable type: 'list'"),
        "{err}"
    );
    assert!(
        lines[2].contains("line 6, column 6") && lines[2].contains("never closed"),
        "{err}"
    );
    assert!(
        lines[3].contains("line 7, column 14") && lines[3].contains("unterminated string"),
        "{err}"
    );
}
