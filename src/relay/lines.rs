//! Whole lines on a shared stdout: a stream's partial line is held back until its newline,
//! [`LINE_MAX`] bytes, or [`LINE_QUIET`] without more bytes, so lines of different streams (a
//! server's clients, a relay's connections) never mix within a line.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

/// A partial line is held back at most this long after its last byte came...
pub(crate) const LINE_QUIET: Duration = Duration::from_millis(100);
/// ...or until it is this long (also the longest chat line sent whole).
pub(crate) const LINE_MAX: usize = 64 * 1024;

/// A client's partial line, held back from stdout until its newline, [`LINE_MAX`] bytes, or
/// [`LINE_QUIET`] without more bytes. Every byte is shown exactly once, in order.
#[derive(Default)]
pub(crate) struct LineHold {
    held: BytesMut,
    /// When the held bytes are shown anyway.
    pub(crate) due: Option<Instant>,
}

impl LineHold {
    /// Takes received bytes; returns what can be shown now (whole lines).
    pub(crate) fn push(&mut self, data: Bytes, now: Instant) -> Option<Bytes> {
        if self.held.is_empty() && data.ends_with(b"\n") {
            return Some(data);
        }
        self.held.extend_from_slice(&data);
        let cut = if self.held.len() >= LINE_MAX {
            self.held.len()
        } else {
            self.held
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
        };
        self.due = (cut < self.held.len()).then(|| now + LINE_QUIET);
        (cut > 0).then(|| self.held.split_to(cut).freeze())
    }

    /// The held bytes, if they are due at `now` (or all of them at the `end`).
    pub(crate) fn flush(&mut self, now: Instant, end: bool) -> Option<Bytes> {
        if self.held.is_empty() || !(end || self.due.is_some_and(|t| now >= t)) {
            return None;
        }
        self.due = None;
        Some(self.held.split().freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_lines_come_out_whole_and_every_byte_once() {
        let t0 = Instant::now();
        let mut h = LineHold::default();
        let mut shown = Vec::new();
        let take = |shown: &mut Vec<u8>, b: Option<Bytes>| {
            if let Some(b) = b {
                shown.extend_from_slice(&b)
            }
        };
        take(&mut shown, h.push(Bytes::from_static(b"one\ntw"), t0));
        assert_eq!(h.due, Some(t0 + LINE_QUIET));
        take(
            &mut shown,
            h.push(Bytes::from_static(b"o"), t0 + Duration::from_millis(50)),
        );
        assert_eq!(
            h.flush(t0 + Duration::from_millis(120), false),
            None,
            "quiet restarts with each byte"
        );
        take(
            &mut shown,
            h.push(
                Bytes::from_static(b"\nthree"),
                t0 + Duration::from_millis(130),
            ),
        );
        assert_eq!(shown, b"one\ntwo\n");
        // Quiet: the partial line goes out on its own.
        take(&mut shown, h.flush(t0 + Duration::from_millis(240), false));
        assert_eq!(shown, b"one\ntwo\nthree");
        assert_eq!(h.due, None);
        // A line longer than LINE_MAX is not held for ever.
        let long = Bytes::from(vec![b'x'; LINE_MAX + 5]);
        assert_eq!(h.push(long, t0).map(|b| b.len()), Some(LINE_MAX + 5));
        // At the end, everything held.
        assert_eq!(h.push(Bytes::from_static(b"tail"), t0), None);
        assert_eq!(h.flush(t0, true).as_deref(), Some(&b"tail"[..]));
    }
}
