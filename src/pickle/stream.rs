//! Pickles in a byte stream: push bytes as they arrive, take out one event per message.
//!
//! Each pickle is found by its STOP opcode (`Framing::Stop`, what the socket labs send) or by a 4-byte
//! big-endian length prefix (`Framing::Len32`, Python's `multiprocessing.connection`), so a pickle split
//! over many reads, or many pickles in one read, come out exactly once each. Invalid bytes are reported
//! with the bytes themselves, and decoding resumes at the next protocol header; whatever is left when the
//! stream ends is reported as truncated.

use crate::cli::Framing;

pub use super::decode::Limits;
use super::decode::{decode, Arena};
use super::repr::{repr_into, to_value, ReprError};
use super::scan::{resync, Scan, Scanner};
use super::Value;

/// One decoded message.
#[derive(Debug, Clone)]
pub struct Decoded {
    arena: Arena,
    bytes: Vec<u8>,
    limits: Limits,
}

impl Decoded {
    /// Python's `repr()` of the value; a value too large or deep to show gives a `<...>` note instead.
    pub fn repr(&self) -> String {
        let mut out = Vec::new();
        match self.repr_into(&mut out) {
            Ok(()) => String::from_utf8_lossy(&out).into_owned(),
            Err(e) => format!("<unprintable pickle: {e}>"),
        }
    }

    /// Appends Python's `repr()` to `out` (on error, `out` may hold a partial repr).
    pub fn repr_into(&self, out: &mut Vec<u8>) -> Result<(), ReprError> {
        repr_into(&self.arena, &self.limits, out)
    }

    /// The value as a tree.
    pub fn to_value(&self) -> Result<Value, ReprError> {
        to_value(&self.arena, &self.limits)
    }

    /// The message's bytes, as received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Globals the pickle names (each worth a warning: they were not imported).
    pub fn globals(&self) -> &[String] {
        &self.arena.globals
    }
}

/// What the stream yields.
#[derive(Debug, Clone)]
pub enum Event {
    /// A whole pickle, decoded.
    Message(Decoded),
    /// Bytes that are not a valid pickle (or exceed a limit), and why.
    Invalid { reason: String, bytes: Vec<u8> },
    /// The stream ended in the middle of a message.
    Truncated { bytes: Vec<u8> },
}

/// Finds and decodes the pickles of one stream.
#[derive(Debug)]
pub struct PickleStream {
    framing: Framing,
    limits: Limits,
    buf: Vec<u8>,
    /// Offset of the first byte not yet consumed.
    start: usize,
    scanner: Scanner,
    /// Len32: bytes still to drop of an oversized message.
    skip: usize,
}

/// How much of an invalid stretch is kept to show (the rest is counted, not kept).
const SHOW_INVALID: usize = 256;

impl PickleStream {
    pub fn new(framing: Framing, limits: Limits) -> PickleStream {
        PickleStream {
            framing,
            limits,
            buf: Vec::new(),
            start: 0,
            scanner: Scanner::default(),
            skip: 0,
        }
    }

    /// Adds the next bytes of the stream.
    pub fn push(&mut self, data: &[u8]) {
        let mut data = data;
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            self.skip -= n;
            data = &data[n..];
        }
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered and not yet part of an event.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete event, if the buffered bytes hold one.
    pub fn next_event(&mut self) -> Option<Event> {
        if self.start >= self.buf.len() {
            return None;
        }
        match self.framing {
            Framing::Stop => self.next_stop(),
            Framing::Len32 => self.next_len32(),
        }
    }

    /// The stream ended: reports what is left, if anything.
    pub fn finish(&mut self) -> Option<Event> {
        if let Some(event) = self.next_event() {
            return Some(event);
        }
        if self.start >= self.buf.len() {
            return None;
        }
        let bytes = self.buf[self.start..].to_vec();
        self.start = self.buf.len();
        self.scanner.reset();
        Some(Event::Truncated { bytes })
    }

    fn next_stop(&mut self) -> Option<Event> {
        let rest = &self.buf[self.start..];
        match self.scanner.scan(rest, self.limits.max_message) {
            Scan::Incomplete => None,
            Scan::Complete(len) => {
                let event = self.decode_at(self.start, len);
                self.start += len;
                self.scanner.reset();
                Some(event)
            }
            Scan::Invalid { at, reason } => {
                // Skip to the next protocol header after the bad opcode (or drop all we have).
                let from = self.start + at.max(1);
                let next = resync(&self.buf, from).unwrap_or(self.buf.len());
                let bytes = self.buf[self.start..next.min(self.start + SHOW_INVALID)].to_vec();
                let skipped = next - self.start;
                self.start = next;
                self.scanner.reset();
                let reason = if skipped > bytes.len() {
                    format!("{reason} ({skipped} bytes skipped)")
                } else {
                    reason
                };
                Some(Event::Invalid { reason, bytes })
            }
        }
    }

    fn next_len32(&mut self) -> Option<Event> {
        let rest = &self.buf[self.start..];
        if rest.len() < 4 {
            return None;
        }
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        if len > self.limits.max_message {
            let have = rest.len() - 4;
            let bytes = rest[..rest.len().min(4 + 16)].to_vec();
            // Drop the oversized body, now and as it arrives.
            let drop = len.min(have);
            self.skip = len - drop;
            self.start += 4 + drop;
            return Some(Event::Invalid {
                reason: format!(
                    "a {len}-byte message, over the {}-byte limit (skipped)",
                    self.limits.max_message
                ),
                bytes,
            });
        }
        if rest.len() < 4 + len {
            return None;
        }
        let at = self.start + 4;
        self.start += 4 + len;
        let body = &self.buf[at..at + len];
        let mut scanner = Scanner::default();
        let event = match scanner.scan(body, self.limits.max_message) {
            Scan::Complete(n) if n == len => self.decode_at(at, len),
            Scan::Complete(_) => Event::Invalid {
                reason: "bytes after the pickle's STOP inside a length-prefixed message".into(),
                bytes: body[..body.len().min(SHOW_INVALID)].to_vec(),
            },
            Scan::Incomplete => Event::Invalid {
                reason: "a length-prefixed message that ends before its pickle does".into(),
                bytes: body[..body.len().min(SHOW_INVALID)].to_vec(),
            },
            Scan::Invalid { reason, .. } => Event::Invalid {
                reason,
                bytes: body[..body.len().min(SHOW_INVALID)].to_vec(),
            },
        };
        Some(event)
    }

    fn decode_at(&self, at: usize, len: usize) -> Event {
        let bytes = &self.buf[at..at + len];
        match decode(bytes, &self.limits) {
            Ok(arena) => Event::Message(Decoded {
                arena,
                bytes: bytes.to_vec(),
                limits: self.limits,
            }),
            Err(e) => Event::Invalid {
                reason: e.0,
                bytes: bytes[..bytes.len().min(SHOW_INVALID)].to_vec(),
            },
        }
    }
}

/// Decodes one whole pickle held in `bytes`.
pub fn decode_one(bytes: &[u8], limits: Limits) -> Event {
    let mut s = PickleStream::new(Framing::Stop, limits);
    s.push(bytes);
    match s.next_event() {
        Some(Event::Message(m)) if s.pending() == 0 => Event::Message(m),
        Some(Event::Message(_)) => Event::Invalid {
            reason: "bytes after the pickle's STOP".into(),
            bytes: bytes[..bytes.len().min(SHOW_INVALID)].to_vec(),
        },
        Some(other) => other,
        None => s.finish().unwrap_or(Event::Truncated { bytes: Vec::new() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reprs(events: Vec<Event>) -> Vec<String> {
        events
            .into_iter()
            .map(|e| match e {
                Event::Message(m) => m.repr(),
                Event::Invalid { reason, .. } => format!("INVALID {reason}"),
                Event::Truncated { bytes } => format!("TRUNCATED {}", bytes.len()),
            })
            .collect()
    }

    fn run(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = PickleStream::new(Framing::Stop, Limits::default());
        let mut events = Vec::new();
        for c in chunks {
            s.push(c);
            while let Some(e) = s.next_event() {
                events.push(e);
            }
        }
        events.extend(s.finish());
        reprs(events)
    }

    // pickle.dumps({'clientid': 60644}) and pickle.dumps(1), protocol 4.
    const WELCOME: &str = "80049512000000000000007d948c08636c69656e746964944de4ec732e";

    #[test]
    fn split_and_joined() {
        let w = hex::decode(WELCOME).unwrap();
        let mut both = w.clone();
        both.extend_from_slice(&[0x80, 0x04, 0x4b, 0x01, 0x2e]);
        assert_eq!(run(&[&both]), ["{'clientid': 60644}", "1"]);
        for cut in 1..both.len() {
            assert_eq!(
                run(&[&both[..cut], &both[cut..]]),
                ["{'clientid': 60644}", "1"],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn shared_and_recursive() {
        // d = {'a': 1}; pickle.dumps([d, d], 4)
        let shared = hex::decode("80049510000000000000005d94287d948c0161944b01736801652e").unwrap();
        assert_eq!(run(&[&shared]), ["[{'a': 1}, {'a': 1}]"]);
        // l = []; l.append(l); pickle.dumps(l, 2)
        let rec = hex::decode("80025d71006800612e").unwrap();
        assert_eq!(run(&[&rec]), ["[[...]]"]);
    }

    #[test]
    fn garbage_then_a_good_message() {
        let mut data = b"GET / HTTP/1.0\r\n\r\n".to_vec();
        data.extend_from_slice(&[0x80, 0x04, 0x4b, 0x07, 0x2e]);
        let out = run(&[&data]);
        assert!(out[0].starts_with("INVALID"), "{out:?}");
        assert_eq!(out.last().unwrap(), "7");
    }

    #[test]
    fn truncated_at_the_end() {
        let w = hex::decode(WELCOME).unwrap();
        assert_eq!(run(&[&w[..10]]), ["TRUNCATED 10"]);
    }

    #[test]
    fn len32_framing() {
        let mut s = PickleStream::new(Framing::Len32, Limits::default());
        s.push(&[0, 0, 0, 5, 0x80, 0x04, 0x4b, 0x02, 0x2e, 0, 0]);
        assert_eq!(reprs(vec![s.next_event().unwrap()]), ["2"]);
        assert!(s.next_event().is_none());
        s.push(&[0, 3, b'N', b'.', b'x']);
        let e = s.next_event().unwrap();
        assert!(matches!(e, Event::Invalid { .. }), "{e:?}");
    }
}
