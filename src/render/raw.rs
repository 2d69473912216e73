//! Raw display: the bytes exactly as received, nothing added and nothing escaped.

use super::Render;

/// Copies bytes through unchanged.
pub struct Raw;

impl Render for Raw {
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>, _diag: &mut Vec<String>) {
        out.extend_from_slice(data);
    }

    fn finish(&mut self, _out: &mut Vec<u8>, _diag: &mut Vec<String>) {}
}
