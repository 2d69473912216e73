//! Hex display (to be written).
use super::{Render, StreamLabel};

pub struct HexDump;

impl HexDump {
    pub fn new(_label: StreamLabel, _verbose: bool) -> HexDump {
        HexDump
    }
}

impl Render for HexDump {
    fn feed(&mut self, _data: &[u8], _out: &mut Vec<u8>, _diag: &mut Vec<String>) {
        todo!()
    }
    fn finish(&mut self, _out: &mut Vec<u8>, _diag: &mut Vec<String>) {}
}
