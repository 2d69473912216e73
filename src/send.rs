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

/// Strips the line ending and checks the line is text.
fn text_line(line: &[u8]) -> Result<&str, LineError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    std::str::from_utf8(line).map_err(|e| LineError {
        column: e.valid_up_to() + 1,
        message: "not valid UTF-8 text".into(),
    })
}

/// Parses hex digits into bytes: pairs of digits, with spaces, tabs, `:` or `-` allowed between bytes
/// and an optional `0x` before each byte group (`48 65 6c`, `48656c`, `0x48 0x65`, `48:65:6c`).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, LineError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(chars.len() / 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, ' ' | '\t' | ':' | '-' | ',') {
            i += 1;
            continue;
        }
        if c == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
            i += 2;
            continue;
        }
        let hi = c.to_digit(16).ok_or_else(|| LineError {
            column: i + 1,
            message: format!("'{c}' is not a hex digit"),
        })?;
        let lo = match chars.get(i + 1) {
            Some(d) => d.to_digit(16).ok_or_else(|| LineError {
                column: i + 2,
                message: if matches!(d, ' ' | '\t' | ':' | '-' | ',') {
                    "a lone hex digit: bytes are two digits each".to_string()
                } else {
                    format!("'{d}' is not a hex digit")
                },
            })?,
            None => {
                return Err(LineError {
                    column: i + 1,
                    message: "an odd number of hex digits: bytes are two digits each".into(),
                })
            }
        };
        out.push((hi * 16 + lo) as u8);
        i += 2;
    }
    Ok(out)
}

impl Encode for HexLines {
    fn encode(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        let text = text_line(line)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        parse_hex(text).map(Some)
    }
}

struct PickleLines {
    protocol: u8,
}

impl Encode for PickleLines {
    fn encode(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        let text = text_line(line)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        let value = crate::pickle::literal::parse(text).map_err(|e| LineError {
            column: e.column,
            message: e.message,
        })?;
        crate::pickle::encode::encode(&value, self.protocol)
            .map(Some)
            .map_err(|e| LineError {
                column: 1,
                message: e.0,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_lines() {
        let mut h = HexLines;
        assert_eq!(h.encode(b"48 65 6c 6c 6f\n"), Ok(Some(b"Hello".to_vec())));
        assert_eq!(h.encode(b"48656C\r\n"), Ok(Some(b"Hel".to_vec())));
        assert_eq!(h.encode(b"0x48 0x65"), Ok(Some(b"He".to_vec())));
        assert_eq!(h.encode(b"   \n"), Ok(None));
        let e = h.encode(b"48 6g").unwrap_err();
        assert_eq!(
            (e.column, e.message.as_str()),
            (5, "'g' is not a hex digit")
        );
        assert_eq!(h.encode(b"486").unwrap_err().column, 3);
        assert!(h.encode(b"4 8").unwrap_err().message.contains("lone"));
    }

    #[test]
    fn pickle_lines() {
        let mut p = PickleLines { protocol: 4 };
        assert_eq!(p.encode(b"1\n"), Ok(Some(vec![0x80, 4, 0x4b, 1, 0x2e])));
        let e = p.encode(b"[1, 2").unwrap_err();
        assert!(e.message.contains("never closed"));
    }
}
