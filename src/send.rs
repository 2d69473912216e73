//! Send modes: how one line of typed or piped input becomes the bytes of one message.
//!
//! `raw` lines are sent as typed. `hex` lines are hex digits (spaces allowed). `pickle` lines are Python
//! literals, encoded as one pickle each. Blank lines are skipped in the hex and pickle modes.

use crate::cli::SendMode;

/// Why a line could not be encoded, and where (1-based column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub column: usize,
    pub message: String,
}

/// Turns lines into messages.
pub trait Encode: Send {
    /// Encodes one input line (which may end in `\n` or `\r\n`); `Ok(None)` means nothing to send.
    fn encode(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, LineError>;
}

/// The encoder for a send mode.
pub fn encoder(mode: SendMode, pickle_protocol: u8) -> Box<dyn Encode> {
    match mode {
        SendMode::Raw => Box::new(RawLines),
        SendMode::Hex => Box::new(HexLines),
        SendMode::Pickle => Box::new(PickleLines {
            protocol: pickle_protocol,
        }),
    }
}

struct RawLines;

impl Encode for RawLines {
    fn encode(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        Ok(Some(line.to_vec()))
    }
}

struct HexLines;

impl Encode for HexLines {
    fn encode(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        todo!("hex send mode: {}", line.len())
    }
}

struct PickleLines {
    protocol: u8,
}

impl Encode for PickleLines {
    fn encode(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        todo!("pickle send mode: {} {}", self.protocol, line.len())
    }
}
