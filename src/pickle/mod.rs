//! The Python pickle format, handled safely: nothing is ever imported or run.
//!
//! - [`value`]: [`Value`], a Python object tree (dicts keep insertion order);
//! - display side: [`scan`] finds message boundaries and enforces limits before decoding, [`decode`]
//!   runs the pickle machine into an arena, [`repr`] prints Python's `repr()`, and [`stream`] ties them
//!   to a byte stream;
//! - send side: [`literal`] parses Python literals and [`encode`] writes pickles of protocols 0 to 5.

pub mod decode;
pub mod encode;
pub mod literal;
pub mod repr;
pub mod scan;
pub mod stream;
pub mod value;

pub use value::Value;
