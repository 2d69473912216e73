//! Pickle display (to be written).
use super::{Render, RenderOpts, StreamLabel};

pub struct PickleRender;

impl PickleRender {
    pub fn new(_label: StreamLabel, _opts: &RenderOpts) -> PickleRender {
        PickleRender
    }
}

impl Render for PickleRender {
    fn feed(&mut self, _data: &[u8], _out: &mut Vec<u8>, _diag: &mut Vec<String>) {
        todo!()
    }
    fn finish(&mut self, _out: &mut Vec<u8>, _diag: &mut Vec<String>) {}
}
