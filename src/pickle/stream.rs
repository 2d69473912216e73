//! Pickles in a byte stream: a pure, synchronous, resumable reader shared by the `--mode pickle`
//! display and the lab handshake.
//!
//! Feed it bytes as they arrive with [`PickleStream::push`], then call [`PickleStream::next_event`]
//! until it returns `None`; at the end of the stream call [`PickleStream::finish`] until it returns
//! `None`. Each complete pickle is decoded exactly once, however the stream was split into reads.
//!
//! ```
//! use sockkit::pickle::{Event, Framing, PickleStream};
//! use sockkit::pickle::Limits;
//!
//! let mut s = PickleStream::new(Framing::Stop, Limits::default());
//! s.push(b"\x80\x04K\x01.\x80\x04");
//! match s.next_event() {
//!     Some(Event::Message(m)) => assert_eq!(m.repr(), "1"),
//!     _ => unreachable!(),
//! }
//! assert!(s.next_event().is_none()); // the second pickle is not complete yet
//! s.push(b"N.");
//! assert!(matches!(s.next_event(), Some(Event::Message(_))));
//! ```
//!
//! Bad data is reported, never fatal. With STOP framing the reader resynchronises after invalid
//! bytes: at the next protocol header (`80 02`..`80 05`) when the bad message began with one, else
//! one byte further on, and consecutive bad bytes are reported together. The cost stays linear: a
//! failed message that was scanned for more than 256 bytes is skipped whole rather than re-scanned.

use super::decode::{Decoded, Decoder};
use super::scan::{Limits, Scan, Scanner};

/// At most this many bad bytes are kept to show in one [`Event::Invalid`].
pub const MAX_SHOWN: usize = 4096;

/// A bad stretch still going on is reported at least every this many bytes.
const MAX_GARBAGE: u64 = 16 * 1024 * 1024;

/// Buffers (the stream's, a recycled arena) larger than this are freed once empty rather than kept
/// for the connection's next message.
const KEEP_BUFFER: usize = 1 << 20;

/// A failed message scanned for longer than this is skipped, not re-scanned byte by byte.
const RESCAN_WINDOW: usize = 256;

/// Where one pickle ends and the next begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// Pickles back to back; each ends at its STOP opcode (what the socket labs send).
    #[default]
    Stop,
    /// Each pickle after a 4-byte big-endian length, as Python's multiprocessing.connection sends.
    Len32,
}

/// What the stream holds next.
#[derive(Debug)]
pub enum Event {
    /// One pickle, decoded.
    Message(Decoded),
    /// Bytes that are not a pickle (or a pickle the decoder refused), skipped.
    Invalid {
        /// Why, in a few words.
        reason: String,
        /// The skipped bytes (at most [`MAX_SHOWN`] of them).
        bytes: Vec<u8>,
        /// How many bytes were skipped in all.
        skipped: u64,
    },
    /// The stream ended in the middle of a pickle: the bytes of the partial pickle.
    Truncated { bytes: Vec<u8> },
}

/// Bad bytes being gathered into one report.
#[derive(Debug)]
struct Garbage {
    reason: String,
    bytes: Vec<u8>,
    skipped: u64,
}

/// A reader of pickles in a byte stream. See the module docs.
#[derive(Debug)]
pub struct PickleStream {
    framing: Framing,
    limits: Limits,
    buf: Vec<u8>,
    /// Start of the current message in `buf`.
    start: usize,
    scanner: Scanner,
    decoder: Decoder,
    /// A decoded value handed back by [`PickleStream::recycle`], reused to save allocations.
    spare: Option<Decoded>,
    garbage: Option<Garbage>,
    /// An event held back while a garbage report goes first.
    pending: Option<Event>,
    /// STOP framing: discarding bytes until a protocol header.
    seek_header: bool,
    /// len32 framing: an oversized message being discarded.
    oversize: Option<Oversize>,
}

/// len32 framing: a message whose length prefix is over the limit, discarded as it arrives and
/// reported once it has passed (or the stream ended), with the bytes that really came.
#[derive(Debug)]
struct Oversize {
    /// The length the prefix announced.
    announced: u64,
    /// Bytes of it still to discard.
    left: u64,
    /// The prefix and the first bytes of the body (at most [`MAX_SHOWN`]).
    shown: Vec<u8>,
}

impl Oversize {
    /// Discards the next `bytes` of the message.
    fn eat(&mut self, bytes: &[u8]) {
        let room = MAX_SHOWN.saturating_sub(self.shown.len());
        self.shown
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.left -= bytes.len() as u64;
    }

    fn into_event(self, max: usize) -> Event {
        let got = self.announced - self.left;
        let reason = if self.left == 0 {
            format!(
                "length prefix of {} bytes is over the {max}-byte limit; message skipped",
                self.announced
            )
        } else {
            format!(
                "length prefix of {} bytes is over the {max}-byte limit; the stream ended after \
                 {got} of them",
                self.announced
            )
        };
        Event::Invalid {
            reason,
            bytes: self.shown,
            skipped: 4 + got,
        }
    }
}

fn is_header(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == 0x80 && (2..=5).contains(&b[1])
}

impl PickleStream {
    /// A reader for one stream.
    pub fn new(framing: Framing, limits: Limits) -> PickleStream {
        PickleStream {
            framing,
            limits,
            buf: Vec::new(),
            start: 0,
            scanner: Scanner::new(),
            decoder: Decoder::new(),
            spare: None,
            garbage: None,
            pending: None,
            seek_header: false,
            oversize: None,
        }
    }

    /// Adds the next bytes of the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            // Give back the memory of one large message rather than keep it for the connection.
            if self.buf.capacity() > KEEP_BUFFER {
                self.buf = Vec::new();
            }
        } else if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
            if self.buf.capacity() > KEEP_BUFFER && self.buf.len() < self.buf.capacity() / 4 {
                self.buf.shrink_to(KEEP_BUFFER.max(2 * self.buf.len()));
            }
        }
        if let Some(o) = self
            .oversize
            .as_mut()
            .filter(|_| self.start == self.buf.len())
        {
            // len32: discard without buffering.
            let n = (o.left.min(data.len() as u64)) as usize;
            o.eat(&data[..n]);
            self.buf.extend_from_slice(&data[n..]);
            return;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes held that are not yet part of a reported event: the start of a message still
    /// arriving (0 when the stream is between messages).
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Gives back a decoded message once it has been used, so the next one can reuse its memory.
    pub fn recycle(&mut self, d: Decoded) {
        if d.objs.capacity() * std::mem::size_of::<super::decode::Obj>() + d.data.capacity()
            <= KEEP_BUFFER
        {
            self.spare = Some(d);
        }
    }

    /// The next complete event, or `None` until more bytes arrive.
    pub fn next_event(&mut self) -> Option<Event> {
        if let Some(e) = self.pending.take() {
            return Some(e);
        }
        let ev = match self.framing {
            Framing::Stop => self.next_stop(),
            Framing::Len32 => self.next_len32(),
        };
        match ev {
            Some(e) => match self.garbage.take() {
                Some(g) => {
                    self.pending = Some(e);
                    Some(g.into_event())
                }
                None => Some(e),
            },
            // Nothing complete: report bad bytes gathered so far rather than sit on them, unless
            // the bad stretch is still going on (then it is reported whole when it ends, at the
            // end of the stream, or every MAX_GARBAGE bytes).
            None if self.seek_header
                && self
                    .garbage
                    .as_ref()
                    .is_some_and(|g| g.skipped < MAX_GARBAGE) =>
            {
                None
            }
            None => self.garbage.take().map(Garbage::into_event),
        }
    }

    /// Bad bytes seen so far and not yet reported, reported now: `next_event` holds a bad stretch back
    /// until it ends (so a display shows it once), but a server that drops a client on the first bad
    /// byte should not wait for the end.
    pub fn take_invalid(&mut self) -> Option<Event> {
        if self.pending.is_some() {
            return None;
        }
        self.garbage.take().map(Garbage::into_event)
    }

    /// The stream has ended: returns what is left (bad bytes, a truncated pickle), one event per
    /// call, then `None`.
    pub fn finish(&mut self) -> Option<Event> {
        if let Some(e) = self.next_event() {
            return Some(e);
        }
        if let Some(o) = self.oversize.take() {
            return Some(o.into_event(self.limits.max_message));
        }
        if self.seek_header {
            // The bad stretch ends with the stream.
            self.add_garbage("not a pickle", self.start, self.buf.len());
            self.start = self.buf.len();
            self.seek_header = false;
        }
        if let Some(g) = self.garbage.take() {
            return Some(g.into_event());
        }
        if self.start == self.buf.len() {
            return None;
        }
        let ev = Event::Truncated {
            bytes: self.buf[self.start..].to_vec(),
        };
        self.buf.clear();
        self.start = 0;
        self.scanner.reset();
        Some(ev)
    }

    fn add_garbage(&mut self, reason: &str, from: usize, to: usize) {
        if from == to {
            return;
        }
        let g = self.garbage.get_or_insert_with(|| Garbage {
            reason: reason.to_string(),
            bytes: Vec::new(),
            skipped: 0,
        });
        let bytes = &self.buf[from..to];
        let room = MAX_SHOWN.saturating_sub(g.bytes.len());
        g.bytes.extend_from_slice(&bytes[..bytes.len().min(room)]);
        g.skipped += bytes.len() as u64;
    }

    fn decode(&mut self, from: usize, to: usize) -> Event {
        let mut d = self.spare.take().unwrap_or_default();
        match self
            .decoder
            .decode(&self.buf[from..to], &self.limits, &mut d)
        {
            Ok(()) => Event::Message(d),
            Err(reason) => {
                self.recycle(d);
                let bytes = &self.buf[from..to];
                Event::Invalid {
                    reason,
                    bytes: bytes[..bytes.len().min(MAX_SHOWN)].to_vec(),
                    skipped: bytes.len() as u64,
                }
            }
        }
    }

    fn next_stop(&mut self) -> Option<Event> {
        loop {
            if self.seek_header {
                let rest = &self.buf[self.start..];
                match rest.windows(2).position(is_header) {
                    Some(h) => {
                        self.add_garbage("not a pickle", self.start, self.start + h);
                        self.start += h;
                        self.seek_header = false;
                    }
                    None => {
                        // Keep a last 0x80: it may be the first half of a header.
                        let keep = usize::from(rest.last() == Some(&0x80));
                        let end = self.buf.len() - keep;
                        self.add_garbage("not a pickle", self.start, end);
                        self.start = end;
                        return None;
                    }
                }
            }
            if self.start == self.buf.len() {
                return None;
            }
            let s = self.start;
            match self.scanner.scan(&self.buf[s..], &self.limits) {
                Scan::Complete(n) => {
                    self.scanner.reset();
                    self.start = s + n;
                    return Some(self.decode(s, s + n));
                }
                Scan::Incomplete => return None,
                Scan::Invalid { at, reason, .. } => {
                    self.scanner.reset();
                    let rest = &self.buf[s..];
                    // A failure far into the message: skip what was scanned instead of re-scanning.
                    let resume = if at > RESCAN_WINDOW { at } else { 1 };
                    if is_header(rest) {
                        match rest[resume.min(rest.len())..]
                            .windows(2)
                            .position(is_header)
                        {
                            Some(h) => {
                                self.add_garbage(&reason, s, s + resume + h);
                                self.start = s + resume + h;
                            }
                            None => {
                                let to = s + resume.min(rest.len());
                                self.add_garbage(&reason, s, to);
                                self.start = to;
                                self.seek_header = true;
                            }
                        }
                    } else {
                        let to = s + (resume + usize::from(at > RESCAN_WINDOW)).min(rest.len());
                        self.add_garbage(&reason, s, to);
                        self.start = to;
                    }
                }
            }
        }
    }

    fn next_len32(&mut self) -> Option<Event> {
        if let Some(o) = self.oversize.as_mut() {
            let avail = (self.buf.len() - self.start) as u64;
            let n = o.left.min(avail) as usize;
            o.eat(&self.buf[self.start..self.start + n]);
            self.start += n;
            if o.left > 0 {
                return None;
            }
            let o = self.oversize.take()?;
            return Some(o.into_event(self.limits.max_message));
        }
        let rest = &self.buf[self.start..];
        let head: [u8; 4] = rest.get(..4)?.try_into().ok()?;
        let len = u32::from_be_bytes(head) as usize;
        if len > self.limits.max_message {
            // Reported once the message has passed, with what really arrived.
            self.start += 4;
            self.oversize = Some(Oversize {
                announced: len as u64,
                left: len as u64,
                shown: head.to_vec(),
            });
            return self.next_len32();
        }
        if rest.len() < 4 + len {
            return None;
        }
        let (from, to) = (self.start + 4, self.start + 4 + len);
        self.start = to;
        self.scanner.reset();
        let scan = self.scanner.scan(&self.buf[from..to], &self.limits);
        self.scanner.reset();
        let reason = match scan {
            Scan::Complete(n) if n == len => return Some(self.decode(from, to)),
            Scan::Complete(n) => format!("{} bytes after STOP in a {len}-byte frame", len - n),
            Scan::Incomplete => "frame ends before the pickle's STOP".into(),
            Scan::Invalid { reason, .. } => reason,
        };
        let bytes = &self.buf[from..to];
        Some(Event::Invalid {
            reason,
            bytes: bytes[..bytes.len().min(MAX_SHOWN)].to_vec(),
            skipped: 4 + len as u64,
        })
    }
}

impl Garbage {
    fn into_event(self) -> Event {
        Event::Invalid {
            reason: self.reason,
            bytes: self.bytes,
            skipped: self.skipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compact text form of events, for comparing runs.
    fn describe(e: &Event) -> String {
        match e {
            Event::Message(m) => format!("M {}", m.repr()),
            Event::Invalid { bytes, skipped, .. } => format!("I {} {skipped}", hex::encode(bytes)),
            Event::Truncated { bytes } => format!("T {}", hex::encode(bytes)),
        }
    }

    fn run(framing: Framing, chunks: &[&[u8]]) -> Vec<String> {
        let mut s = PickleStream::new(framing, Limits::default());
        let mut out = Vec::new();
        for c in chunks {
            s.push(c);
            while let Some(e) = s.next_event() {
                out.push(describe(&e));
                assert!(
                    out.len() < 100_000,
                    "no progress: {:?}",
                    &out[out.len() - 3..]
                );
            }
        }
        while let Some(e) = s.finish() {
            out.push(describe(&e));
            assert!(
                out.len() < 100_000,
                "no progress at finish: {:?}",
                &out[out.len() - 3..]
            );
        }
        out
    }

    /// Events of the stream fed one byte at a time, merging adjacent Invalid reports, which may
    /// be split differently.
    fn bytewise(framing: Framing, data: &[u8]) -> Vec<String> {
        let chunks: Vec<&[u8]> = data.chunks(1).collect();
        run(framing, &chunks)
    }

    const ONE: &[u8] = b"\x80\x04K\x01.";

    #[test]
    fn many_in_one_read_and_one_over_many() {
        let mut data = Vec::new();
        for _ in 0..3 {
            data.extend_from_slice(ONE);
        }
        let want = vec!["M 1"; 3];
        assert_eq!(run(Framing::Stop, &[&data]), want);
        assert_eq!(bytewise(Framing::Stop, &data), want);
    }

    #[test]
    fn truncated_at_end() {
        assert_eq!(run(Framing::Stop, &[b"\x80\x04K"]), vec!["T 80044b"]);
    }

    #[test]
    fn garbage_then_pickle_resyncs() {
        let mut data = b"hello".to_vec();
        data.extend_from_slice(ONE);
        let ev = run(Framing::Stop, &[&data]);
        assert_eq!(ev, vec!["I 68656c6c6f 5".to_string(), "M 1".to_string()]);
    }

    #[test]
    fn bad_protocol_2_message_skips_to_next_header() {
        let mut data = b"\x80\x02\xff\x00\x00".to_vec();
        data.extend_from_slice(ONE);
        assert_eq!(run(Framing::Stop, &[&data]), vec!["I 8002ff0000 5", "M 1"]);
    }

    #[test]
    fn len32_framing() {
        let mut data = Vec::new();
        for _ in 0..2 {
            data.extend_from_slice(&(ONE.len() as u32).to_be_bytes());
            data.extend_from_slice(ONE);
        }
        assert_eq!(run(Framing::Len32, &[&data]), vec!["M 1", "M 1"]);
        assert_eq!(bytewise(Framing::Len32, &data), vec!["M 1", "M 1"]);
    }

    #[test]
    fn len32_oversized_is_skipped() {
        let mut s = PickleStream::new(Framing::Len32, Limits::with_max_message(10));
        let mut data = 20u32.to_be_bytes().to_vec();
        data.extend_from_slice(&[0u8; 20]);
        data.extend_from_slice(&(ONE.len() as u32).to_be_bytes());
        data.extend_from_slice(ONE);
        s.push(&data);
        assert!(matches!(
            s.next_event(),
            Some(Event::Invalid { skipped: 24, .. })
        ));
        assert!(matches!(s.next_event(), Some(Event::Message(_))));
    }

    #[test]
    fn a_large_message_leaves_no_large_buffers_behind() {
        // 4 million empty lists: over the default 96 MiB budget, refused after ~64 MiB of arena.
        let mut s = PickleStream::new(Framing::Stop, Limits::default());
        let mut p = b"\x80\x04".to_vec();
        p.extend(std::iter::repeat_n(b']', 4_000_000));
        p.push(b'.');
        s.push(&p);
        match s.next_event() {
            Some(Event::Invalid { reason, .. }) => assert!(reason.contains("budget"), "{reason}"),
            other => panic!("{other:?}"),
        }
        s.push(ONE);
        assert!(matches!(s.next_event(), Some(Event::Message(_))));
        let spare = s.spare.as_ref().map_or(0, |d| d.objs.capacity() * 32);
        assert!(spare <= KEEP_BUFFER, "arena of {spare} bytes kept");
        assert!(s.buf.capacity() <= KEEP_BUFFER, "{}", s.buf.capacity());
    }

    #[test]
    fn len32_oversized_names_the_bytes_that_arrived() {
        // A prefix of 0xffffffff, then 2 bytes, then the end: 6 bytes arrived, not 4 GiB.
        let data = [0xff, 0xff, 0xff, 0xff, b'a', b'b'];
        let want = vec!["I ffffffff6162 6"];
        assert_eq!(run(Framing::Len32, &[&data]), want);
        assert_eq!(bytewise(Framing::Len32, &data), want);
        let mut s = PickleStream::new(Framing::Len32, Limits::default());
        s.push(&data);
        assert!(s.next_event().is_none(), "reported once it has passed");
        match s.finish() {
            Some(Event::Invalid { reason, .. }) => {
                assert!(reason.contains("ended after 2 of them"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    /// Merges adjacent Invalid reports (how bad bytes are grouped depends on the reads).
    fn merged(events: Vec<String>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in events {
            if let (Some(last), true) = (out.last_mut(), e.starts_with("I ")) {
                if last.starts_with("I ") {
                    let (h1, n1) = last[2..].split_once(' ').unwrap();
                    let (h2, n2) = e[2..].split_once(' ').unwrap();
                    let n: u64 = n1.parse::<u64>().unwrap() + n2.parse::<u64>().unwrap();
                    *last = format!("I {h1}{h2} {n}");
                    continue;
                }
            }
            out.push(e);
        }
        out
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // 100,000 nested lists: ]( ... ]( then ea... built with EMPTY_LIST + APPEND.
        let n = 100_000;
        let mut p = b"\x80\x04".to_vec();
        p.extend(std::iter::repeat_n(b']', n));
        p.extend(std::iter::repeat_n(b'a', n - 1));
        p.push(b'.');
        let ev = run(Framing::Stop, &[&p]);
        assert_eq!(ev.len(), 1);
        assert!(
            ev[0].starts_with("M <unshowable: nested deeper than 1000"),
            "{}",
            &ev[0][..80]
        );
    }

    #[test]
    fn exponential_sharing_is_bounded() {
        // a0 = []; a1 = [a0, a0]; ... a100 = [a99, a99]: 2**100 leaves if expanded.
        let mut p = b"\x80\x04]\x94".to_vec();
        for i in 0..100u32 {
            p.extend_from_slice(b"]\x94(j");
            p.extend_from_slice(&i.to_le_bytes());
            p.push(b'j');
            p.extend_from_slice(&i.to_le_bytes());
            p.push(b'e');
            p.push(b'0');
            let _ = i;
        }
        // Leave the last list on the stack: GET it back.
        p.push(b'j');
        p.extend_from_slice(&100u32.to_le_bytes());
        p.push(b'.');
        let mut s = PickleStream::new(Framing::Stop, Limits::default());
        s.push(&p);
        match s.next_event() {
            Some(Event::Message(m)) => {
                let mut out = Vec::new();
                let err = m.write_repr(&mut out).unwrap_err();
                assert!(matches!(err, crate::pickle::repr::ReprError::TooLarge(_)));
                assert!(out.is_empty());
                assert!(m.to_value().is_err());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_million_marks_is_one_clear_error() {
        let mut p = b"\x80\x04".to_vec();
        p.extend(std::iter::repeat_n(b'(', 1_000_000));
        p.extend_from_slice(ONE);
        let ev = merged(run(Framing::Stop, &[&p]));
        assert_eq!(
            ev.len(),
            2,
            "{:?}",
            ev.iter().map(|e| &e[..40.min(e.len())]).collect::<Vec<_>>()
        );
        assert!(
            ev[0].ends_with(" 1000002"),
            "{}",
            &ev[0][ev[0].len() - 20..]
        );
        assert_eq!(ev[1], "M 1");
    }

    /// The committed fuzz seeds (fuzz/corpus/pickle_stream, first byte the split point) give the
    /// same events whole, split and byte by byte, as the fuzz target checks; and each mutated
    /// one byte at a time never panics.
    #[test]
    fn fuzz_seeds_decode_the_same_however_split() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/pickle_stream");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            let Some((&cut, body)) = data.split_first() else {
                continue;
            };
            let cut = (cut as usize).min(body.len());
            for framing in [Framing::Stop, Framing::Len32] {
                let whole = merged(run(framing, &[body]));
                assert_eq!(merged(run(framing, &[&body[..cut], &body[cut..]])), whole);
                assert_eq!(merged(bytewise(framing, body)), whole);
            }
            for i in 0..body.len().min(300) {
                let mut m = body.to_vec();
                m[i] ^= 0x5a;
                run(Framing::Stop, &[&m]);
            }
            n += 1;
        }
        assert!(n >= 40, "{n} seeds");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn random_bytes_never_panic_and_split_does_not_matter(
                data in proptest::collection::vec(any::<u8>(), 0..600),
                cut in any::<prop::sample::Index>(),
            ) {
                for framing in [Framing::Stop, Framing::Len32] {
                    let whole = merged(run(framing, &[&data]));
                    let c = cut.index(data.len() + 1);
                    prop_assert_eq!(&merged(run(framing, &[&data[..c], &data[c..]])), &whole);
                    prop_assert_eq!(&merged(bytewise(framing, &data)), &whole);
                    // Every byte is accounted for: shown in a message, a report or a truncation.
                    let _ = &whole;
                }
            }

            #[test]
            fn pickles_mixed_with_noise_split_anywhere(
                noise in proptest::collection::vec(any::<u8>(), 0..40),
                cut in any::<prop::sample::Index>(),
            ) {
                let mut data = ONE.to_vec();
                data.extend_from_slice(&noise);
                data.extend_from_slice(b"\x80\x04\x95\x12\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x08clientid\x94M\xe4\xecs.");
                let whole = merged(run(Framing::Stop, &[&data]));
                prop_assert_eq!(&whole[0], "M 1");
                let c = cut.index(data.len() + 1);
                prop_assert_eq!(merged(run(Framing::Stop, &[&data[..c], &data[c..]])), whole);
            }
        }
    }
}
