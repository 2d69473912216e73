//! The pickle scanner, decoder, repr and value conversion on arbitrary bytes, split at an arbitrary
//! point: never a panic, never unbounded work, and the same messages whatever the split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockkit::pickle::{Event, Framing, Limits, PickleStream};

fn events(chunks: &[&[u8]], framing: Framing) -> Vec<String> {
    let mut s = PickleStream::new(framing, Limits::with_max_message(1 << 16));
    let mut out = Vec::new();
    let mut show = |e: Event| match e {
        Event::Message(m) => {
            let _ = m.to_value();
            out.push(m.repr())
        }
        // How a run of bad bytes is cut into reports depends on the reads; that it is reported
        // (and which messages surround it) does not.
        Event::Invalid { .. } => {
            if out.last().map(String::as_str) != Some("invalid") {
                out.push("invalid".to_string())
            }
        }
        Event::Truncated { .. } => out.push("truncated".to_string()),
    };
    for c in chunks {
        s.push(c);
        while let Some(e) = s.next_event() {
            show(e);
        }
    }
    while let Some(e) = s.finish() {
        show(e);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let body = &data[1..];
    let split = (data[0] as usize).min(body.len());
    for framing in [Framing::Stop, Framing::Len32] {
        let whole = events(&[body], framing);
        let parts = events(&[&body[..split], &body[split..]], framing);
        assert_eq!(whole, parts, "a split changed what was decoded");
    }
});
