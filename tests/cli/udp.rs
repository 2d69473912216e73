//! UDP: `udp-listen` and `udp-send` against Python peers, as in the echo tutorial.

use std::net::UdpSocket;
use std::time::Duration;

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

/// The payload sender `k` sends as its `i`th datagram: it names both, and its length varies.
fn burst_payload(k: usize, i: usize) -> Vec<u8> {
    let mut p = format!("s{k} n{i};").into_bytes();
    let len = 12 + (i * 37 + k * 11) % 300;
    while p.len() < len {
        p.push(b'a' + (p.len() % 26) as u8);
    }
    p
}

/// Parses `--show-sender` raw output: `ADDRESS LENGTH\n`, LENGTH bytes, `\n`, again and again.
fn parse_show_sender(mut out: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    while !out.is_empty() {
        let nl = out.iter().position(|&b| b == b'\n').unwrap_or_else(|| {
            panic!(
                "a header without its newline: {:?}",
                String::from_utf8_lossy(out)
            )
        });
        let header = String::from_utf8_lossy(&out[..nl]).into_owned();
        let (addr, len) = header
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a header: {header:?}"));
        let len: usize = len
            .parse()
            .unwrap_or_else(|_| panic!("not a header: {header:?}"));
        let rest = &out[nl + 1..];
        assert!(rest.len() > len, "datagram cut short after {header:?}");
        assert_eq!(
            rest[len], b'\n',
            "datagram after {header:?} longer than its header says"
        );
        all.push((addr.to_string(), rest[..len].to_vec()));
        out = &rest[len + 1..];
    }
    all
}

/// The final `-v` count: (received, kernel dropped).
fn final_counts(err: &str) -> (u64, u64) {
    let line = err
        .lines()
        .rev()
        .find(|l| l.starts_with("sockkit: received "))
        .unwrap_or_else(|| panic!("no final count on stderr: {err}"));
    let words: Vec<&str> = line.split([' ', ',']).collect();
    let received = words[2].parse().unwrap();
    let dropped = words.last().unwrap().parse().unwrap();
    (received, dropped)
}

#[test]
fn burst_from_several_senders_neither_split_nor_joined() {
    const SENDERS: usize = 4;
    const EACH: usize = 2_500;
    let (mut listener, port) = udp_listener(&["-v", "--show-sender"]);
    let mut addrs = Vec::new();
    let senders: Vec<_> = (0..SENDERS)
        .map(|k| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            addrs.push(s.local_addr().unwrap().to_string());
            std::thread::spawn(move || {
                for i in 0..EACH {
                    s.send_to(&burst_payload(k, i), local(port)).unwrap();
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    // Everything sent before the marker was received or dropped (and counted) before it.
    let marker = UdpSocket::bind("127.0.0.1:0").unwrap();
    let marker_addr = marker.local_addr().unwrap().to_string();
    let seen = format!("{marker_addr} 3\nend\n").into_bytes();
    let deadline = std::time::Instant::now() + TIMEOUT;
    let mut markers = 0u64;
    loop {
        // Sent again if it was dropped too.
        marker.send_to(b"end", local(port)).unwrap();
        markers += 1;
        let arrived = |b: &[u8]| b.windows(seen.len()).any(|w| w == &seen[..]);
        if listener
            .stdout
            .holds_within(Duration::from_millis(200), arrived)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the marker never arrived"
        );
    }
    listener.signal(2);
    let (_, out, err) = listener.finish();
    let shown = parse_show_sender(&out);
    let mut got = std::collections::HashSet::new();
    let mut marker_count = 0u64;
    for (addr, payload) in &shown {
        if *addr == marker_addr {
            assert_eq!(payload, b"end");
            marker_count += 1;
            continue;
        }
        let text = String::from_utf8_lossy(payload);
        let (k, i) = text
            .split_once(';')
            .and_then(|(id, _)| id.strip_prefix('s')?.split_once(" n"))
            .map(|(k, i)| (k.parse::<usize>().unwrap(), i.parse::<usize>().unwrap()))
            .unwrap_or_else(|| panic!("a datagram that no sender sent: {text:?}"));
        assert_eq!(
            *payload,
            burst_payload(k, i),
            "datagram {i} of sender {k} altered"
        );
        assert_eq!(
            *addr, addrs[k],
            "datagram {i} of sender {k} labelled {addr}"
        );
        assert!(got.insert((k, i)), "datagram {i} of sender {k} shown twice");
    }
    let (received, dropped) = final_counts(&err);
    assert_eq!(
        received,
        shown.len() as u64,
        "the count disagrees with stdout"
    );
    let sent = (SENDERS * EACH) as u64;
    if dropped == 0 {
        assert_eq!(
            got.len() as u64,
            sent,
            "datagrams lost, none reported dropped"
        );
    } else {
        // Drops counted by the kernel include markers dropped before the last datagram taken.
        let data = got.len() as u64;
        assert!(
            data + dropped >= sent && data + dropped <= sent + markers - marker_count,
            "{data} shown + {dropped} dropped does not account for {sent} sent"
        );
    }
}

/// Datagrams that reached the socket before Ctrl-C are shown, and counted by -v's last line: the
/// listener is stopped (SIGSTOP) while they arrive and while SIGINT is sent, so that when it goes
/// on the signal and the datagrams are there at once.
#[cfg(unix)]
#[test]
fn datagrams_queued_before_ctrl_c_are_still_shown() {
    for relay in [&[][..], &["--show-sender"]] {
        for _ in 0..3 {
            let mut args = vec!["-v", "127.0.0.1"];
            args.extend_from_slice(relay);
            let (mut listener, port) = udp_listener(&args);
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            listener.signal(libc::SIGSTOP);
            for i in 0..5 {
                s.send_to(format!("d{i}\n").as_bytes(), local(port))
                    .unwrap();
            }
            listener.signal(libc::SIGINT);
            listener.signal(libc::SIGCONT);
            let (code, out, err) = listener.finish();
            assert_eq!(code, Some(130), "{err}");
            let out = String::from_utf8(out).unwrap();
            assert_eq!(out.matches('d').count(), 5, "{relay:?}: {out:?}\n{err}");
            assert!(err.contains("sockkit: received 5 datagrams"), "{err}");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_tiny_receive_buffer_reports_kernel_drops() {
    let (mut listener, port) = udp_listener(&["-v", "--rcvbuf", "1", "127.0.0.1"]);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let payload = [b'd'; 1000];
    let dropped = |b: &[u8]| {
        String::from_utf8_lossy(b).lines().any(|l| {
            l.strip_prefix("sockkit: received ")
                .and_then(|l| l.split_once(", kernel dropped "))
                .is_some_and(|(_, m)| m.parse::<u64>().is_ok_and(|m| m > 0))
        })
    };
    // A listener that keeps up with the burst drops nothing, so it is stopped (SIGSTOP) while the
    // burst arrives: a couple of datagrams fill the buffer and the kernel drops the rest, all of
    // them after the last datagram it queued, so no datagram it receives carries the final count:
    // -v must still say it, within a second, with nothing more sent.
    const SENT: u64 = 2_000;
    listener.signal(libc::SIGSTOP);
    for _ in 0..SENT {
        s.send_to(&payload, local(port)).unwrap();
    }
    listener.signal(libc::SIGCONT);
    listener.stderr.wait_for("a count of kernel drops", dropped);
    // Ctrl-C: stdout is flushed, and the last count says how many datagrams it holds and how many
    // the kernel dropped: every datagram sent is one or the other.
    listener.signal(2);
    let (_, out, err) = listener.finish();
    assert!(!err.contains("error"), "{err}");
    let (received, kernel_dropped) = final_counts(&err);
    assert_eq!(received + kernel_dropped, SENT, "{err}");
    assert_eq!(
        out.len() as u64,
        received * 1000,
        "datagrams cut or lost on stdout"
    );
}

#[test]
fn a_receive_buffer_beyond_the_limit_is_noted() {
    let (listener, _) = udp_listener(&["--rcvbuf", "1G", "127.0.0.1"]);
    listener
        .stderr
        .wait_contains("sockkit: note: the receive buffer is ");
    assert!(listener
        .stderr
        .text()
        .contains("not the 1073741824 asked for"));
}

/// A Python UDP sink: prints its port, then for each datagram its arrival time and length, until
/// `sys.argv[1]` datagrams came or none for 5 s; then the hex of everything received.
const PY_UDP_SINK: &str = r#"
import socket, sys, time
want = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind(('127.0.0.1', 0))
s.settimeout(5)
print('PORT', s.getsockname()[1], flush=True)
got = []
try:
    while len(got) < want:
        data, _ = s.recvfrom(65536)
        got.append((time.monotonic(), data))
except socket.timeout:
    pass
for t, d in got:
    print('DGRAM', t, len(d), flush=True)
print('ALL', b''.join(d for _, d in got).hex(), flush=True)
"#;

/// (arrival time, length) of each datagram the sink reported, and everything it received.
fn sink_report(sink: &mut Proc) -> (Vec<(f64, usize)>, Vec<u8>) {
    let (code, out, err) = sink.finish();
    assert_eq!(code, Some(0), "{err}");
    let out = String::from_utf8_lossy(&out);
    let mut dgrams = Vec::new();
    let mut all = Vec::new();
    for line in out.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        match words[0] {
            "DGRAM" => dgrams.push((words[1].parse().unwrap(), words[2].parse().unwrap())),
            "ALL" => all = hex::decode(words[1]).unwrap(),
            _ => {}
        }
    }
    (dgrams, all)
}

#[test]
fn udp_send_size_cuts_stdin_into_datagrams() {
    let input = random_bytes(10_500, 3);
    let mut sink = Proc::python(PY_UDP_SINK, &["11"]);
    let port = sink.stdout_port().to_string();
    let (code, out, err) = run_sockkit(
        &[
            "udp-send",
            "-v",
            "--size",
            "1000",
            "--wait",
            "0",
            "127.0.0.1",
            &port,
        ],
        &input,
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("sockkit: sent 11 datagrams, received 0 replies"),
        "{err}"
    );
    let (dgrams, all) = sink_report(&mut sink);
    let sizes: Vec<usize> = dgrams.iter().map(|d| d.1).collect();
    let mut want = vec![1000; 10];
    want.push(500);
    assert_eq!(sizes, want);
    assert!(all == input, "the datagrams do not add up to stdin");
}

#[test]
fn udp_send_rate_spaces_the_datagrams() {
    // 20 datagrams at 100/s: the last leaves at least 190 ms after the first (a lower bound only:
    // a slow machine may take longer, never shorter).
    let mut sink = Proc::python(PY_UDP_SINK, &["20"]);
    let port = sink.stdout_port().to_string();
    let (code, _, err) = run_sockkit(
        &[
            "udp-send",
            "-v",
            "--size",
            "10",
            "--rate",
            "100/s",
            "--wait",
            "0",
            "127.0.0.1",
            &port,
        ],
        &[b'r'; 200],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("sent 20 datagrams"), "{err}");
    let (dgrams, _) = sink_report(&mut sink);
    assert_eq!(dgrams.len(), 20);
    assert!(dgrams.iter().all(|d| d.1 == 10));
    let span = dgrams[19].0 - dgrams[0].0;
    assert!(
        span >= 0.18,
        "20 datagrams at 100/s came within {span:.3} s"
    );
}

#[test]
fn udp_send_counts_replies_with_v() {
    let (_listener, port) = udp_listener(&["--echo", "127.0.0.1"]);
    let (code, out, err) = run_sockkit(
        &[
            "udp-send",
            "-v",
            "--size",
            "4",
            "--count",
            "3",
            "127.0.0.1",
            &port.to_string(),
        ],
        b"abcdefghij",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"abcdefghij");
    assert!(
        err.contains("sockkit: sent 3 datagrams, received 3 replies"),
        "{err}"
    );
}

#[test]
fn udp_send_size_refuses_what_it_cannot_cut() {
    for (args, says) in [
        (&["--size", "0"][..], "--size"),
        (&["--size", "65508"], "at most 65507"),
        (&["--size", "10", "--send", "hex"], "--send hex|pickle"),
        (&["--rate", "0"], "--rate"),
    ] {
        let mut all = vec!["udp-send"];
        all.extend_from_slice(args);
        all.extend(["127.0.0.1", "9"]);
        let (code, _, err) = run_sockkit(&all, b"");
        assert_eq!(code, Some(2), "{all:?}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("sockkit: error: ") && first.contains(says),
            "{all:?}: {err}"
        );
        // One error line, perhaps with a hint.
        assert!(
            err.lines().skip(1).all(|l| l.starts_with("hint: ")),
            "{err}"
        );
    }
    let (code, _, err) = run_sockkit(&["udp-send", "--size", "10", "127.0.0.1", "9", "hi"], b"");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("does not apply with MESSAGE"), "{err}");
}
