//! The Python pickle format, handled safely: nothing is ever imported or run.
//!
//! - `value`: [`Value`], a Python object tree (dicts keep insertion order);
//! - (display side) a scanner that finds message boundaries and enforces limits before decoding,
//!   a decoder, and Python's `repr`;
//! - (send side) a parser for Python literals and an encoder for protocols 0 to 5.

pub mod value;

pub use value::Value;
