//! Hex display (`-x`, `--mode hex`) end to end: bytes sent by python3 peers in several writes are
//! shown as a `hexdump -C`-style dump whose offsets continue across reads, whatever the chunking.

use std::collections::HashMap;

use crate::harness::{random_bytes, Proc};

/// Column positions of the 16 hex cells, counted from the end of the offset.
fn cell_pos(c: usize) -> usize {
    2 + 3 * c + usize::from(c >= 8)
}

/// One dump line: its offset and its (column, byte) cells, with the ASCII column checked.
fn parse_line(line: &str) -> (u64, Vec<(usize, u8)>) {
    let digits = line
        .find(' ')
        .unwrap_or_else(|| panic!("no offset in {line:?}"));
    let off = u64::from_str_radix(&line[..digits], 16)
        .unwrap_or_else(|_| panic!("bad offset in {line:?}"));
    let body = &line[digits..];
    assert!(body.len() > 53, "short dump line {line:?}");
    assert_eq!(&body[52..53], "|", "ASCII column misplaced in {line:?}");
    let ascii = body[53..]
        .strip_suffix('|')
        .unwrap_or_else(|| panic!("no closing bar in {line:?}"));
    let mut cells = Vec::new();
    for c in 0..16 {
        let cell = &body[cell_pos(c)..cell_pos(c) + 2];
        if cell != "  " {
            let b = u8::from_str_radix(cell, 16)
                .unwrap_or_else(|_| panic!("bad hex {cell:?} in {line:?}"));
            let shown = if (0x20..=0x7e).contains(&b) { b } else { b'.' };
            assert_eq!(
                ascii.as_bytes().get(c),
                Some(&shown),
                "ASCII column wrong in {line:?}"
            );
            cells.push((c, b));
        }
    }
    assert!(!cells.is_empty(), "dump line without bytes: {line:?}");
    (off, cells)
}

/// Checks dump lines of one stream (headers removed) and returns the bytes they show. Every line's
/// offset is that of its first byte, bytes sit in the column of their offset modulo 16, offsets run
/// on without gaps or restarts, and the last line is the total length.
fn check_stream(lines: &[&str]) -> Vec<u8> {
    let (last, dump) = lines.split_last().expect("some output");
    let mut shown = Vec::new();
    for line in dump {
        let (off, cells) = parse_line(line);
        assert_eq!(
            off,
            shown.len() as u64,
            "offset does not continue at {line:?}"
        );
        assert_eq!(
            cells[0].0 as u64,
            off % 16,
            "first byte not in its column: {line:?}"
        );
        for (i, &(c, b)) in cells.iter().enumerate() {
            assert_eq!(c, cells[0].0 + i, "gap inside {line:?}");
            shown.push(b);
        }
    }
    assert_eq!(*last, format!("{:08x}", shown.len()), "final offset line");
    shown
}

/// The line `hexdump -C` prints for the 16 bytes at `off`.
fn hexdump_line(data: &[u8], off: usize) -> String {
    let chunk = &data[off..(off + 16).min(data.len())];
    let mut hex = String::new();
    for (i, b) in chunk.iter().enumerate() {
        if i == 8 {
            hex.push(' ');
        }
        hex += &format!("{b:02x} ");
    }
    let ascii: String = chunk
        .iter()
        .map(|&b| {
            if (0x20..=0x7e).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{off:08x}  {hex:<49} |{ascii}|")
}

/// A python3 server that prints `PORT n`, accepts one client and sends it `pieces` (hex strings)
/// in separate writes, pausing briefly between them so the client is likely to read them apart.
const SPLIT_SERVER: &str = r#"
import socket, sys, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print("PORT", srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for piece in sys.argv[1:]:
    conn.sendall(bytes.fromhex(piece))
    time.sleep(0.05)
conn.close()
"#;

#[test]
fn connect_hex_offsets_continue_across_reads() {
    let data = random_bytes(1000, 7);
    // Pieces that leave partial lines behind: 5, 27, 100, 1, 15, 852 bytes.
    let cuts = [0, 5, 32, 132, 133, 148, 1000];
    let pieces: Vec<String> = cuts
        .windows(2)
        .map(|w| hex::encode(&data[w[0]..w[1]]))
        .collect();
    let args: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let server = Proc::python(SPLIT_SERVER, &args);
    let port = server.stdout_port().to_string();
    let mut client = Proc::sockkit_null(&["connect", "-x", "127.0.0.1", &port]);
    let (code, out, err) = client.finish();
    assert_eq!(code, Some(0), "stderr: {err}");
    let text = String::from_utf8(out).expect("hex output is ASCII");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.iter().all(|l| !l.starts_with('#')),
        "one peer and no -v: no headers expected in\n{text}"
    );
    assert_eq!(
        check_stream(&lines),
        data,
        "the dump shows other bytes than were sent:\n{text}"
    );
    // Lines that start on a multiple of 16 and are full are exactly hexdump -C's.
    for line in &lines[..lines.len() - 1] {
        let (off, cells) = parse_line(line);
        if off % 16 == 0 && cells.len() == 16 {
            assert_eq!(*line, hexdump_line(&data, off as usize));
        }
    }
}

/// A python3 client that connects, prints `PORT n` (its own port), sends `data` (hex) and closes.
const CLIENT: &str = r#"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("PORT", s.getsockname()[1], flush=True)
s.sendall(bytes.fromhex(sys.argv[2]))
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
"#;

#[test]
fn listen_keep_open_hex_names_each_peer() {
    let server = Proc::sockkit_null(&["listen", "-k", "-x", "0"]);
    let port = server.listening_port().to_string();
    let sent = [random_bytes(70, 1), random_bytes(45, 2)];
    let mut by_port = HashMap::new();
    for (i, data) in sent.iter().enumerate() {
        let mut client = Proc::python(CLIENT, &[&port, &hex::encode(data)]);
        by_port.insert(client.stdout_port(), i);
        let (code, _, err) = client.finish();
        assert_eq!(code, Some(0), "client {i}: {err}");
    }
    let out = server.stdout.wait_for("both streams ended", |b| {
        String::from_utf8_lossy(b).matches("end of stream").count() == 2 && b.ends_with(b"\n")
    });
    let text = String::from_utf8(out).expect("hex output is ASCII");
    // Every block starts with a header naming its peer; collect each peer's lines in order.
    let mut streams: HashMap<String, Vec<&str>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("# ") {
            let peer = h.trim_end_matches(" end of stream");
            assert!(
                peer.starts_with("client") && peer.contains(" 127.0.0.1:"),
                "header does not name a peer: {line:?}"
            );
            current = Some(peer.to_string());
        } else {
            let peer = current
                .clone()
                .unwrap_or_else(|| panic!("dump line before any header:\n{text}"));
            streams.entry(peer).or_default().push(line);
        }
    }
    assert_eq!(streams.len(), 2, "two peers expected in\n{text}");
    for (peer, lines) in &streams {
        let client_port: u16 = peer
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {peer:?}"));
        let i = by_port
            .get(&client_port)
            .unwrap_or_else(|| panic!("{peer:?} is not one of the clients {by_port:?}"));
        assert_eq!(
            check_stream(lines),
            sent[*i],
            "bytes shown for {peer}:\n{text}"
        );
    }
}
