//! The Python-literal parser and the pickle encoder: never a panic; whatever parses encodes at every
//! protocol, and our decoder reads it back as the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockkit::pickle::{Event, Framing, Limits, PickleStream, Value};

/// The value with the items of every set and frozenset in one canonical order.
fn sorted_sets(v: &Value) -> Value {
    let all = |items: &[Value]| items.iter().map(sorted_sets).collect::<Vec<_>>();
    let sorted = |items: &[Value]| {
        let mut items = all(items);
        items.sort_by_cached_key(|i| format!("{i:?}"));
        items
    };
    match v {
        Value::List(items) => Value::List(all(items)),
        Value::Tuple(items) => Value::Tuple(all(items)),
        Value::Set(items) => Value::Set(sorted(items)),
        Value::FrozenSet(items) => Value::FrozenSet(sorted(items)),
        Value::Dict(items) => Value::Dict(
            items
                .iter()
                .map(|(k, v)| (sorted_sets(k), sorted_sets(v)))
                .collect(),
        ),
        Value::Call { callable, args } => Value::Call {
            callable: Box::new(sorted_sets(callable)),
            args: Box::new(sorted_sets(args)),
        },
        other => other.clone(),
    }
}

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
                // NaN is not equal to itself; everything else must round-trip exactly, except
                // that the decoder puts sets in CPython's order, not the order typed.
                if !format!("{value:?}").contains("NaN") {
                    assert_eq!(sorted_sets(&back), sorted_sets(&value), "protocol {proto}");
                }
            }
            other => panic!("our own pickle did not decode: {other:?}"),
        }
        assert!(s.next_event().is_none());
    }
});
