//! Command-line value parsers: durations, port lists and CIDR lists never panic, and what they accept
//! is consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = sockkit::cli::parse_duration(text) {
        // Whatever parses can be a deadline: now plus it is representable.
        assert!(d <= sockkit::cli::MAX_DURATION);
        assert!(std::time::Instant::now().checked_add(d).is_some());
    }
    let words: Vec<String> = text.split(' ').map(String::from).collect();
    if let Ok(ports) = sockkit::cmd::connect::parse_port_list(&words) {
        assert!(!ports.is_empty());
    }
    let _ = sockkit::access::parse_list("--allow", &words);
});
