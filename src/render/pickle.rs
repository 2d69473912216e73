//! Pickle display (`--mode pickle`): each pickle in the stream on its own line, as Python's `repr()`.
//!
//! Output format, one line per message, so stdout stays parseable:
//! - a decoded pickle: its repr, e.g. `{'a': 1}` (see [`crate::pickle::repr`] for how globals and
//!   calls are shown without running anything);
//! - bytes that are not a pickle: `# invalid, N bytes: 68 65 6c 6c 6f` (the bytes in hex, at most
//!   1024 of them, then ` ...`);
//! - a pickle cut off by the end of the stream: `# truncated, N bytes: 80 04 4b`;
//! - a pickle Python could not print, or too large to print:
//!   `# unshowable, N bytes (nested deeper than 1000 levels)`, the reason in parentheses.
//!
//! Lines about bad data start with `#`, which no repr does, so a consumer can tell them apart (and
//! Python reads them as comments). Each comes with a warning on stderr saying why; so does every
//! pickle that names a global. With several peers each line starts with `[PEER] `; with -v the
//! bracket also says the direction and size: `[127.0.0.1:5555 received 98 bytes] {'a': 1}`.

use std::collections::HashSet;

use super::{Render, RenderOpts, StreamLabel};
use crate::pickle::repr::hex_byte;
use crate::pickle::stream::{Event, PickleStream};
use crate::pickle::Limits;

/// At most this many bytes of bad data are shown in hex on one line.
const SHOWN_HEX: usize = 1024;

/// The pickle display state of one stream.
pub struct PickleRender {
    stream: PickleStream,
    label: StreamLabel,
    verbose: bool,
    /// Warnings already given on this stream: each is given once per connection, not per message.
    warned: HashSet<String>,
}

/// At most this many distinct warnings are remembered (and given) per stream.
const MAX_WARNINGS: usize = 1000;

impl PickleRender {
    pub fn new(label: StreamLabel, opts: &RenderOpts) -> PickleRender {
        PickleRender {
            stream: PickleStream::new(opts.framing, Limits::with_max_message(opts.max_message)),
            label,
            verbose: opts.verbose,
            warned: HashSet::new(),
        }
    }

    fn direction(&self) -> &'static str {
        if self.label.direction.is_empty() {
            "received"
        } else {
            self.label.direction
        }
    }

    fn prefix(&self, len: u64, out: &mut Vec<u8>) {
        match (&self.label.peer, self.verbose) {
            (None, false) => {}
            (Some(p), false) => {
                out.push(b'[');
                out.extend_from_slice(p.as_bytes());
                out.extend_from_slice(b"] ");
            }
            (peer, true) => {
                out.push(b'[');
                if let Some(p) = peer {
                    out.extend_from_slice(p.as_bytes());
                    out.push(b' ');
                }
                out.extend_from_slice(format!("{} {len} bytes] ", self.direction()).as_bytes());
            }
        }
    }

    fn warn(&self, text: &str, diag: &mut Vec<String>) {
        match &self.label.peer {
            Some(p) => diag.push(format!("[{p}] {text}")),
            None => diag.push(text.to_string()),
        }
    }

    fn bad_line(&self, what: &str, bytes: &[u8], total: u64, out: &mut Vec<u8>) {
        self.prefix(total, out);
        out.extend_from_slice(format!("# {what}, {total} bytes").as_bytes());
        if bytes.is_empty() {
            out.push(b'\n');
            return;
        }
        out.push(b':');
        for b in bytes.iter().take(SHOWN_HEX) {
            out.push(b' ');
            out.extend_from_slice(&hex_byte(*b));
        }
        if total > bytes.len().min(SHOWN_HEX) as u64 {
            out.extend_from_slice(b" ...");
        }
        out.push(b'\n');
    }

    fn show(&mut self, ev: Event, out: &mut Vec<u8>, diag: &mut Vec<String>) {
        match ev {
            Event::Message(m) => {
                let mark = out.len();
                self.prefix(m.len() as u64, out);
                match m.write_repr(out) {
                    Ok(()) => out.push(b'\n'),
                    Err(e) => {
                        out.truncate(mark);
                        self.warn(&format!("pickle of {} bytes not shown: {e}", m.len()), diag);
                        self.prefix(m.len() as u64, out);
                        out.extend_from_slice(
                            format!("# unshowable, {} bytes ({e})\n", m.len()).as_bytes(),
                        );
                    }
                }
                for w in m.warnings() {
                    if self.warned.len() > MAX_WARNINGS || self.warned.contains(w) {
                        continue;
                    }
                    self.warned.insert(w.clone());
                    if self.warned.len() > MAX_WARNINGS {
                        self.warn(
                            &format!("more than {MAX_WARNINGS} distinct globals named: no more warnings about them on this stream"),
                            diag,
                        );
                    } else {
                        self.warn(w, diag);
                    }
                }
                self.stream.recycle(m);
            }
            Event::Invalid {
                reason,
                bytes,
                skipped,
            } => {
                self.warn(
                    &format!("invalid pickle data, {skipped} bytes skipped: {reason}"),
                    diag,
                );
                self.bad_line("invalid", &bytes, skipped, out);
            }
            Event::Truncated { bytes } => {
                self.warn(
                    &format!("stream ended inside a pickle ({} bytes)", bytes.len()),
                    diag,
                );
                self.bad_line("truncated", &bytes, bytes.len() as u64, out);
            }
        }
    }
}

impl Render for PickleRender {
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>, diag: &mut Vec<String>) {
        self.stream.push(data);
        while let Some(ev) = self.stream.next_event() {
            self.show(ev, out, diag);
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>, diag: &mut Vec<String>) {
        while let Some(ev) = self.stream.finish() {
            self.show(ev, out, diag);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::DisplayMode;

    fn render(label: StreamLabel, verbose: bool, chunks: &[&[u8]]) -> (String, Vec<String>) {
        let opts = RenderOpts {
            mode: DisplayMode::Pickle,
            verbose,
            ..RenderOpts::default()
        };
        let mut r = PickleRender::new(label, &opts);
        let (mut out, mut diag) = (Vec::new(), Vec::new());
        for c in chunks {
            r.feed(c, &mut out, &mut diag);
        }
        r.finish(&mut out, &mut diag);
        (String::from_utf8(out).unwrap(), diag)
    }

    const CLIENTID: &[u8] =
        b"\x80\x04\x95\x12\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x08clientid\x94M\xe4\xecs.";

    #[test]
    fn one_line_per_pickle() {
        let (out, diag) = render(
            StreamLabel::default(),
            false,
            &[CLIENTID, &CLIENTID[..7], &CLIENTID[7..]],
        );
        assert_eq!(out, "{'clientid': 60644}\n{'clientid': 60644}\n");
        assert!(diag.is_empty());
    }

    #[test]
    fn peer_and_verbose_prefixes() {
        let label = StreamLabel {
            peer: Some("client2 127.0.0.1:5555".into()),
            direction: "received",
        };
        let (out, _) = render(label.clone(), false, &[CLIENTID]);
        assert_eq!(out, "[client2 127.0.0.1:5555] {'clientid': 60644}\n");
        let (out, _) = render(label, true, &[CLIENTID]);
        assert_eq!(
            out,
            "[client2 127.0.0.1:5555 received 29 bytes] {'clientid': 60644}\n"
        );
    }

    #[test]
    fn bad_and_truncated_data_are_marked_lines() {
        let (out, diag) = render(
            StreamLabel::default(),
            false,
            &[b"hi", CLIENTID, b"\x80\x04K"],
        );
        assert_eq!(
            out,
            "# invalid, 2 bytes: 68 69\n{'clientid': 60644}\n# truncated, 3 bytes: 80 04 4b\n"
        );
        assert_eq!(diag.len(), 2, "{diag:?}");
        assert!(diag[1].contains("ended inside a pickle"), "{diag:?}");
    }

    #[test]
    fn globals_are_shown_and_warned() {
        let (out, diag) = render(
            StreamLabel::default(),
            false,
            &[b"\x80\x02cos\nsystem\nX\x07\x00\x00\x00echo hi\x85R."],
        );
        assert_eq!(out, "<call os.system('echo hi')>\n");
        assert_eq!(diag.len(), 1);
        assert!(diag[0].contains("os.system"));
    }

    #[test]
    fn each_global_is_warned_once_per_stream() {
        let evil: &[u8] = b"\x80\x02cos\nsystem\nX\x07\x00\x00\x00echo hi\x85R.";
        let other: &[u8] = b"\x80\x02cos\ngetcwd\n)R.";
        let (out, diag) = render(StreamLabel::default(), false, &[evil, evil, other, evil]);
        assert_eq!(out.lines().count(), 4, "{out}");
        assert_eq!(diag.len(), 2, "{diag:?}");
        assert!(diag[0].contains("os.system") && diag[1].contains("os.getcwd"));
        // A new stream (another connection) is warned again.
        let (_, diag) = render(StreamLabel::default(), false, &[evil]);
        assert_eq!(diag.len(), 1);
    }

    #[test]
    fn an_unprintable_int_is_a_line_naming_the_limit() {
        let mut p = b"\x80\x04\x8b".to_vec();
        p.extend_from_slice(&10_000u32.to_le_bytes());
        p.extend(std::iter::repeat_n(0x55, 10_000));
        p.push(b'.');
        let (out, diag) = render(StreamLabel::default(), false, &[&p, CLIENTID]);
        assert_eq!(
            out,
            "# unshowable, 10008 bytes (an int has more than 4300 digits: Python's repr raises \
             ValueError: Exceeds the limit (4300 digits) for integer string conversion)\n\
             {'clientid': 60644}\n"
        );
        assert_eq!(diag.len(), 1, "{diag:?}");
    }
}
