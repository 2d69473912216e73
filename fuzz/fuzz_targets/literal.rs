//! The Python-literal parser and the pickle encoder: never a panic; whatever parses encodes at every
//! protocol, and our decoder reads it back as the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockkit::cli::Framing;
use sockkit::pickle::{Event, Limits, PickleStream};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = sockkit::pickle::literal::parse(text) else {
        return;
    };
    for proto in 0..=5 {
        let bytes =
            sockkit::pickle::encode::encode(&value, proto).expect("a parsed literal encodes");
        let mut s = PickleStream::new(Framing::Stop, Limits::default());
        s.push(&bytes);
        match s.next_event() {
            Some(Event::Message(m)) => {
                let back = m.to_value().expect("converts back");
                // NaN is not equal to itself; everything else must round-trip exactly.
                if !format!("{value:?}").contains("NaN") {
                    assert_eq!(back, value, "protocol {proto}");
                }
            }
            other => panic!("our own pickle did not decode: {other:?}"),
        }
        assert!(s.next_event().is_none());
    }
});
