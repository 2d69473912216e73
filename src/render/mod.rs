//! Display modes behind one trait: how bytes received from a peer are shown on stdout.
//!
//! A renderer belongs to one stream (one connection and direction, or one datagram). It is fed the
//! bytes as they arrive, in reads of any size, and writes what to show into a `Vec<u8>`; warnings
//! (a bad pickle, a global reference) go into `diag` for the caller to print on stderr. Renderers are
//! pure, so they are unit-tested by writing into buffers.

pub mod hex;
pub mod pickle;
pub mod raw;

use crate::pickle::Framing;

/// How received bytes are shown on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DisplayMode {
    /// Bytes exactly as received.
    #[default]
    Raw,
    /// A hex dump with offsets and an ASCII column, like `hexdump -C`.
    Hex,
    /// Decode Python pickles in the stream and print each as Python's repr() would.
    Pickle,
}

/// How a stream is displayed.
#[derive(Debug, Clone)]
pub struct RenderOpts {
    pub mode: DisplayMode,
    pub framing: Framing,
    /// Largest pickle accepted (bytes).
    pub max_message: usize,
    /// With -v, blocks also say direction and length.
    pub verbose: bool,
}

impl Default for RenderOpts {
    fn default() -> Self {
        RenderOpts {
            mode: DisplayMode::Raw,
            framing: Framing::Stop,
            max_message: 16 * 1024 * 1024,
            verbose: false,
        }
    }
}

/// Who a stream is with, for the headers of hex blocks and pickle lines when several peers share stdout.
#[derive(Debug, Clone, Default)]
pub struct StreamLabel {
    /// The peer's name (`127.0.0.1:5555`, `client3 127.0.0.1:5555`); `None` when there is only one peer.
    pub peer: Option<String>,
    /// The direction, for -v (`received`, `sent`).
    pub direction: &'static str,
}

/// One display mode's state for one stream.
pub trait Render: Send {
    /// Shows `data`, the next bytes of the stream.
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>, diag: &mut Vec<String>);
    /// The stream ended: show or report whatever is left (a partial line, a truncated pickle).
    fn finish(&mut self, out: &mut Vec<u8>, diag: &mut Vec<String>);
}

/// Makes the renderer for one stream.
pub fn renderer(opts: &RenderOpts, label: StreamLabel) -> Box<dyn Render> {
    match opts.mode {
        DisplayMode::Raw => Box::new(raw::Raw),
        DisplayMode::Hex => Box::new(hex::HexDump::new(label, opts.verbose)),
        DisplayMode::Pickle => Box::new(pickle::PickleRender::new(label, opts)),
    }
}
