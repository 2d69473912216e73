//! Amounts of bytes as people read them.

/// `5 bytes`, `100000 bytes (100.0 KB)`.
pub(crate) fn byte_count(n: u64) -> String {
    match n {
        1 => "1 byte".to_string(),
        0..1000 => format!("{n} bytes"),
        _ => format!("{n} bytes ({})", human_bytes(n as f64)),
    }
}

/// `512 B`, `1.5 KB`, `3.2 MB`, `1.1 GB` (decimal units).
pub(crate) fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{} B", n as u64)
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
