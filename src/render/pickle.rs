//! Pickle display: each pickle found in the stream printed on its own line as Python's `repr()` would.
//!
//! Line format: `REPR`, or `[PEER] REPR` when several peers share stdout; with -v the bracket also says
//! the direction and size (`[received 29 bytes] {'clientid': 60644}`). What cannot be shown as a value
//! still gets exactly one line, in angle brackets so it cannot be mistaken for one, and a warning on
//! stderr: `<not a pickle: REASON: 47 45 54 ...>`, `<truncated pickle: 10 bytes: 80 04 ...>`,
//! `<unprintable pickle: REASON>`. Globals are shown, never imported (`<global os.system>`), and named
//! in a warning.

use super::{Render, RenderOpts, StreamLabel};
use crate::pickle::stream::{Event, Limits, PickleStream};

/// The pickle renderer of one stream.
pub struct PickleRender {
    stream: PickleStream,
    label: StreamLabel,
    verbose: bool,
}

/// How many bytes of a bad message are shown in hex.
const SHOW: usize = 32;

impl PickleRender {
    pub fn new(label: StreamLabel, opts: &RenderOpts) -> PickleRender {
        PickleRender {
            stream: PickleStream::new(
                opts.framing,
                Limits {
                    max_message: opts.max_message,
                    ..Limits::default()
                },
            ),
            label,
            verbose: opts.verbose,
        }
    }

    fn prefix(&self, out: &mut Vec<u8>, len: usize) {
        let direction = if self.label.direction.is_empty() {
            "received"
        } else {
            self.label.direction
        };
        match (&self.label.peer, self.verbose) {
            (None, false) => {}
            (Some(peer), false) => {
                out.push(b'[');
                out.extend_from_slice(peer.as_bytes());
                out.extend_from_slice(b"] ");
            }
            (Some(peer), true) => {
                out.extend_from_slice(format!("[{peer} {direction} {len} bytes] ").as_bytes())
            }
            (None, true) => out.extend_from_slice(format!("[{direction} {len} bytes] ").as_bytes()),
        }
    }

    fn show(&mut self, event: Event, out: &mut Vec<u8>, diag: &mut Vec<String>) {
        let who = self
            .label
            .peer
            .as_deref()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        match event {
            Event::Message(m) => {
                self.prefix(out, m.bytes().len());
                let mark = out.len();
                if let Err(e) = m.repr_into(out) {
                    out.truncate(mark);
                    out.extend_from_slice(format!("<unprintable pickle: {e}>").as_bytes());
                    diag.push(format!("{who}a pickle that cannot be shown: {e}"));
                }
                out.push(b'\n');
                for g in m.globals() {
                    diag.push(format!(
                        "{who}the pickle names {g}: shown as <global {g}>, not imported and not called"
                    ));
                }
            }
            Event::Invalid { reason, bytes } => {
                self.prefix(out, bytes.len());
                out.extend_from_slice(
                    format!("<not a pickle: {reason}: {}>\n", hex_preview(&bytes)).as_bytes(),
                );
                diag.push(format!("{who}invalid pickle data: {reason}"));
            }
            Event::Truncated { bytes } => {
                self.prefix(out, bytes.len());
                out.extend_from_slice(
                    format!(
                        "<truncated pickle: {} bytes: {}>\n",
                        bytes.len(),
                        hex_preview(&bytes)
                    )
                    .as_bytes(),
                );
                diag.push(format!(
                    "{who}the stream ended in the middle of a pickle ({} bytes)",
                    bytes.len()
                ));
            }
        }
    }
}

/// `80 04 95 12 ...` (the first bytes, space-separated).
pub fn hex_preview(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(SHOW * 3 + 4);
    for (i, b) in bytes.iter().take(SHOW).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    if bytes.len() > SHOW {
        s.push_str(" ...");
    }
    s
}

impl Render for PickleRender {
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>, diag: &mut Vec<String>) {
        self.stream.push(data);
        while let Some(event) = self.stream.next_event() {
            self.show(event, out, diag);
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>, diag: &mut Vec<String>) {
        while let Some(event) = self.stream.finish() {
            self.show(event, out, diag);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_message_whatever_the_chunks() {
        let data =
            hex::decode("80049512000000000000007d948c08636c69656e746964944de4ec732e80044b012e")
                .unwrap();
        for cut in 0..data.len() {
            let mut r = PickleRender::new(StreamLabel::default(), &RenderOpts::default());
            let (mut out, mut diag) = (Vec::new(), Vec::new());
            r.feed(&data[..cut], &mut out, &mut diag);
            r.feed(&data[cut..], &mut out, &mut diag);
            r.finish(&mut out, &mut diag);
            assert_eq!(String::from_utf8(out).unwrap(), "{'clientid': 60644}\n1\n");
            assert!(diag.is_empty());
        }
    }

    #[test]
    fn globals_are_shown_not_run() {
        let evil = b"cos\nsystem\n(S'touch /tmp/x'\ntR.";
        let mut r = PickleRender::new(StreamLabel::default(), &RenderOpts::default());
        let (mut out, mut diag) = (Vec::new(), Vec::new());
        r.feed(evil, &mut out, &mut diag);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<global os.system>('touch /tmp/x')\n"
        );
        assert!(diag[0].contains("os.system"), "{diag:?}");
    }

    #[test]
    fn labels_and_truncation() {
        let label = StreamLabel {
            peer: Some("client2 127.0.0.1:5".into()),
            direction: "received",
        };
        let mut r = PickleRender::new(label, &RenderOpts::default());
        let (mut out, mut diag) = (Vec::new(), Vec::new());
        r.feed(
            &[0x80, 0x04, 0x4b, 0x07, 0x2e, 0x80, 0x04],
            &mut out,
            &mut diag,
        );
        r.finish(&mut out, &mut diag);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[client2 127.0.0.1:5] 7\n[client2 127.0.0.1:5] <truncated pickle: 2 bytes: 80 04>\n"
        );
        assert_eq!(diag.len(), 1);
    }
}
