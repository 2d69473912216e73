//! The Python pickle format: scanner, decoder, repr and literal parser (to be written).
