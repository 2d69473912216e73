//! Send modes: how one line of typed or piped input becomes the bytes of one message.
//!
//! `raw` lines are sent as typed. `hex` lines are hex digits (spaces allowed). `pickle` lines are Python
//! literals, encoded as one pickle each (see [`crate::pickle::literal`] and [`crate::pickle::encode`]).
//! Blank lines are skipped in the hex and pickle modes; the line ending (`\n` or `\r\n`) is never part
//! of a hex or pickle message.

use crate::pickle;

/// How typed or piped input is turned into bytes to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SendMode {
    /// Bytes exactly as read.
    #[default]
    Raw,
    /// Each line is hex digits (spaces allowed), sent as the bytes they spell.
    Hex,
    /// Each line is a Python literal, sent as one pickle.
    Pickle,
}

/// How a command sends what is typed or piped, as the library takes it (the CLI's `SendArgs`
/// without clap: `(&args.send).into()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOpts {
    pub mode: SendMode,
    /// Pickle protocol of `--send pickle` (0 to 5).
    pub pickle_protocol: u8,
    /// LF is sent as CR LF.
    pub crlf: bool,
}

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

/// `--send hex`: each line is hex digits spelling the bytes to send. Spaces and tabs may stand
/// anywhere between digits and are ignored (digits pair up across them, as with `xxd -r -p`), so
/// `48656c6c6f`, `48 65 6c 6c 6f` and `4865 6c6c 6f` are the same message. There is no `0x` prefix and
/// no other separator: anything but a hex digit or blank is an error naming its column.
struct HexLines;

impl Encode for HexLines {
    fn encode(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        let line = strip_line_end(line);
        // The digits without the blanks between them, and the column of the last one.
        let mut digits = Vec::with_capacity(line.len());
        let mut last_column = 0;
        let mut column = 0;
        let mut i = 0;
        while i < line.len() {
            column += 1;
            let b = line[i];
            if b.is_ascii_hexdigit() {
                digits.push(b);
                last_column = column;
            } else if b != b' ' && b != b'\t' {
                return Err(not_a_digit(
                    &line[i..],
                    column,
                    digits.len() % 2 == 1
                        && digits.last() == Some(&b'0')
                        && last_column == column - 1,
                ));
            }
            // Count one column per character, not per byte.
            i += utf8_len(b);
        }
        if digits.len() % 2 == 1 {
            return Err(LineError {
                column: last_column,
                message: "odd number of hex digits: this digit has no partner".into(),
            });
        }
        // Only hex digits, an even number of them: this cannot fail.
        let out = hex::decode(&digits).map_err(|e| LineError {
            column: 1,
            message: e.to_string(),
        })?;
        Ok(if out.is_empty() { None } else { Some(out) })
    }
}

/// The error for `rest[0]`, which is not a hex digit, at `column`; `after_lone_zero`: it follows a
/// `0` that starts a byte (`0x41`).
fn not_a_digit(rest: &[u8], column: usize, after_lone_zero: bool) -> LineError {
    let b = rest[0];
    let shown = match std::str::from_utf8(rest) {
        Ok(s) => s.chars().next().map(|c| format!("{c:?}")),
        Err(e) if e.valid_up_to() > 0 => std::str::from_utf8(&rest[..e.valid_up_to()])
            .ok()
            .and_then(|s| s.chars().next())
            .map(|c| format!("{c:?}")),
        Err(_) => None,
    }
    .unwrap_or_else(|| format!("byte 0x{b:02x}"));
    let hint = if (b == b'x' || b == b'X') && after_lone_zero {
        " (write plain hex digits, without 0x)"
    } else {
        ""
    };
    LineError {
        column,
        message: format!("{shown} is not a hex digit{hint}"),
    }
}

/// `--send pickle`: each line is a Python literal, pickled with `protocol`. Lines that are empty,
/// blank or only a `#` comment send nothing.
struct PickleLines {
    protocol: u8,
}

impl Encode for PickleLines {
    fn encode(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        let line = strip_line_end(line);
        let text = std::str::from_utf8(line).map_err(|e| {
            let column = String::from_utf8_lossy(&line[..e.valid_up_to()])
                .chars()
                .count()
                + 1;
            LineError {
                column,
                message: "the line is not valid UTF-8".into(),
            }
        })?;
        let body = text.trim_matches([' ', '\t', '\x0c']);
        if body.is_empty() || body.starts_with('#') {
            return Ok(None);
        }
        let value = pickle::literal::parse(text).map_err(|e| LineError {
            column: e.column,
            message: e.message,
        })?;
        pickle::encode::encode(&value, self.protocol)
            .map(Some)
            .map_err(|e| LineError {
                column: 1,
                message: e.message,
            })
    }
}

/// The line without its `\n` or `\r\n`.
fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The length of the UTF-8 sequence a lead byte starts (1 for anything unexpected).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(line: &str) -> Result<Option<Vec<u8>>, LineError> {
        encoder(SendMode::Hex, 4).encode(line.as_bytes())
    }

    #[test]
    fn hex_lines() {
        assert_eq!(hex("48656c6c6f\n").unwrap(), Some(b"Hello".to_vec()));
        assert_eq!(hex("48 65 6C\t6c 6f\r\n").unwrap(), Some(b"Hello".to_vec()));
        assert_eq!(hex("4 8 6 5").unwrap(), Some(b"He".to_vec()));
        assert_eq!(hex("00ff\n").unwrap(), Some(vec![0, 255]));
        assert_eq!(hex("\n").unwrap(), None);
        assert_eq!(hex("  \t \r\n").unwrap(), None);
        assert_eq!(hex("").unwrap(), None);
    }

    #[test]
    fn hex_errors_name_the_column() {
        let e = hex("48 6g\n").unwrap_err();
        assert_eq!(e.column, 5);
        assert!(
            e.message.contains("'g' is not a hex digit"),
            "{}",
            e.message
        );
        let e = hex("0x41").unwrap_err();
        assert_eq!(e.column, 2);
        assert!(e.message.contains("without 0x"), "{}", e.message);
        let e = hex("41 4").unwrap_err();
        assert_eq!(e.column, 4);
        assert!(e.message.contains("odd number"), "{}", e.message);
        let e = hex("41 é").unwrap_err();
        assert_eq!(e.column, 4);
        assert!(e.message.contains("'é'"), "{}", e.message);
        let e = encoder(SendMode::Hex, 4).encode(b"41 \xff").unwrap_err();
        assert_eq!(e.column, 4);
        assert!(e.message.contains("0xff"), "{}", e.message);
    }

    #[test]
    fn pickle_lines() {
        let mut enc = encoder(SendMode::Pickle, 4);
        assert_eq!(
            enc.encode(b"{'clientid': 60644}\r\n").unwrap().unwrap(),
            hex::decode("80049512000000000000007d948c08636c69656e746964944de4ec732e").unwrap()
        );
        assert_eq!(
            enc.encode(b"1\n").unwrap().unwrap(),
            [0x80, 4, 0x4b, 1, 0x2e]
        );
        assert_eq!(enc.encode(b"\n").unwrap(), None);
        assert_eq!(enc.encode(b"   \n").unwrap(), None);
        assert_eq!(enc.encode(b"# a comment\n").unwrap(), None);
        let mut p2 = encoder(SendMode::Pickle, 2);
        assert_eq!(p2.encode(b"1").unwrap().unwrap(), [0x80, 2, 0x4b, 1, 0x2e]);
        let mut p0 = encoder(SendMode::Pickle, 0);
        assert_eq!(p0.encode(b"1").unwrap().unwrap(), b"I1\n.");
    }

    #[test]
    fn pickle_errors() {
        let mut enc = encoder(SendMode::Pickle, 4);
        let e = enc.encode(b"[1, 2\n").unwrap_err();
        assert_eq!(e.column, 6);
        assert!(e.message.contains("never closed"), "{}", e.message);
        let e = enc.encode(b"{[1]: 2}\n").unwrap_err();
        assert_eq!(e.column, 2);
        assert!(e.message.contains("unhashable"), "{}", e.message);
        let e = enc.encode(b"['ok', '\xff']\n").unwrap_err();
        assert_eq!(e.column, 9);
        assert!(e.message.contains("UTF-8"), "{}", e.message);
        // The encoder keeps working after an error.
        assert!(enc.encode(b"[1, 2]\n").unwrap().is_some());
    }

    #[test]
    fn raw_lines_are_untouched() {
        let mut enc = encoder(SendMode::Raw, 4);
        assert_eq!(enc.encode(b"a b\r\n").unwrap().unwrap(), b"a b\r\n");
    }
}
