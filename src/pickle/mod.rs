//! The Python pickle format, handled safely: nothing is ever imported or run.
//!
//! - [`value`]: [`Value`], a Python object tree (dicts keep insertion order);
//! - display side: [`scan`] finds message boundaries and enforces limits before decoding,
//!   [`decode`] is our own safe decoder (protocols 0 to 5) into an arena, [`repr`] prints Python's
//!   `repr()`, and [`stream`] ties them into a resumable reader of a byte stream;
//! - send side: [`literal`] parses Python literals and [`encode`] writes pickles of protocols 0 to 5
//!   exactly as CPython does.

mod compat_table;
pub(crate) mod decode;
// Public for the fuzz targets, as are the re-exports below.
pub mod encode;
pub mod literal;
pub(crate) mod pyobj;
pub(crate) mod repr;
pub(crate) mod scan;
mod stdlib;
pub(crate) mod stream;
mod unicode_table;
pub(crate) mod value;

pub use decode::Decoded;
pub use scan::Limits;
pub use stream::{Event, Framing, PickleStream};
pub use value::{PyStr, Value};

/// The oracle of the unit tests: python3 runs `code`, and its stdout comes back.
#[cfg(test)]
fn python(code: &str) -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", code])
        .output()
        .expect("python3 is needed for the oracle tests");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python3 prints UTF-8")
}
