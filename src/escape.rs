//! Text a peer chose, made safe to print. Two rules, both written as Python's `repr` escapes
//! (`\n`, `\x1b`, `\x9b`, `\u202e`, `\ud800`), and every other character as it is:
//!
//! - **one field of one line** ([`escape`], [`escape_into`]: the lab server's log and roster, the
//!   lab client's lines): every character Python's `str.isprintable()` rejects (C0 and C1 controls,
//!   DEL, newline, bidi overrides and other format characters, lone surrogates, unassigned code
//!   points, line and paragraph separators). A name like `"Mallory\nConnected: ..."` or one holding
//!   `ESC [2J` prints as one line of visible text: no peer can forge a log line or drive the terminal
//!   showing it. Quotes and backslashes are left alone, so a normal name prints exactly as sent.
//! - **received text shown as it flows** ([`escape_stream_into`]: the REPL's display and `listen
//!   --chat`, which sends one client's lines to the others' terminals): newline and tab pass, since
//!   the text is made of lines; C0 controls, DEL, C1 controls (as the raw byte `\x9b` and as UTF-8
//!   `\xc2\x9b`, both a CSI on some terminals), bytes that are not UTF-8, and the bidirectional
//!   overrides and isolates that reorder what is shown (Trojan Source, CVE-2021-42574) are escaped;
//!   other text (emoji joined by U+200D, no-break spaces) is shown as sent.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::pickle::decode::decode_char;
use crate::pickle::repr::{is_printable, push_code_escape};

/// `text` with its unprintable characters escaped; borrowed when there is nothing to escape.
pub fn escape(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| is_printable(c as u32)) {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len() + 8);
    escape_into(text.as_bytes(), &mut out);
    Cow::Owned(String::from_utf8(out).expect("escaping keeps UTF-8 valid"))
}

/// Appends `b` (UTF-8, or WTF-8 as Python strings may hold lone surrogates; invalid bytes are
/// escaped as `\xNN`) to `out` with every unprintable character escaped.
pub fn escape_into(b: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < b.len() {
        let run = b[i..]
            .iter()
            .take_while(|&&c| (0x20..0x7f).contains(&c))
            .count();
        out.extend_from_slice(&b[i..i + run]);
        i += run;
        if i >= b.len() {
            break;
        }
        let (cp, len) = match decode_char(b, i) {
            Some(decoded) => decoded,
            None => {
                // Not UTF-8 at all: show the byte itself.
                push_escape(u32::from(b[i]), out);
                i += 1;
                continue;
            }
        };
        if is_printable(cp) {
            out.extend_from_slice(&b[i..i + len]);
        } else {
            push_escape(cp, out);
        }
        i += len;
    }
}

fn push_escape(cp: u32, out: &mut Vec<u8>) {
    match cp {
        0x09 => out.extend_from_slice(b"\\t"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0d => out.extend_from_slice(b"\\r"),
        _ => push_code_escape(cp, out),
    }
}

/// Appends received `bytes` to `out` for display, by the second rule of the module docs.
pub(crate) fn escape_stream_into(bytes: &[u8], out: &mut String) {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let code = c as u32;
            if c == '\n' || c == '\t' {
                out.push(c);
            } else if c.is_control() {
                // C0, DEL and C1 are all below 0x100.
                let _ = write!(out, "\\x{code:02x}");
            } else if is_bidi_control(c) {
                let _ = write!(out, "\\u{code:04x}");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

/// The characters that change the display order of the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Makes received text safe and tidy for the terminal: control characters other than newline and tab,
/// bidi overrides and bytes that are not UTF-8 are escaped (see `escape`), and the text ends with a
/// newline.
///
/// The newline matters before the editor first enters raw mode: rustyline's external printer then
/// writes the text as it is, and the first prompt draw (`\r\e[K`) would erase a last line without one
/// (a server's greeting). In raw mode the printer adds no second newline to text that has one.
pub(crate) fn terminal_safe(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    escape_stream_into(text, &mut out);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(terminal_safe(b"hi\x1b[2J\n"), "hi\\x1b[2J\n");
        assert_eq!(terminal_safe(b"a\tb\nc"), "a\tb\nc\n");
        assert_eq!(
            terminal_safe("\u{9b}2J\u{202e}".as_bytes()),
            "\\x9b2J\\u202e\n"
        );
    }

    fn shown(bytes: &[u8]) -> String {
        let mut s = String::new();
        escape_stream_into(bytes, &mut s);
        s
    }

    #[test]
    fn streams_keep_their_lines_and_lose_their_controls() {
        assert_eq!(shown(b"hi\x1b[2J\x7f"), "hi\\x1b[2J\\x7f");
        assert_eq!(shown(b"a\tb\nc"), "a\tb\nc");
        assert_eq!(shown(b"\x9b31m"), "\\x9b31m");
        assert_eq!(shown("\u{9b}31m".as_bytes()), "\\x9b31m");
        assert_eq!(
            shown("abc\u{202e}def\u{2066}".as_bytes()),
            "abc\\u202edef\\u2066"
        );
        assert_eq!(
            shown("héllo ✓ 👨\u{200d}👩".as_bytes()),
            "héllo ✓ 👨\u{200d}👩"
        );
        assert_eq!(shown(b"\xff\xfe"), "\\xff\\xfe");
    }

    #[test]
    fn normal_text_is_unchanged() {
        for s in [
            "Alice Brown",
            "Zoë Łukasiewicz",
            "李小龍",
            "O'Brien \"Bob\" \\o/",
            "",
        ] {
            assert!(matches!(escape(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn controls_and_format_characters_are_escaped_as_python_repr_does() {
        assert_eq!(
            escape("Mallory\nConnected: Student: X"),
            "Mallory\\nConnected: Student: X"
        );
        assert_eq!(
            escape("\x1b[2J\x1b]0;pwned\x07"),
            "\\x1b[2J\\x1b]0;pwned\\x07"
        );
        assert_eq!(escape("a\tb\rc\x7f"), "a\\tb\\rc\\x7f");
        // C1 control (CSI), bidi override, zero-width joiner, line separator, a noncharacter.
        assert_eq!(escape("\u{9b}31m"), "\\x9b31m");
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u202efed");
        assert_eq!(escape("a\u{200d}b\u{2028}c"), "a\\u200db\\u2028c");
        assert_eq!(escape("\u{e0001}"), "\\U000e0001");
    }

    #[test]
    fn lone_surrogates_and_bad_bytes() {
        let mut out = Vec::new();
        escape_into(b"x\xed\xa0\x80y", &mut out);
        assert_eq!(out, b"x\\ud800y");
        out.clear();
        escape_into(b"\xff\xfe", &mut out);
        assert_eq!(out, b"\\xff\\xfe");
    }
}
