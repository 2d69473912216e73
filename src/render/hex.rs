//! Hex display (`--mode hex`, `-x`): a live `hexdump -C`, fed the bytes of one stream as they arrive.
//!
//! # Format
//! Each line is an offset (at least 8 hex digits), two spaces, 16 bytes in two groups of 8 (an extra
//! space between the groups), then the bytes as ASCII between `|` bars, with `.` for anything outside
//! `0x20..=0x7e`. A stream fed in one piece gives exactly the output of `hexdump -v -C` on the same
//! bytes, final offset line included: repeated lines are never squeezed into `*`, since a live stream
//! must show every line as it comes.
//!
//! # Data arriving in pieces
//! Each feed is shown at once; a partial last line is printed, not held back. Offsets continue across
//! feeds and never restart. A byte always sits in the column of its offset modulo 16, so every line
//! that starts on a multiple of 16 is exactly `hexdump -C`'s line for those offsets. When a feed starts
//! mid-line (the previous feed ended with a partial line), its first line is a *continuation line*: it
//! is labelled with the offset of its first byte, holds only the bytes up to the next multiple of 16,
//! and the columns before them are blank in both the hex and the ASCII part:
//!
//! ```text
//! 00000000  68 65 6c 6c 6f                                    |hello|
//! 00000005                 2c 20 77  6f 72 6c 64 0a           |     , world.|
//! 0000000d
//! ```
//!
//! # Headers
//! When several peers share stdout (`label.peer` is set) each feed starts with a header line naming
//! the peer; with `-v` the header also gives the direction and the length of the block. Without a peer
//! and without `-v` there are no headers. Header lines start with `# `, so they never look like dump
//! lines:
//!
//! ```text
//! # client2 127.0.0.1:5555                      (peer)
//! # client2 127.0.0.1:5555 received 37 bytes    (peer, -v)
//! # received 37 bytes                           (-v, one peer)
//! ```
//!
//! # End of stream
//! [`Render::finish`] prints the final offset line (the stream's length, as `hexdump -C` does) only if
//! any byte was seen; an empty stream shows nothing, like `hexdump -C` on empty input. Where feeds
//! have headers, the offset line gets one too (`# client2 127.0.0.1:5555 end of stream`, and with -v
//! `...: received 37 bytes in total`), so it cannot be mistaken for another peer's.
//!
//! # Speed
//! Lines are built from lookup tables into a fixed-size array and appended whole; the output buffer
//! is reserved once per feed. No `format!` runs per byte or per line (only for offsets past 4 GiB).

use std::mem::MaybeUninit;

use super::{Render, StreamLabel};
use crate::pickle::repr::hex_byte;

/// Bytes in one dump line.
const WIDTH: usize = 16;
/// Length of a full line whose offset fits in 8 digits, newline included.
const LINE_LEN: usize = 79;
/// Where the hex of column `c` starts in a line with an 8-digit offset.
const fn hex_pos(c: usize) -> usize {
    10 + 3 * c + if c >= 8 { 1 } else { 0 }
}
/// Where the ASCII column's opening bar is, with an 8-digit offset.
const BAR: usize = 60;

/// Two lower-case hex digits for each byte value.
static HEX: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = hex_byte(i as u8);
        i += 1;
    }
    t
};

/// Each byte value's two hex digits followed by two spaces, for whole-line writes.
static HEX_SP: [[u8; 4]; 256] = {
    let mut t = [[b' '; 4]; 256];
    let mut i = 0;
    while i < 256 {
        t[i][0] = HEX[i][0];
        t[i][1] = HEX[i][1];
        i += 1;
    }
    t
};

/// The ASCII column's character for each byte value: itself if printable, else `.`.
static SHOWN: [u8; 256] = {
    let mut t = [b'.'; 256];
    let mut i = 0x20;
    while i <= 0x7e {
        t[i] = i as u8;
        i += 1;
    }
    t
};

/// The hex display state of one stream: where it is, and how its blocks are labelled.
pub struct HexDump {
    label: StreamLabel,
    verbose: bool,
    /// Offset of the next byte of the stream (= bytes seen so far).
    offset: u64,
}

impl HexDump {
    /// A dump of one stream starting at offset 0. `label.peer` set means several peers share stdout,
    /// so every block gets a header naming it; `verbose` adds direction and length to headers.
    pub fn new(label: StreamLabel, verbose: bool) -> HexDump {
        HexDump {
            label,
            verbose,
            offset: 0,
        }
    }

    fn has_headers(&self) -> bool {
        self.label.peer.is_some() || self.verbose
    }

    /// Writes `# [peer][ what]\n`.
    fn header(&self, out: &mut Vec<u8>, what: &str) {
        out.extend_from_slice(b"#");
        if let Some(peer) = &self.label.peer {
            out.push(b' ');
            out.extend_from_slice(peer.as_bytes());
        }
        if !what.is_empty() {
            out.push(b' ');
            out.extend_from_slice(what.as_bytes());
        }
        out.push(b'\n');
    }

    /// `received 37 bytes` (the direction left out when the stream has none).
    fn amount(&self, n: u64) -> String {
        let unit = if n == 1 { "byte" } else { "bytes" };
        if self.label.direction.is_empty() {
            format!("{n} {unit}")
        } else {
            format!("{} {n} {unit}", self.label.direction)
        }
    }
}

impl Render for HexDump {
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>, _diag: &mut Vec<String>) {
        if data.is_empty() {
            return;
        }
        if self.has_headers() {
            let what = if self.verbose {
                self.amount(data.len() as u64)
            } else {
                String::new()
            };
            self.header(out, &what);
        }
        // Every line is at most LINE_LEN + 8 (a 16-digit offset); one line more for a continuation.
        out.reserve((data.len() / WIDTH + 2) * (LINE_LEN + 8));

        let mut rest = data;
        let col = (self.offset % WIDTH as u64) as usize;
        if col != 0 {
            let take = rest.len().min(WIDTH - col);
            general_line(out, self.offset, col, &rest[..take]);
            self.offset += take as u64;
            rest = &rest[take..];
        }
        let full = rest.len() / WIDTH * WIDTH;
        let (lines, tail) = rest.split_at(full);
        if self.offset + full as u64 <= 1 << 32 {
            // Every line's offset fits in 8 digits: the fast path. Lines are written straight into
            // the reserved capacity; zero-filling it first (`resize`) cost a third as much again as
            // the rendering itself (perf: memset 13% against 34%).
            let start = out.len();
            let mut written = 0;
            let mut off = self.offset as u32;
            for (dst, chunk) in out
                .spare_capacity_mut()
                .chunks_exact_mut(LINE_LEN)
                .zip(lines.chunks_exact(WIDTH))
            {
                if let (Ok(dst), Ok(bytes)) = (dst.try_into(), chunk.try_into()) {
                    full_line(dst, off, bytes);
                    written += LINE_LEN;
                }
                off = off.wrapping_add(WIDTH as u32);
            }
            // SAFETY: the loop above initialised the first `written` bytes of the spare capacity.
            unsafe { out.set_len(start + written) };
            self.offset += full as u64;
        } else {
            for chunk in lines.chunks_exact(WIDTH) {
                general_line(out, self.offset, 0, chunk);
                self.offset += WIDTH as u64;
            }
        }
        if !tail.is_empty() {
            general_line(out, self.offset, 0, tail);
            self.offset += tail.len() as u64;
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>, _diag: &mut Vec<String>) {
        if self.offset == 0 {
            return;
        }
        if self.has_headers() {
            let what = if self.verbose {
                format!("end of stream: {} in total", self.amount(self.offset))
            } else {
                "end of stream".to_string()
            };
            self.header(out, &what);
        }
        push_offset(out, self.offset);
        out.push(b'\n');
    }
}

/// Writes `v` into `l` at `at`. Stores are made straight into the output (not into a local array
/// copied afterwards, whose overlapping stores stall the copy's loads: half the speed).
#[inline(always)]
fn put<const N: usize>(l: &mut [MaybeUninit<u8>; LINE_LEN], at: usize, v: [u8; N]) {
    for (d, s) in l[at..at + N].iter_mut().zip(v) {
        d.write(s);
    }
}

/// One full line of 16 bytes at an offset below 4 GiB, written into `l`; every byte of `l` is set.
#[inline(always)]
fn full_line(l: &mut [MaybeUninit<u8>; LINE_LEN], off: u32, bytes: &[u8; WIDTH]) {
    let o = off.to_be_bytes();
    for (i, &b) in o.iter().enumerate() {
        put(l, 2 * i, HEX[b as usize]);
    }
    put(l, 8, *b"  ");
    // Each byte's store also writes the two spaces after its digits; the next store (in column
    // order) overwrites the second one, except at the group gap and the end, where it must be a space.
    for (c, &b) in bytes.iter().enumerate() {
        put(l, hex_pos(c), HEX_SP[b as usize]);
    }
    put(l, BAR, *b"|");
    let (a, b) = bytes.split_at(8);
    let a = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
    let b = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    put(l, BAR + 1, ascii8(a).to_le_bytes());
    put(l, BAR + 9, ascii8(b).to_le_bytes());
    put(l, BAR + 1 + WIDTH, *b"|\n");
}

/// The ASCII column for 8 bytes at once (SWAR): printable bytes kept, the others turned into `.`.
#[inline(always)]
fn ascii8(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = x & LOW7;
    // High bit set iff (b & 0x7f) >= 0x20; no carry crosses a byte (at most 0x7f + 0x60).
    let ge_space = low + 0x6060_6060_6060_6060;
    // High bit set iff (b & 0x7f) == 0x7f.
    let is_del = low + 0x0101_0101_0101_0101;
    let printable = !x & ge_space & !is_del & HIGH;
    let mask = (printable >> 7) * 0xff;
    (x & mask) | (0x2e2e_2e2e_2e2e_2e2e & !mask)
}

/// Appends an offset as at least 8 lower-case hex digits, like `hexdump`'s `%08.8_ax`.
fn push_offset(out: &mut Vec<u8>, off: u64) {
    if let Ok(small) = u32::try_from(off) {
        for b in small.to_be_bytes() {
            out.extend_from_slice(&HEX[b as usize]);
        }
    } else {
        out.extend_from_slice(format!("{off:08x}").as_bytes());
    }
}

/// Any line: `bytes` go in columns `col..col + bytes.len()` (at most 16 in all); the line is labelled
/// with `off`, the offset of its first byte; missing columns are blank.
fn general_line(out: &mut Vec<u8>, off: u64, col: usize, bytes: &[u8]) {
    debug_assert!(col + bytes.len() <= WIDTH);
    push_offset(out, off);
    let mut hex = [b' '; BAR - 8];
    for (i, &b) in bytes.iter().enumerate() {
        let p = hex_pos(col + i) - 8;
        hex[p..p + 2].copy_from_slice(&HEX[b as usize]);
    }
    out.extend_from_slice(&hex);
    out.push(b'|');
    out.resize(out.len() + col, b' ');
    out.extend(bytes.iter().map(|&b| SHOWN[b as usize]));
    out.extend_from_slice(b"|\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dump(label: StreamLabel, verbose: bool, pieces: &[&[u8]], finish: bool) -> String {
        let mut h = HexDump::new(label, verbose);
        let mut out = Vec::new();
        let mut diag = Vec::new();
        for p in pieces {
            h.feed(p, &mut out, &mut diag);
        }
        if finish {
            h.finish(&mut out, &mut diag);
        }
        assert!(diag.is_empty());
        String::from_utf8(out).expect("hex output is ASCII")
    }

    fn plain(pieces: &[&[u8]]) -> String {
        dump(StreamLabel::default(), false, pieces, true)
    }

    fn peer(name: &str) -> StreamLabel {
        StreamLabel {
            peer: Some(name.to_string()),
            direction: "received",
        }
    }

    #[test]
    fn aligned_input() {
        let expected = "\
00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|
00000010  00 01 7f 80 ff 20 7e 0a  0d 09 41 42 43 44 45 46  |..... ~...ABCDEF|
00000020
";
        let input = b"0123456789abcdef\x00\x01\x7f\x80\xff ~\n\r\tABCDEF";
        assert_eq!(plain(&[input]), expected);
    }

    #[test]
    fn partial_last_line() {
        let expected = "\
00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|
00000010  58 59 5a                                          |XYZ|
00000013
";
        assert_eq!(plain(&[b"0123456789abcdefXYZ"]), expected);
        let eight = "\
00000000  30 31 32 33 34 35 36 37                           |01234567|
00000008
";
        assert_eq!(plain(&[b"01234567"]), eight);
        let nine = "\
00000000  30 31 32 33 34 35 36 37  38                       |012345678|
00000009
";
        assert_eq!(plain(&[b"012345678"]), nine);
    }

    #[test]
    fn empty_stream_shows_nothing() {
        assert_eq!(plain(&[]), "");
        assert_eq!(plain(&[b"", b""]), "");
        assert_eq!(dump(peer("client1 127.0.0.1:1"), true, &[b""], true), "");
    }

    #[test]
    fn without_finish_there_is_no_offset_line() {
        assert_eq!(
            dump(StreamLabel::default(), false, &[b"hi"], false),
            "00000000  68 69                                             |hi|\n"
        );
    }

    #[test]
    fn continuation_line_after_a_partial_feed() {
        let expected = "\
00000000  68 65 6c 6c 6f                                    |hello|
00000005                 2c 20 77  6f 72 6c 64 0a           |     , world.|
0000000d
";
        assert_eq!(plain(&[b"hello", b", world\n"]), expected);
    }

    #[test]
    fn continuation_to_the_line_end_then_full_lines() {
        // 3 bytes, then 13 to finish the line, then 20 more: a full line and a partial one.
        let expected = "\
00000000  41 42 43                                          |ABC|
00000003           44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |   DEFGHIJKLMNOP|
00000010  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  |abcdefghijklmnop|
00000020  71 72 73 74                                       |qrst|
00000024
";
        assert_eq!(
            plain(&[b"ABC", b"DEFGHIJKLMNOP", b"abcdefghijklmnopqrst"]),
            expected
        );
    }

    #[test]
    fn continuation_inside_one_line_several_times() {
        // Feeds of 2, 3 and 4 bytes all inside the first line; a feed across the group gap.
        let expected = "\
00000000  61 62                                             |ab|
00000002        63 64 65                                    |  cde|
00000005                 66 67 68  69                       |     fghi|
00000009                              6a 6b 6c 6d 6e 6f 70  |         jklmnop|
00000010  71                                                |q|
00000011
";
        assert_eq!(plain(&[b"ab", b"cde", b"fghi", b"jklmnop", b"q"]), expected);
    }

    #[test]
    fn one_byte_feeds() {
        let mut expected = String::new();
        for (i, b) in b"0123456789abcdefg".iter().enumerate() {
            let col = i % 16;
            let mut hex = " ".repeat(50);
            let p = hex_pos(col) - 10;
            hex.replace_range(p..p + 2, &format!("{b:02x}"));
            expected += &format!("{i:08x}  {hex}|{}{}|\n", " ".repeat(col), *b as char);
        }
        expected += "00000011\n";
        let pieces: Vec<&[u8]> = b"0123456789abcdefg".chunks(1).collect();
        assert_eq!(plain(&pieces), expected);
    }

    #[test]
    fn peer_headers() {
        let expected = "\
# client2 127.0.0.1:5555
00000000  68 65 6c 6c 6f                                    |hello|
# client2 127.0.0.1:5555
00000005                 21                                 |     !|
# client2 127.0.0.1:5555 end of stream
00000006
";
        assert_eq!(
            dump(
                peer("client2 127.0.0.1:5555"),
                false,
                &[b"hello", b"!"],
                true
            ),
            expected
        );
    }

    #[test]
    fn verbose_headers() {
        let with_peer = "\
# client2 127.0.0.1:5555 received 5 bytes
00000000  68 65 6c 6c 6f                                    |hello|
# client2 127.0.0.1:5555 received 1 byte
00000005                 21                                 |     !|
# client2 127.0.0.1:5555 end of stream: received 6 bytes in total
00000006
";
        assert_eq!(
            dump(
                peer("client2 127.0.0.1:5555"),
                true,
                &[b"hello", b"!"],
                true
            ),
            with_peer
        );
        let alone = "\
# received 2 bytes
00000000  68 69                                             |hi|
# end of stream: received 2 bytes in total
00000002
";
        let label = StreamLabel {
            peer: None,
            direction: "received",
        };
        assert_eq!(dump(label, true, &[b"hi"], true), alone);
        let no_direction = "\
# 2 bytes
00000000  68 69                                             |hi|
# end of stream: 2 bytes in total
00000002
";
        assert_eq!(
            dump(StreamLabel::default(), true, &[b"hi"], true),
            no_direction
        );
    }

    #[test]
    fn offsets_past_4_gib_grow_a_digit() {
        let mut h = HexDump::new(StreamLabel::default(), false);
        h.offset = (1 << 32) - 16;
        let mut out = Vec::new();
        let mut diag = Vec::new();
        h.feed(&[0x41; 36], &mut out, &mut diag);
        h.finish(&mut out, &mut diag);
        let a = "41 41 41 41 41 41 41 41  41 41 41 41 41 41 41 41  |AAAAAAAAAAAAAAAA|";
        let expected = format!(
            "fffffff0  {a}\n100000000  {a}\n100000010  41 41 41 41{}|AAAA|\n100000014\n",
            " ".repeat(39)
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    /// The reference dump, made by python3 (always present): `hexdump -v -C` of `data`.
    fn python_hexdump(data: &[u8]) -> String {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let script = r#"
import sys
d = sys.stdin.buffer.read()
out = []
for i in range(0, len(d), 16):
    c = d[i:i+16]
    h = ' '.join('%02x' % b for b in c[:8])
    if len(c) > 8:
        h += '  ' + ' '.join('%02x' % b for b in c[8:])
    a = ''.join(chr(b) if 0x20 <= b <= 0x7e else '.' for b in c)
    out.append('%08x  %-49s |%s|\n' % (i, h, a))
if d:
    out.append('%08x\n' % len(d))
sys.stdout.write(''.join(out))
"#;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is required (run `bash .ci/setup`)");
        let mut stdin = child.stdin.take().unwrap();
        let data = data.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&data));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    /// The real `hexdump -v -C` (bsdextrautils on Debian).
    fn real_hexdump(data: &[u8]) -> String {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new("hexdump")
            .args(["-v", "-C"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("hexdump is required by this test ({e}); run `bash .ci/setup`")
            });
        let mut stdin = child.stdin.take().unwrap();
        let data = data.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&data));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    fn sample(len: usize) -> Vec<u8> {
        // Every byte value, then a text-like stretch, repeated.
        (0..len)
            .map(|i| {
                if i % 512 < 256 {
                    i as u8
                } else {
                    b"hex dump\n"[i % 9]
                }
            })
            .collect()
    }

    #[test]
    fn same_as_real_hexdump_c() {
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255, 256, 1000, 4099] {
            let data = sample(len);
            assert_eq!(plain(&[&data]), real_hexdump(&data), "{len} bytes");
        }
    }

    #[test]
    fn same_as_python_reference() {
        for len in [0, 1, 8, 9, 16, 17, 4099] {
            let data = sample(len);
            assert_eq!(plain(&[&data]), python_hexdump(&data), "{len} bytes");
        }
    }

    #[test]
    fn aligned_splits_give_hexdump_output() {
        // Splits at multiples of 16 leave no partial lines: the output is hexdump's, whatever the split.
        let data = sample(1000);
        let reference = plain(&[&data]);
        for cut in [16, 32, 48, 256, 992] {
            let (a, b) = data.split_at(cut);
            assert_eq!(plain(&[a, b]), reference, "split at {cut}");
        }
    }

    /// Parses a dump line into (offset, [(column, byte)]), checking its layout and ASCII column.
    fn parse_line(line: &str) -> (u64, Vec<(usize, u8)>) {
        let digits = line.find(' ').expect("an offset");
        let off = u64::from_str_radix(&line[..digits], 16).expect("hex offset");
        let body = &line[digits..];
        assert_eq!(&body[..2], "  ", "{line:?}");
        let hex = &body[2..52];
        assert_eq!(&body[52..53], "|", "{line:?}");
        let ascii = body[53..].strip_suffix('|').expect("closing bar");
        let mut cells = Vec::new();
        for c in 0..WIDTH {
            let p = hex_pos(c) - 10;
            let cell = &hex[p..p + 2];
            if cell != "  " {
                cells.push((c, u8::from_str_radix(cell, 16).expect("hex byte")));
            }
        }
        for (c, b) in &cells {
            assert_eq!(ascii.as_bytes()[*c], SHOWN[*b as usize], "{line:?}");
        }
        (off, cells)
    }

    #[test]
    fn ascii8_matches_the_table() {
        for v in 0..=255u8 {
            for pos in 0..8 {
                let x = 0x4142_4344_4546_4748u64 & !(0xff << (8 * pos)) | (v as u64) << (8 * pos);
                let got = ascii8(x).to_le_bytes();
                let want: Vec<u8> = x.to_le_bytes().iter().map(|&b| SHOWN[b as usize]).collect();
                assert_eq!(got.to_vec(), want, "byte {v:#04x} at {pos}");
            }
        }
    }

    proptest! {
        #[test]
        fn any_split_shows_every_byte_at_its_offset(
            data in proptest::collection::vec(any::<u8>(), 0..300),
            cuts in proptest::collection::vec(0usize..300, 0..8),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.sort_unstable();
            let mut pieces = Vec::new();
            let mut at = 0;
            for c in cuts {
                pieces.push(&data[at..c]);
                at = c;
            }
            pieces.push(&data[at..]);
            let text = plain(&pieces);
            let mut lines: Vec<&str> = text.lines().collect();
            if !data.is_empty() {
                let last = lines.pop().unwrap();
                prop_assert_eq!(last, format!("{:08x}", data.len()));
            }
            let mut shown = Vec::new();
            for line in lines {
                let (off, cells) = parse_line(line);
                prop_assert!(!cells.is_empty());
                // The first byte is at the labelled offset; the bytes are consecutive.
                prop_assert_eq!(off as usize, shown.len());
                prop_assert_eq!(cells[0].0 as u64, off % 16);
                for (i, (c, b)) in cells.iter().enumerate() {
                    prop_assert_eq!(*c, cells[0].0 + i);
                    shown.push(*b);
                }
            }
            prop_assert_eq!(shown, data.clone());
            // Lines that start on a multiple of 16 are exactly hexdump's lines.
            let whole = plain(&[&data]);
            for line in text.lines() {
                if let Ok(off) = u64::from_str_radix(line.split(' ').next().unwrap(), 16) {
                    if off % 16 == 0 && line.len() > 8 {
                        let full = whole.lines().find(|l| l.starts_with(&line[..10])).unwrap();
                        if full.len() == line.len() {
                            prop_assert_eq!(line, full);
                        }
                    }
                }
            }
        }
    }

    /// Throughput of the renderer alone; run with
    /// `cargo test --release --lib render::hex -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a test"]
    fn measure_throughput() {
        let data: Vec<u8> = (0..128 * 1024u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut h = HexDump::new(StreamLabel::default(), false);
        let mut out = Vec::new();
        let mut diag = Vec::new();
        let rounds = 2000;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            out.clear();
            h.feed(&data, &mut out, &mut diag);
        }
        let secs = start.elapsed().as_secs_f64();
        let mb = (data.len() * rounds) as f64 / 1e6;
        println!(
            "hex render: {mb:.0} MB in {secs:.3}s = {:.0} MB/s of input ({} bytes out per feed)",
            mb / secs,
            out.len()
        );
    }
}
