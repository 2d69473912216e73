//! Hex display: a dump in the layout of `hexdump -C`, shown as the bytes arrive.
//!
//! ```text
//! 00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 0a 00 ff 41  |Hello, world...A|
//! 00000010  42                                                |B|
//! 00000011
//! ```
//!
//! Offsets count from the start of the stream (one connection and direction) and never restart per
//! read. A read that ends mid-line is shown at once; the next read continues on a line that starts at
//! the current offset, with its bytes in their usual columns (the columns before it left blank), so
//! every byte's column is still its offset modulo 16. Unlike `hexdump -C`, repeated lines are not
//! squeezed into `*`: a live stream shows every line. The final offset is printed when the stream ends.
//!
//! With several peers on one stdout, each block (one read) starts with `# PEER`; with -v the header
//! also gives the direction and length: `# client2 127.0.0.1:5555 received 37 bytes`.

use super::{Render, StreamLabel};

const HEX: &[u8; 16] = b"0123456789abcdef";
/// Column of the `|` that opens the ASCII part.
const ASCII_COL: usize = 60;

/// The hex renderer of one stream.
pub struct HexDump {
    offset: u64,
    label: StreamLabel,
    verbose: bool,
}

impl HexDump {
    pub fn new(label: StreamLabel, verbose: bool) -> HexDump {
        HexDump {
            offset: 0,
            label,
            verbose,
        }
    }

    fn header(&self, len: usize, out: &mut Vec<u8>) {
        let direction = if self.label.direction.is_empty() {
            "received"
        } else {
            self.label.direction
        };
        match (&self.label.peer, self.verbose) {
            (None, false) => {}
            (Some(peer), false) => out.extend_from_slice(format!("# {peer}\n").as_bytes()),
            (Some(peer), true) => {
                out.extend_from_slice(format!("# {peer} {direction} {len} bytes\n").as_bytes())
            }
            (None, true) => {
                out.extend_from_slice(format!("# {direction} {len} bytes\n").as_bytes())
            }
        }
    }
}

/// Writes one line holding `bytes`, the first of which is at `offset` (all within one 16-byte row).
fn line(offset: u64, bytes: &[u8], out: &mut Vec<u8>) {
    let mut buf = [b' '; 80];
    // Offset: 8 hex digits (more when the stream passes 4 GiB, as hexdump does).
    let mut n = 0;
    if offset > 0xffff_ffff {
        let s = format!("{offset:08x}");
        out.extend_from_slice(s.as_bytes());
    } else {
        for i in 0..8 {
            buf[i] = HEX[((offset >> (28 - 4 * i)) & 0xf) as usize];
        }
        n = 8;
    }
    let first = (offset % 16) as usize;
    for (k, &b) in bytes.iter().enumerate() {
        let col = first + k;
        let at = n + 2 + col * 3 + usize::from(col >= 8);
        buf[at] = HEX[(b >> 4) as usize];
        buf[at + 1] = HEX[(b & 0xf) as usize];
    }
    let bar = n + ASCII_COL - 8;
    buf[bar] = b'|';
    for (k, &b) in bytes.iter().enumerate() {
        buf[bar + 1 + first + k] = if (0x20..0x7f).contains(&b) { b } else { b'.' };
    }
    let end = bar + 1 + first + bytes.len();
    buf[end] = b'|';
    buf[end + 1] = b'\n';
    out.extend_from_slice(&buf[..end + 2]);
}

impl Render for HexDump {
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>, _diag: &mut Vec<String>) {
        if data.is_empty() {
            return;
        }
        self.header(data.len(), out);
        out.reserve(data.len() / 16 * 79 + 160);
        let mut rest = data;
        // A first, partial row when the previous read ended mid-line.
        let into_row = (self.offset % 16) as usize;
        if into_row != 0 {
            let take = (16 - into_row).min(rest.len());
            line(self.offset, &rest[..take], out);
            self.offset += take as u64;
            rest = &rest[take..];
        }
        let mut chunks = rest.chunks_exact(16);
        for chunk in &mut chunks {
            line(self.offset, chunk, out);
            self.offset += 16;
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            line(self.offset, tail, out);
            self.offset += tail.len() as u64;
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>, _diag: &mut Vec<String>) {
        if self.offset > 0 {
            out.extend_from_slice(format!("{:08x}\n", self.offset).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(chunks: &[&[u8]], label: StreamLabel, verbose: bool) -> String {
        let mut h = HexDump::new(label, verbose);
        let (mut out, mut diag) = (Vec::new(), Vec::new());
        for c in chunks {
            h.feed(c, &mut out, &mut diag);
        }
        h.finish(&mut out, &mut diag);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn like_hexdump_c() {
        let got = dump(
            &[b"Hello, world\n\x00\xffAB"],
            StreamLabel::default(),
            false,
        );
        assert_eq!(
            got,
            "00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 0a 00 ff 41  |Hello, world...A|\n\
             00000010  42                                                |B|\n\
             00000011\n"
        );
        let got = dump(&[b"0123456789abcdef"], StreamLabel::default(), false);
        assert_eq!(
            got,
            "00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n00000010\n"
        );
        assert_eq!(dump(&[], StreamLabel::default(), false), "");
    }

    #[test]
    fn offsets_continue_across_reads() {
        let got = dump(
            &[b"Hello", b", world\n\x00\xffAB"],
            StreamLabel::default(),
            false,
        );
        assert_eq!(
            got,
            "00000000  48 65 6c 6c 6f                                    |Hello|\n\
             00000005                 2c 20 77  6f 72 6c 64 0a 00 ff 41  |     , world...A|\n\
             00000010  42                                                |B|\n\
             00000011\n"
        );
    }

    #[test]
    fn headers_name_the_peer() {
        let label = StreamLabel {
            peer: Some("client2 127.0.0.1:5555".into()),
            direction: "received",
        };
        assert_eq!(
            dump(&[b"A"], label.clone(), false),
            "# client2 127.0.0.1:5555\n00000000  41                                                |A|\n00000001\n"
        );
        assert!(
            dump(&[b"AB"], label, true).starts_with("# client2 127.0.0.1:5555 received 2 bytes\n")
        );
    }
}
