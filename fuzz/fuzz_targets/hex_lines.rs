//! The hex send mode: never a panic, and what it accepts re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bytes) = sockkit::send::parse_hex(text) {
        let again = sockkit::send::parse_hex(&hex::encode(&bytes)).expect("its own hex parses");
        assert_eq!(again, bytes);
    }
});
