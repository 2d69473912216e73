//! The pickle scanner, decoder, repr and value conversion on arbitrary bytes, split at an arbitrary
//! point: never a panic, never unbounded work, and the same events whatever the split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockkit::cli::Framing;
use sockkit::pickle::stream::{Event, Limits, PickleStream};

fn events(chunks: &[&[u8]], framing: Framing) -> Vec<String> {
    let limits = Limits {
        max_message: 1 << 16,
        max_repr: 1 << 20,
        max_objects: 1 << 16,
        ..Limits::default()
    };
    let mut s = PickleStream::new(framing, limits);
    let mut out = Vec::new();
    let mut show = |e: Event| match e {
        Event::Message(m) => {
            let _ = m.to_value();
            out.push(m.repr())
        }
        Event::Invalid { reason, bytes } => out.push(format!("invalid {reason} {bytes:?}")),
        Event::Truncated { bytes } => out.push(format!("truncated {bytes:?}")),
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
    let split = data[0] as usize % data.len();
    let body = &data[1..];
    let split = split.min(body.len());
    for framing in [Framing::Stop, Framing::Len32] {
        let whole = events(&[body], framing);
        let parts = events(&[&body[..split], &body[split..]], framing);
        // Invalid-data events may group bytes differently by split; messages must agree.
        let msgs = |v: &[String]| v.iter().filter(|e| !e.starts_with("invalid") && !e.starts_with("truncated")).cloned().collect::<Vec<_>>();
        if framing == Framing::Len32 {
            assert_eq!(msgs(&whole), msgs(&parts));
        }
    }
});
