//! The Python pickle format, handled safely: nothing is ever imported or run.
//!
//! - [`value`]: [`Value`], a Python object tree (dicts keep insertion order);
//! - display side: [`scan`] finds message boundaries and enforces limits before decoding,
//!   [`decode`] is our own safe decoder (protocols 0 to 5) into an arena, [`repr`] prints Python's
//!   `repr()`, and [`stream`] ties them into a resumable reader of a byte stream;
//! - send side: [`literal`] parses Python literals and [`encode`] writes pickles of protocols 0 to 5
//!   exactly as CPython does.

pub mod decode;
pub mod encode;
pub mod literal;
pub mod repr;
pub mod scan;
pub mod stream;
mod unicode_table;
pub mod value;

pub use decode::Decoded;
pub use scan::Limits;
pub use stream::{Event, PickleStream};
pub use value::Value;
