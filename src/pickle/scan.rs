//! Finds where a pickle ends, without decoding it: walks the opcodes (protocols 0 to 5) up to STOP.
//!
//! Pure and resumable: [`Scanner::scan`] is given the bytes buffered so far and remembers how far it got,
//! so a 16 MiB message arriving in 64 KiB reads is walked once, not once per read. It tells a message
//! that is still arriving ([`Scan::Incomplete`]) from bytes that can never be a pickle
//! ([`Scan::Invalid`]), and enforces the size limit before anything is decoded: a declared length larger
//! than the limit (a 4 GB BINUNICODE8) is refused at once, without waiting for or allocating the bytes.

/// The outcome of scanning the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// A whole pickle of this many bytes (STOP included) starts the buffer.
    Complete(usize),
    /// More bytes are needed.
    Incomplete,
    /// Not a pickle (or one over the limits); `at` is the offset of the offending opcode.
    Invalid { at: usize, reason: String },
}

/// How an opcode's argument is laid out.
#[derive(Clone, Copy)]
enum Arg {
    None,
    /// A fixed number of bytes.
    Fixed(usize),
    /// One line ending in `\n`.
    Line,
    /// Two lines (GLOBAL, INST).
    TwoLines,
    /// A little-endian length of this many bytes, then that many bytes.
    Counted(usize),
}

/// The argument layout of an opcode, or `None` for a byte that is not an opcode.
fn arg_of(op: u8) -> Option<Arg> {
    use Arg::*;
    Some(match op {
        b'(' | b'.' | b'0' | b'1' | b'2' | b'N' | b'Q' | b'R' | b'a' | b'b' | b'd' | b'}'
        | b'e' | b'l' | b']' | b'o' | b's' | b't' | b')' | b'u' => None,
        0x81 | 0x85 | 0x86 | 0x87 | 0x88 | 0x89 | 0x8f | 0x90 | 0x91 | 0x92 | 0x93 | 0x94
        | 0x97 | 0x98 => None,
        b'F' | b'I' | b'L' | b'P' | b'S' | b'V' | b'g' | b'p' => Line,
        b'c' | b'i' => TwoLines,
        b'J' => Fixed(4),
        b'K' => Fixed(1),
        b'M' => Fixed(2),
        b'G' => Fixed(8),
        b'h' | b'q' => Fixed(1),
        b'j' | b'r' => Fixed(4),
        0x80 => Fixed(1),
        0x82 => Fixed(1),
        0x83 => Fixed(2),
        0x84 => Fixed(4),
        0x95 => Fixed(8),
        b'T' | b'X' | b'B' => Counted(4),
        b'U' | b'C' | 0x8c => Counted(1),
        0x8a => Counted(1),
        0x8b => Counted(4),
        0x8d | 0x8e | 0x96 => Counted(8),
        _ => return Option::None,
    })
}

/// Longest line argument accepted (a protocol-0 int or string); longer is treated as invalid.
const MAX_LINE: usize = 1 << 20;

/// A resumable scan of one message.
#[derive(Debug, Clone, Default)]
pub struct Scanner {
    /// Offset of the next opcode to look at, relative to the message start.
    pos: usize,
}

impl Scanner {
    /// Forgets progress (call after a message was taken off the buffer).
    pub fn reset(&mut self) {
        self.pos = 0;
    }

    /// Scans `buf`, which holds the message from its first byte (and maybe more after it).
    pub fn scan(&mut self, buf: &[u8], max_message: usize) -> Scan {
        loop {
            let at = self.pos;
            let Some(&op) = buf.get(at) else {
                return self.incomplete(buf, max_message);
            };
            let Some(arg) = arg_of(op) else {
                return Scan::Invalid {
                    at,
                    reason: format!("byte 0x{op:02x} at offset {at} is not a pickle opcode"),
                };
            };
            if at == 0 && op == 0x80 {
                if let Some(&proto) = buf.get(1) {
                    if proto > 5 {
                        return Scan::Invalid {
                            at,
                            reason: format!("unsupported pickle protocol {proto}"),
                        };
                    }
                }
            }
            let next = match arg {
                Arg::None => at + 1,
                Arg::Fixed(n) => at + 1 + n,
                Arg::Line => match find_newline(buf, at + 1) {
                    Some(end) => end + 1,
                    None => return self.line_incomplete(buf, at, max_message),
                },
                Arg::TwoLines => match find_newline(buf, at + 1) {
                    Some(end) => match find_newline(buf, end + 1) {
                        Some(end2) => end2 + 1,
                        None => return self.line_incomplete(buf, at, max_message),
                    },
                    None => return self.line_incomplete(buf, at, max_message),
                },
                Arg::Counted(width) => {
                    let Some(len_bytes) = buf.get(at + 1..at + 1 + width) else {
                        return self.incomplete(buf, max_message);
                    };
                    let mut len: u64 = 0;
                    for (i, b) in len_bytes.iter().enumerate() {
                        len |= u64::from(*b) << (8 * i);
                    }
                    if op == b'T' && len > i32::MAX as u64 {
                        return Scan::Invalid {
                            at,
                            reason: "negative BINSTRING length".into(),
                        };
                    }
                    if len > max_message as u64 {
                        return Scan::Invalid {
                            at,
                            reason: format!(
                                "declares a {len}-byte argument, over the {max_message}-byte message limit"
                            ),
                        };
                    }
                    at + 1 + width + len as usize
                }
            };
            if next > max_message {
                return Scan::Invalid {
                    at,
                    reason: format!("no STOP within the {max_message}-byte message limit"),
                };
            }
            if next > buf.len() {
                return self.incomplete(buf, max_message);
            }
            self.pos = next;
            if op == b'.' {
                return Scan::Complete(next);
            }
        }
    }

    fn incomplete(&self, buf: &[u8], max_message: usize) -> Scan {
        if buf.len() > max_message {
            Scan::Invalid {
                at: self.pos,
                reason: format!("no STOP within the {max_message}-byte message limit"),
            }
        } else {
            Scan::Incomplete
        }
    }

    fn line_incomplete(&self, buf: &[u8], at: usize, max_message: usize) -> Scan {
        if buf.len() - at > MAX_LINE {
            return Scan::Invalid {
                at,
                reason: format!("a text argument longer than {MAX_LINE} bytes"),
            };
        }
        self.incomplete(buf, max_message)
    }
}

fn find_newline(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| from + i)
}

/// Where the next message may start after invalid bytes: the next protocol header (`80 02`..`80 05`)
/// after `from`, or `None` when there is none yet.
pub fn resync(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w[0] == 0x80 && (2..=5).contains(&w[1]))
        .map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    fn scan(buf: &[u8]) -> Scan {
        Scanner::default().scan(buf, LIMIT)
    }

    #[test]
    fn finds_the_end_of_each_protocol() {
        // pickle.dumps({'clientid': 60644}) at protocol 4.
        let p4 = hex::decode(
            "80049512000000000000007d948c08636c69656e74696494 4de4ec732e".replace(' ', ""),
        )
        .unwrap();
        assert_eq!(scan(&p4), Scan::Complete(29));
        assert_eq!(scan(b"I1\n."), Scan::Complete(4));
        let mut two = p4.clone();
        two.extend_from_slice(&p4);
        assert_eq!(scan(&two), Scan::Complete(29));
        for cut in 0..p4.len() {
            assert_eq!(scan(&p4[..cut]), Scan::Incomplete, "cut at {cut}");
        }
    }

    #[test]
    fn resumes_where_it_stopped() {
        let p = b"(lp0\nI1\naI2\na.";
        let mut s = Scanner::default();
        assert_eq!(s.scan(&p[..7], LIMIT), Scan::Incomplete);
        assert_eq!(s.scan(&p[..], LIMIT), Scan::Complete(p.len()));
    }

    #[test]
    fn refuses_huge_declared_lengths_at_once() {
        let huge = [0x80, 0x04, 0x8d, 0, 0, 0, 0, 1, 0, 0, 0];
        assert!(matches!(scan(&huge), Scan::Invalid { .. }));
        let big = [b'X', 0xff, 0xff, 0xff, 0x7f];
        assert!(matches!(scan(&big), Scan::Invalid { .. }));
    }

    #[test]
    fn garbage_is_invalid_or_waits() {
        assert!(matches!(scan(b"\x07abc"), Scan::Invalid { at: 0, .. }));
        assert!(matches!(scan(b"\x80\x09"), Scan::Invalid { .. }));
        assert_eq!(resync(b"xx\x80\x04K\x01.", 1), Some(2));
        assert_eq!(resync(b"xx\x80", 1), None);
    }
}
