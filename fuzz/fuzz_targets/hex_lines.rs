//! The hex send mode: never a panic, and what it accepts re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockkit::send::SendMode;

fuzz_target!(|data: &[u8]| {
    let mut enc = sockkit::send::encoder(SendMode::Hex, 4);
    if let Ok(Some(bytes)) = enc.encode(data) {
        let again = enc
            .encode(hex::encode(&bytes).as_bytes())
            .expect("its own hex parses")
            .expect("non-empty");
        assert_eq!(again, bytes);
    }
});
