//! UDP: `udp-listen` and `udp-send` against Python peers, as in the echo tutorial.

use std::net::UdpSocket;

use crate::harness::*;

/// The tutorial's UDP client (PROTOCOL.md section 2): sends to ('localhost', PORT), prints the reply and
/// where it came from.
const PY_UDP_CLIENT: &str = r#"
import socket, sys
port, msg = int(sys.argv[1]), sys.argv[2].encode()
fam = socket.getaddrinfo('localhost', port, type=socket.SOCK_DGRAM)[0][0]
with socket.socket(fam, socket.SOCK_DGRAM) as s:
    s.settimeout(20)
    s.sendto(msg, ('localhost', port))
    print('SENT', flush=True)
    data, addr = s.recvfrom(1024)
    print(f"Received (from {addr[:2]}): {data!r}", flush=True)
"#;

fn udp_listener(extra: &[&str]) -> (Proc, u16) {
    let mut args = vec!["udp-listen"];
    args.extend_from_slice(extra);
    args.push("0");
    let p = Proc::sockkit(&args);
    let port = p.listening_port();
    (p, port)
}

#[test]
fn the_echo_tutorial_for_real() {
    let (mut listener, port) = udp_listener(&[]);
    let mut client = Proc::python(PY_UDP_CLIENT, &[&port.to_string(), "Hello, world"]);
    listener.stdout.wait_contains("Hello, world");
    client.stdout.wait_contains("SENT");
    listener.write(b"This is our typed response\n");
    let (code, out, err) = client.finish();
    assert_eq!(code, Some(0), "{err}");
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.contains(&format!("', {port})): b'This is our typed response\\n'")),
        "{out}"
    );
    // Raw output is exactly the payload.
    assert_eq!(listener.stdout.bytes(), b"Hello, world");
}

#[test]
fn two_senders_both_printed_and_both_answerable() {
    let (mut listener, port) = udp_listener(&["--show-sender"]);
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
    }
    a.send_to(b"from a", local(port)).unwrap();
    let a_addr = a.local_addr().unwrap();
    listener
        .stdout
        .wait_contains(&format!("{a_addr} 6\nfrom a\n"));
    listener.write(b"answer a\n");
    let mut buf = [0u8; 100];
    let (n, from) = a.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"answer a\n");
    assert_eq!(from.port(), port);
    // b speaks next and becomes the one answered (nc would ignore it).
    b.send_to(b"from b", local(port)).unwrap();
    listener
        .stdout
        .wait_contains(&format!("{} 6\nfrom b\n", b.local_addr().unwrap()));
    listener.write(b"answer b\n");
    let (n, _) = b.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"answer b\n");
}

#[test]
fn empty_and_largest_datagrams_intact() {
    let (listener, port) = udp_listener(&["--show-sender", "--count", "3"]);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let big = random_bytes(65_507, 7);
    s.send_to(b"", local(port)).unwrap();
    s.send_to(&big, local(port)).unwrap();
    s.send_to(b"x", local(port)).unwrap();
    let mut listener = listener;
    let (code, out, err) = listener.finish();
    assert_eq!(code, Some(0), "--count 3 ends it: {err}");
    let me = s.local_addr().unwrap();
    let mut want = format!("{me} 0\n\n{me} 65507\n").into_bytes();
    want.extend_from_slice(&big);
    want.extend_from_slice(format!("\n{me} 1\nx\n").as_bytes());
    assert!(
        out == want,
        "datagrams split, joined or altered ({} bytes out)",
        out.len()
    );
}

#[test]
fn echo_sends_each_datagram_back() {
    let (_listener, port) = udp_listener(&["--echo"]);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0u8; 100];
    for msg in [&b"one"[..], b"two"] {
        s.send_to(msg, local(port)).unwrap();
        let (n, _) = s.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], msg);
    }
}

#[test]
fn listener_hex_and_pickle_modes() {
    let (mut hex, port) = udp_listener(&["-x", "--count", "1"]);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.send_to(b"AB", local(port)).unwrap();
    let (code, out, _) = hex.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out),
        "00000000  41 42                                             |AB|\n00000002\n"
    );
    let (mut pk, port) = udp_listener(&["--mode", "pickle", "--count", "2"]);
    let mut py = Proc::python(
        "import pickle, socket, sys\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.sendto(pickle.dumps({'a': (1, 2.5)}), ('127.0.0.1', int(sys.argv[1])))\n\
         s.sendto(pickle.dumps([None, b'x'], protocol=2), ('127.0.0.1', int(sys.argv[1])))",
        &[&port.to_string()],
    );
    py.finish();
    let (code, out, _) = pk.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out),
        "{'a': (1, 2.5)}\n[None, b'x']\n"
    );
}

/// A Python UDP echo server that answers each datagram twice: at once, and again after 0.3 s.
const PY_UDP_ECHO: &str = r#"
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print('PORT', s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(65536)
    s.sendto(b'now:' + data, addr)
    time.sleep(0.3)
    s.sendto(b'later:' + data, addr)
"#;

#[test]
fn udp_send_waits_for_immediate_and_delayed_replies() {
    let server = Proc::python(PY_UDP_ECHO, &[]);
    let port = server.stdout_port().to_string();
    let (code, out, err) = run_sockkit(&["udp-send", "127.0.0.1", &port, "ping"], b"");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "now:pinglater:ping");
    // --count 1 stops at the first reply.
    let (code, out, _) = run_sockkit(
        &["udp-send", "--count", "1", "127.0.0.1", &port, "ping"],
        b"",
    );
    assert_eq!(code, Some(0));
    assert_eq!(out, b"now:ping");
    // stdin lines are datagrams; --show-sender names who answered.
    let (code, out, _) = run_sockkit(
        &[
            "udp-send",
            "--show-sender",
            "--count",
            "2",
            "127.0.0.1",
            &port,
        ],
        b"a\n",
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out),
        format!("127.0.0.1:{port} 6\nnow:a\n\n127.0.0.1:{port} 8\nlater:a\n\n")
    );
}

#[test]
fn udp_send_reports_no_listener_and_no_reply() {
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port().to_string()
    };
    let (code, out, err) = run_sockkit(&["udp-send", "127.0.0.1", &port, "hello?"], b"");
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert_eq!(
        err,
        format!("sockkit: error: no UDP listener at 127.0.0.1:{port} (the host answered: port unreachable)\n")
    );
    // A listener that never answers: exit 1 after --wait, saying so.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let (code, _, err) = run_sockkit(
        &["udp-send", "--wait", "300ms", "127.0.0.1", &port, "hello?"],
        b"",
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("no reply from 127.0.0.1:"), "{err}");
    assert!(err.contains("within 300ms"), "{err}");
    // --wait 0: fire and forget, exit 0.
    let (code, _, err) = run_sockkit(&["udp-send", "--wait", "0", "127.0.0.1", &port, "x"], b"");
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn ipv6_loopback() {
    if UdpSocket::bind("[::1]:0").is_err() {
        panic!("this machine has no IPv6 loopback; the IPv6 tests need it");
    }
    let (mut listener, port) = udp_listener(&[]);
    let (code, out, err) = run_sockkit(
        &[
            "udp-send",
            "--wait",
            "0",
            "::1",
            &port.to_string(),
            "over v6",
        ],
        b"",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.is_empty());
    listener.stdout.wait_contains("over v6");
    let s = UdpSocket::bind("[::1]:0").unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.send_to(b"v6 again", ("::1", port)).unwrap();
    listener.stdout.wait_contains("v6 again");
    listener.write(b"reply over v6\n");
    let mut buf = [0u8; 64];
    let (n, from) = s.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"reply over v6\n");
    assert!(from.is_ipv6());
}

#[test]
fn udp_send_pickle_and_hex_messages() {
    let server = Proc::python(
        "import pickle, socket\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.bind(('127.0.0.1', 0))\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         for _ in range(2):\n\
         \x20   data, addr = s.recvfrom(65536)\n\
         \x20   print('GOT', repr(data), flush=True)\n\
         \x20   s.sendto(pickle.dumps(('ok', len(data))), addr)",
        &[],
    );
    let port = server.stdout_port().to_string();
    let (code, out, err) = run_sockkit(
        &[
            "udp-send",
            "--send",
            "hex",
            "--mode",
            "pickle",
            "--count",
            "1",
            "127.0.0.1",
            &port,
            "48 65 6c 6c 6f",
        ],
        b"",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "('ok', 5)\n");
    server.stdout.wait_contains("GOT b'Hello'");
    let (code, _, err) = run_sockkit(
        &[
            "udp-send",
            "--send",
            "pickle",
            "--count",
            "1",
            "127.0.0.1",
            &port,
            "{'k': [1, 2]}",
        ],
        b"",
    );
    assert_eq!(code, Some(0), "{err}");
    server.stdout.wait_contains("GOT b'\\x80\\x04\\x95");
    let (code, _, err) = run_sockkit(
        &["udp-send", "--send", "hex", "127.0.0.1", &port, "4g"],
        b"",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("column 2"), "{err}");
}
