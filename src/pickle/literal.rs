//! A parser for Python literals: the text a person types after `--send pickle`, turned into a [`Value`].
//!
//! It accepts what `ast.literal_eval` accepts, minus complex numbers: ints of any size (`0x`, `0o`,
//! `0b`, underscores, one leading sign), floats (`1e400` is `inf`, as in Python), str and bytes with
//! every quote form, prefix and escape (except `\N{...}` and lone surrogates, which a Rust string cannot
//! hold), adjacent string concatenation, `True`/`False`/`None`, lists, tuples (also bare `1, 2`), dicts
//! and sets, nested, with trailing commas and `#` comments. On top of that it takes `set(...)`,
//! `frozenset(...)`, `bytearray(b'...')` and `float('inf')`/`float('nan')`, so what sockkit's pickle
//! display prints can be typed back. Dicts keep the order typed; a repeated key keeps its first
//! position and takes the last value, and sets drop repeats, both using Python's equality (`1 == 1.0
//! == True`). Unhashable keys and set elements are refused, as Python refuses them. Nesting is limited
//! to [`MAX_DEPTH`] levels, so hostile input cannot overflow the stack.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use num_bigint::BigInt;
use num_traits::{FromPrimitive, Signed, ToPrimitive, Zero};

use super::Value;

/// The deepest nesting of brackets accepted (Python's own parser stops at 200 too).
pub const MAX_DEPTH: usize = 200;

/// The most digits a decimal int may have (Python 3.11's `sys.get_int_max_str_digits()` default).
pub const MAX_INT_DIGITS: usize = 4300;

/// Why a literal could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralError {
    /// 1-based column, counted in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for LiteralError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for LiteralError {}

/// Parses one Python literal (the whole of `text`) into a [`Value`].
pub fn parse(text: &str) -> Result<Value, LiteralError> {
    let mut p = Parser {
        text,
        b: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    p.top().map_err(|e| LiteralError {
        column: column_of(text, e.offset),
        message: e.message,
    })
}

/// The 1-based character column of byte `offset` in `text`.
fn column_of(text: &str, offset: usize) -> usize {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].chars().count() + 1
}

/// An error at a byte offset; turned into a column at the end.
struct Err {
    offset: usize,
    message: String,
}

type PResult<T> = Result<T, Err>;

fn err<T>(offset: usize, message: impl Into<String>) -> PResult<T> {
    Err(Err {
        offset,
        message: message.into(),
    })
}

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Closer {
    Bracket,
    Paren,
    Brace,
}

impl Closer {
    fn open(self) -> char {
        match self {
            Closer::Bracket => '[',
            Closer::Paren => '(',
            Closer::Brace => '{',
        }
    }
    fn close(self) -> u8 {
        match self {
            Closer::Bracket => b']',
            Closer::Paren => b')',
            Closer::Brace => b'}',
        }
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.b.get(self.pos + ahead).copied()
    }

    /// The character at `offset`, for messages.
    fn char_at(&self, offset: usize) -> char {
        self.text[offset..].chars().next().unwrap_or(' ')
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\x0c' | b'\r' | b'\n' => self.pos += 1,
                b'#' => self.pos = self.b.len(),
                _ => break,
            }
        }
    }

    fn top(&mut self) -> PResult<Value> {
        self.skip_ws();
        if self.peek().is_none() {
            return err(self.pos, "expected a Python literal, found nothing");
        }
        let first = self.expr()?;
        self.skip_ws();
        let value = if self.peek() == Some(b',') {
            // A bare tuple: `1, 2` is `(1, 2)` to eval.
            let mut items = vec![first];
            while self.peek() == Some(b',') {
                self.pos += 1;
                self.skip_ws();
                if self.peek().is_none() {
                    break;
                }
                items.push(self.expr()?);
                self.skip_ws();
            }
            Value::Tuple(items)
        } else {
            first
        };
        self.skip_ws();
        if let Some(c) = self.peek() {
            return match c {
                b')' | b']' | b'}' => err(self.pos, format!("unmatched '{}'", c as char)),
                _ => err(
                    self.pos,
                    format!(
                        "unexpected '{}' after a complete literal (one literal per line; separate items with commas)",
                        self.char_at(self.pos)
                    ),
                ),
            };
        }
        Ok(value)
    }

    fn enter(&mut self, at: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(at, format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn expr(&mut self) -> PResult<Value> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return err(self.pos, "expected a value, found the end of the line");
        };
        match c {
            b'[' => {
                self.enter(start)?;
                self.pos += 1;
                let items = self.items(start, Closer::Bracket)?;
                self.leave();
                Ok(Value::List(items.into_iter().map(|(_, v)| v).collect()))
            }
            b'(' => {
                self.enter(start)?;
                self.pos += 1;
                let v = self.paren(start)?;
                self.leave();
                Ok(v)
            }
            b'{' => {
                self.enter(start)?;
                self.pos += 1;
                let v = self.brace(start)?;
                self.leave();
                Ok(v)
            }
            b'\'' | b'"' => self.strings(),
            b'0'..=b'9' => self.number(),
            b'.' if matches!(self.peek_at(1), Some(b'0'..=b'9')) => self.number(),
            b'-' | b'+' => {
                self.pos += 1;
                self.skip_ws();
                let at = self.pos;
                let starts_number = match self.peek() {
                    Some(b'0'..=b'9') => true,
                    Some(b'.') => matches!(self.peek_at(1), Some(b'0'..=b'9')),
                    _ => false,
                };
                if !starts_number {
                    return err(at, format!("'{}' must be followed by a number", c as char));
                }
                let v = self.number()?;
                Ok(if c == b'-' { negate(v) } else { v })
            }
            c if c == b'_' || c.is_ascii_alphabetic() => self.name(),
            b')' | b']' | b'}' => err(start, format!("unmatched '{}'", c as char)),
            b',' => err(start, "expected a value before ','"),
            b':' => err(start, "':' outside a dict"),
            _ => err(
                start,
                format!("'{}' cannot start a Python literal", self.char_at(start)),
            ),
        }
    }

    /// Comma-separated values up to `closer`; returns each with its byte offset.
    fn items(&mut self, open_at: usize, closer: Closer) -> PResult<Vec<(usize, Value)>> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(closer.close()) {
                self.pos += 1;
                return Ok(items);
            }
            self.check_not_closed(open_at, closer)?;
            let at = self.pos;
            items.push((at, self.expr()?));
            if !self.comma_or_close(open_at, closer)? {
                return Ok(items);
            }
        }
    }

    /// Errors when the text ends or a wrong closer comes before `closer`.
    fn check_not_closed(&self, open_at: usize, closer: Closer) -> PResult<()> {
        let column = column_of(self.text, open_at);
        match self.peek() {
            None => err(
                self.pos,
                format!(
                    "'{}' at column {column} is never closed (missing '{}')",
                    closer.open(),
                    closer.close() as char
                ),
            ),
            Some(c @ (b')' | b']' | b'}')) => err(
                self.pos,
                format!(
                    "closing '{}' does not match the '{}' at column {column}",
                    c as char,
                    closer.open()
                ),
            ),
            _ => Ok(()),
        }
    }

    /// After an item: true when a comma was eaten (more may follow), false when `closer` was.
    fn comma_or_close(&mut self, open_at: usize, closer: Closer) -> PResult<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(c) if c == closer.close() => {
                self.pos += 1;
                Ok(false)
            }
            _ => {
                self.check_not_closed(open_at, closer)?;
                err(
                    self.pos,
                    format!(
                        "expected ',' or '{}' but found '{}'",
                        closer.close() as char,
                        self.char_at(self.pos)
                    ),
                )
            }
        }
    }

    /// After `(`: `()`, `(x)`, `(x,)`, `(x, y)`.
    fn paren(&mut self, open_at: usize) -> PResult<Value> {
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(Value::Tuple(Vec::new()));
        }
        self.check_not_closed(open_at, Closer::Paren)?;
        let first = self.expr()?;
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(first);
        }
        if !self.comma_or_close(open_at, Closer::Paren)? {
            return Ok(first);
        }
        let mut items = vec![first];
        items.extend(
            self.items(open_at, Closer::Paren)?
                .into_iter()
                .map(|(_, v)| v),
        );
        Ok(Value::Tuple(items))
    }

    /// After `{`: a dict or a set.
    fn brace(&mut self, open_at: usize) -> PResult<Value> {
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Dict(Vec::new()));
        }
        self.check_not_closed(open_at, Closer::Brace)?;
        let first_at = self.pos;
        let first = self.expr()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            // A set.
            let mut set = Distinct::default();
            set.insert_elem(first_at, first, "a set element")?;
            if self.comma_or_close(open_at, Closer::Brace)? {
                for (at, v) in self.items(open_at, Closer::Brace)? {
                    set.insert_elem(at, v, "a set element")?;
                }
            }
            return Ok(Value::Set(set.into_values()));
        }
        let mut dict = Distinct::default();
        let mut key_at = first_at;
        let mut key = first;
        loop {
            // At ':'.
            self.pos += 1;
            let value = self.expr()?;
            dict.insert_item(key_at, key, value)?;
            if !self.comma_or_close(open_at, Closer::Brace)? {
                break;
            }
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                break;
            }
            self.check_not_closed(open_at, Closer::Brace)?;
            key_at = self.pos;
            key = self.expr()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return err(
                    self.pos,
                    match self.peek() {
                        Some(b',') | Some(b'}') => {
                            "expected ':' after a dict key (a dict cannot hold set elements)"
                                .to_string()
                        }
                        None => "expected ':' after a dict key".to_string(),
                        Some(_) => format!("expected ':' but found '{}'", self.char_at(self.pos)),
                    },
                );
            }
        }
        Ok(Value::Dict(dict.into_items()))
    }

    /// An identifier: a keyword constant, a string prefix, or one of the calls we accept.
    fn name(&mut self) -> PResult<Value> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c == b'_' || c.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        let word = &self.text[start..self.pos];
        if matches!(self.peek(), Some(b'\'' | b'"')) {
            let lower = word.to_ascii_lowercase();
            if matches!(lower.as_str(), "r" | "u" | "b" | "br" | "rb") {
                self.pos = start;
                return self.strings();
            }
            if matches!(lower.as_str(), "f" | "fr" | "rf") {
                return err(start, "f-strings are not literals");
            }
        }
        match word {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" => Ok(Value::None),
            "set" | "frozenset" | "bytearray" | "float" => {
                self.skip_ws();
                if self.peek() != Some(b'(') {
                    return err(
                        start,
                        format!("'{word}' is only accepted as a call: {word}(...)"),
                    );
                }
                let open_at = self.pos;
                self.enter(open_at)?;
                self.pos += 1;
                let v = self.call(start, word, open_at)?;
                self.leave();
                Ok(v)
            }
            "inf" | "nan" => err(
                start,
                format!("'{word}' is not a Python literal; write float('{word}')"),
            ),
            "true" | "false" | "null" | "none" => err(
                start,
                format!("'{word}' is not a Python literal (Python spells it True, False or None)"),
            ),
            _ => err(
                start,
                format!("name '{word}' is not a Python literal (quote it to make a string)"),
            ),
        }
    }

    /// `set(...)`, `frozenset(...)`, `bytearray(...)`, `float('inf')`, after the `(`.
    fn call(&mut self, name_at: usize, name: &str, open_at: usize) -> PResult<Value> {
        self.skip_ws();
        let arg_at = self.pos;
        let arg = if self.peek() == Some(b')') {
            None
        } else {
            self.check_not_closed(open_at, Closer::Paren)?;
            let v = self.expr()?;
            self.skip_ws();
            if self.peek() == Some(b',') {
                self.pos += 1;
                self.skip_ws();
            }
            if self.peek() != Some(b')') {
                self.check_not_closed(open_at, Closer::Paren)?;
                return err(
                    self.pos,
                    format!("{name}() takes at most one argument here"),
                );
            }
            Some(v)
        };
        self.pos += 1;
        match (name, arg) {
            ("set", None) => Ok(Value::Set(Vec::new())),
            ("frozenset", None) => Ok(Value::FrozenSet(Vec::new())),
            ("bytearray", None) => Ok(Value::ByteArray(Vec::new())),
            ("bytearray", Some(Value::Bytes(b))) => Ok(Value::ByteArray(b)),
            ("set" | "frozenset", Some(v)) => {
                let elems = match v {
                    Value::List(x) | Value::Tuple(x) | Value::Set(x) | Value::FrozenSet(x) => x,
                    _ => {
                        return err(
                            arg_at,
                            format!("{name}() here takes a list, tuple or set literal"),
                        )
                    }
                };
                let mut set = Distinct::default();
                for e in elems {
                    set.insert_elem(arg_at, e, "a set element")?;
                }
                let elems = set.into_values();
                Ok(if name == "set" {
                    Value::Set(elems)
                } else {
                    Value::FrozenSet(elems)
                })
            }
            ("float", Some(Value::Str(s))) => {
                let t = s.trim().to_ascii_lowercase();
                let (neg, t) = match t.strip_prefix('-') {
                    Some(r) => (true, r),
                    None => (false, t.strip_prefix('+').unwrap_or(&t)),
                };
                let x = match t {
                    "inf" | "infinity" => f64::INFINITY,
                    "nan" => f64::NAN,
                    _ => {
                        return err(
                            arg_at,
                            "float() here takes only 'inf', '-inf' or 'nan'; write other floats as literals",
                        )
                    }
                };
                Ok(Value::Float(if neg { -x } else { x }))
            }
            ("bytearray", _) => err(arg_at, "bytearray() here takes only a bytes literal"),
            ("float", _) => err(name_at, "float() here takes only 'inf', '-inf' or 'nan'"),
            _ => err(name_at, format!("{name}() needs an argument")),
        }
    }

    /// One or more adjacent string literals, concatenated.
    fn strings(&mut self) -> PResult<Value> {
        let mut text = String::new();
        let mut bytes = Vec::new();
        let mut is_bytes: Option<bool> = None;
        loop {
            let at = self.pos;
            let (raw, b) = self.prefix();
            if let Some(prev) = is_bytes {
                if prev != b {
                    return err(at, "cannot mix bytes and str literals");
                }
            }
            is_bytes = Some(b);
            self.string_body(raw, b, &mut text, &mut bytes)?;
            self.skip_ws();
            if !self.at_string_start() {
                break;
            }
        }
        Ok(if is_bytes == Some(true) {
            Value::Bytes(bytes)
        } else {
            Value::Str(text)
        })
    }

    /// True when the next token is a string literal (with or without a prefix).
    fn at_string_start(&self) -> bool {
        let mut i = self.pos;
        while i < self.b.len() && i - self.pos < 2 && self.b[i].is_ascii_alphabetic() {
            i += 1;
        }
        if !matches!(self.b.get(i), Some(b'\'' | b'"')) {
            return false;
        }
        let p = self.text[self.pos..i].to_ascii_lowercase();
        matches!(p.as_str(), "" | "r" | "u" | "b" | "br" | "rb")
    }

    /// Reads a string prefix; returns (raw, bytes).
    fn prefix(&mut self) -> (bool, bool) {
        let (mut raw, mut bytes) = (false, false);
        while let Some(c) = self.peek() {
            match c.to_ascii_lowercase() {
                b'r' => raw = true,
                b'b' => bytes = true,
                b'u' => {}
                _ => break,
            }
            self.pos += 1;
        }
        (raw, bytes)
    }

    /// From the opening quote to after the closing one.
    fn string_body(
        &mut self,
        raw: bool,
        is_bytes: bool,
        text: &mut String,
        bytes: &mut Vec<u8>,
    ) -> PResult<()> {
        let open_at = self.pos;
        let q = self.b[self.pos];
        let triple = self.peek_at(1) == Some(q) && self.peek_at(2) == Some(q);
        self.pos += if triple { 3 } else { 1 };
        let unterminated = |p: &Self| {
            err(
                p.b.len(),
                format!(
                    "unterminated string: the {} at column {} is never closed",
                    if triple { "triple quote" } else { "quote" },
                    column_of(p.text, open_at)
                ),
            )
        };
        loop {
            let Some(c) = self.peek() else {
                return unterminated(self);
            };
            if c == q {
                if !triple {
                    self.pos += 1;
                    return Ok(());
                }
                if self.peek_at(1) == Some(q) && self.peek_at(2) == Some(q) {
                    self.pos += 3;
                    return Ok(());
                }
            }
            if !triple && (c == b'\n' || c == b'\r') {
                return unterminated(self);
            }
            if c == b'\\' {
                let esc_at = self.pos;
                self.pos += 1;
                let Some(e) = self.peek() else {
                    return unterminated(self);
                };
                if raw {
                    // The backslash stays, and the next character cannot end the string.
                    let ch = self.char_at(self.pos);
                    if is_bytes && !ch.is_ascii() {
                        return err(self.pos, "bytes can only contain ASCII characters");
                    }
                    push(is_bytes, text, bytes, '\\');
                    push(is_bytes, text, bytes, ch);
                    self.pos += ch.len_utf8();
                    continue;
                }
                self.escape(esc_at, e, is_bytes, text, bytes)?;
                continue;
            }
            let ch = self.char_at(self.pos);
            if is_bytes && !ch.is_ascii() {
                return err(
                    self.pos,
                    "bytes can only contain ASCII characters (write others as \\xNN)",
                );
            }
            push(is_bytes, text, bytes, ch);
            self.pos += ch.len_utf8();
        }
    }

    /// One escape sequence; `self.pos` is at the character after the backslash.
    fn escape(
        &mut self,
        esc_at: usize,
        e: u8,
        is_bytes: bool,
        text: &mut String,
        bytes: &mut Vec<u8>,
    ) -> PResult<()> {
        let simple = match e {
            b'\n' => {
                self.pos += 1;
                return Ok(());
            }
            b'\\' => Some('\\'),
            b'\'' => Some('\''),
            b'"' => Some('"'),
            b'a' => Some('\x07'),
            b'b' => Some('\x08'),
            b'f' => Some('\x0c'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'v' => Some('\x0b'),
            _ => None,
        };
        if let Some(ch) = simple {
            self.pos += 1;
            push(is_bytes, text, bytes, ch);
            return Ok(());
        }
        match e {
            b'0'..=b'7' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 3 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                            n += 1;
                        }
                        _ => break,
                    }
                }
                if is_bytes {
                    let Ok(byte) = u8::try_from(v) else {
                        return err(
                            esc_at,
                            format!(
                                "octal escape \\{v:o} is out of range for bytes (at most \\377)"
                            ),
                        );
                    };
                    bytes.push(byte);
                } else {
                    // At most 0o777, always a valid char.
                    text.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                }
                Ok(())
            }
            b'x' => {
                self.pos += 1;
                let v = self.hex_digits(esc_at, 2, "\\xXX")?;
                if is_bytes {
                    bytes.push(v as u8);
                } else {
                    text.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                }
                Ok(())
            }
            b'u' | b'U' if !is_bytes => {
                self.pos += 1;
                let (n, what) = if e == b'u' {
                    (4, "\\uXXXX")
                } else {
                    (8, "\\UXXXXXXXX")
                };
                let v = self.hex_digits(esc_at, n, what)?;
                if (0xd800..=0xdfff).contains(&v) {
                    return err(
                        esc_at,
                        format!("lone surrogate \\u{v:04x} is not supported (sockkit strings are UTF-8)"),
                    );
                }
                match char::from_u32(v) {
                    Some(ch) => {
                        text.push(ch);
                        Ok(())
                    }
                    None => err(esc_at, format!("illegal Unicode character \\U{v:08x}")),
                }
            }
            b'N' if !is_bytes => err(
                esc_at,
                "\\N{...} escapes are not supported; write the character itself or \\uXXXX",
            ),
            _ => {
                // Not an escape: Python keeps the backslash and the character.
                let ch = self.char_at(self.pos);
                if is_bytes && !ch.is_ascii() {
                    return err(self.pos, "bytes can only contain ASCII characters");
                }
                push(is_bytes, text, bytes, '\\');
                push(is_bytes, text, bytes, ch);
                self.pos += ch.len_utf8();
                Ok(())
            }
        }
    }

    fn hex_digits(&mut self, esc_at: usize, n: usize, what: &str) -> PResult<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek().and_then(|c| (c as char).to_digit(16)) {
                Some(d) => {
                    v = v * 16 + d;
                    self.pos += 1;
                }
                None => return err(esc_at, format!("truncated {what} escape")),
            }
        }
        Ok(v)
    }

    /// A number without sign: int (any base) or float.
    fn number(&mut self) -> PResult<Value> {
        let start = self.pos;
        if self.peek() == Some(b'0') {
            let radix = match self.peek_at(1).map(|c| c.to_ascii_lowercase()) {
                Some(b'x') => Some((16, "hexadecimal")),
                Some(b'o') => Some((8, "octal")),
                Some(b'b') => Some((2, "binary")),
                _ => None,
            };
            if let Some((radix, name)) = radix {
                self.pos += 2;
                let mut digits = String::new();
                loop {
                    match self.peek() {
                        Some(b'_') => {
                            match self.peek_at(1) {
                                Some(c) if (c as char).is_digit(radix) => {}
                                _ => return err(start, format!("invalid {name} literal")),
                            }
                            self.pos += 1;
                        }
                        Some(c) if (c as char).is_digit(radix) => {
                            digits.push(c as char);
                            self.pos += 1;
                        }
                        Some(c) if c.is_ascii_alphanumeric() => {
                            return err(
                                self.pos,
                                if c.is_ascii_digit() {
                                    format!("invalid digit '{}' in {name} literal", c as char)
                                } else {
                                    format!("invalid {name} literal")
                                },
                            );
                        }
                        _ => break,
                    }
                }
                if digits.is_empty() {
                    return err(start, format!("invalid {name} literal"));
                }
                let n = BigInt::parse_bytes(digits.as_bytes(), radix).ok_or_else(|| Err {
                    offset: start,
                    message: format!("invalid {name} literal"),
                })?;
                return Ok(int_value(n));
            }
        }
        // Decimal int or float.
        let mut clean = String::new();
        let int_digits = self.digit_part(start, &mut clean)?;
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            is_float = true;
            clean.push('.');
            self.pos += 1;
            if matches!(self.peek(), Some(b'0'..=b'9')) {
                self.digit_part(start, &mut clean)?;
            } else if self.peek() == Some(b'_') {
                return err(start, "invalid decimal literal");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.pos;
            let mut exp = String::from("e");
            self.pos += 1;
            if let Some(s @ (b'+' | b'-')) = self.peek() {
                exp.push(s as char);
                self.pos += 1;
            }
            if matches!(self.peek(), Some(b'0'..=b'9')) {
                self.digit_part(start, &mut exp)?;
                clean.push_str(&exp);
                is_float = true;
            } else {
                self.pos = save;
                return err(start, "invalid decimal literal");
            }
        }
        match self.peek() {
            Some(b'j' | b'J') => {
                return err(start, "complex numbers are not supported");
            }
            Some(c) if c == b'_' || c.is_ascii_alphanumeric() => {
                return err(start, "invalid decimal literal");
            }
            _ => {}
        }
        if is_float {
            return clean.parse::<f64>().map(Value::Float).map_err(|_| Err {
                offset: start,
                message: "invalid float literal".into(),
            });
        }
        if int_digits > 1 && clean.starts_with('0') && clean.bytes().any(|c| c != b'0') {
            return err(
                start,
                "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
            );
        }
        if int_digits > MAX_INT_DIGITS {
            return err(
                start,
                format!(
                    "int has {int_digits} digits, more than Python's limit of {MAX_INT_DIGITS} for decimal ints (use hex)"
                ),
            );
        }
        if let Ok(v) = clean.parse::<i64>() {
            return Ok(Value::Int(v));
        }
        let n = BigInt::parse_bytes(clean.as_bytes(), 10).ok_or_else(|| Err {
            offset: start,
            message: "invalid decimal literal".into(),
        })?;
        Ok(int_value(n))
    }

    /// Digits with single underscores between them; appends the digits to `out`, returns how many.
    fn digit_part(&mut self, start: usize, out: &mut String) -> PResult<usize> {
        let mut n = 0;
        loop {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    out.push(c as char);
                    n += 1;
                    self.pos += 1;
                }
                Some(b'_') if n > 0 && matches!(self.peek_at(1), Some(b'0'..=b'9')) => {
                    self.pos += 1;
                }
                Some(b'_') => return err(start, "invalid decimal literal"),
                _ => return Ok(n),
            }
        }
    }
}

fn push(is_bytes: bool, text: &mut String, bytes: &mut Vec<u8>, ch: char) {
    if is_bytes {
        // Callers only pass ASCII (or escapes already reduced to bytes) here.
        bytes.push(ch as u32 as u8);
    } else {
        text.push(ch);
    }
}

/// An int as `Int` when it fits in 64 bits, `BigInt` otherwise.
pub fn int_value(n: BigInt) -> Value {
    match n.to_i64() {
        Some(v) => Value::Int(v),
        None => Value::BigInt(n),
    }
}

fn negate(v: Value) -> Value {
    match v {
        Value::Int(i) => match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => Value::BigInt(-BigInt::from(i)),
        },
        Value::BigInt(b) => int_value(-b),
        Value::Float(x) => Value::Float(-x),
        other => other,
    }
}

/// Items kept distinct under Python's equality, in first-seen order.
#[derive(Default)]
struct Distinct {
    items: Vec<(Value, Value)>,
    index: HashMap<u64, Vec<usize>>,
}

impl Distinct {
    /// Position of an item equal to `key`, if any.
    fn find(&self, h: u64, key: &Value) -> Option<usize> {
        self.index
            .get(&h)?
            .iter()
            .copied()
            .find(|&i| py_eq(&self.items[i].0, key))
    }

    fn insert_item(&mut self, at: usize, key: Value, value: Value) -> PResult<()> {
        check_hashable(at, &key, "a dict key")?;
        let h = py_hash(&key);
        match self.find(h, &key) {
            Some(i) => self.items[i].1 = value,
            None => {
                self.index.entry(h).or_default().push(self.items.len());
                self.items.push((key, value));
            }
        }
        Ok(())
    }

    fn insert_elem(&mut self, at: usize, elem: Value, what: &str) -> PResult<()> {
        check_hashable(at, &elem, what)?;
        let h = py_hash(&elem);
        if self.find(h, &elem).is_none() {
            self.index.entry(h).or_default().push(self.items.len());
            self.items.push((elem, Value::None));
        }
        Ok(())
    }

    fn into_items(self) -> Vec<(Value, Value)> {
        self.items
    }

    fn into_values(self) -> Vec<Value> {
        self.items.into_iter().map(|(k, _)| k).collect()
    }
}

/// The Python type name of a value that cannot be hashed, if it cannot.
fn unhashable(v: &Value) -> Option<&'static str> {
    match v {
        Value::List(_) => Some("list"),
        Value::Dict(_) => Some("dict"),
        Value::Set(_) => Some("set"),
        Value::ByteArray(_) => Some("bytearray"),
        Value::Tuple(items) => items.iter().find_map(unhashable),
        _ => None,
    }
}

fn check_hashable(at: usize, v: &Value, what: &str) -> PResult<()> {
    match unhashable(v) {
        Some(t) => err(at, format!("unhashable type: '{t}' cannot be {what}")),
        None => Ok(()),
    }
}

/// A number as Python compares it.
enum Num {
    Int(BigInt),
    Float(f64),
}

fn as_num(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(BigInt::from(u8::from(*b)))),
        Value::Int(i) => Some(Num::Int(BigInt::from(*i))),
        Value::BigInt(b) => Some(Num::Int(b.clone())),
        Value::Float(x) => Some(if x.is_finite() && x.fract() == 0.0 {
            Num::Int(BigInt::from_f64(*x).unwrap_or_default())
        } else {
            Num::Float(*x)
        }),
        _ => None,
    }
}

/// Python's `==` for the hashable values a literal can hold.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    if let (Some(x), Some(y)) = (as_num(a), as_num(b)) {
        return match (x, y) {
            (Num::Int(x), Num::Int(y)) => x == y,
            (Num::Float(x), Num::Float(y)) => x == y,
            _ => false,
        };
    }
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::FrozenSet(x), Value::FrozenSet(y)) => {
            x.len() == y.len() && x.iter().all(|p| y.iter().any(|q| py_eq(p, q)))
        }
        _ => false,
    }
}

/// A hash consistent with [`py_eq`].
fn py_hash(v: &Value) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    hash_into(v, &mut h);
    h.finish()
}

fn hash_into(v: &Value, h: &mut impl Hasher) {
    if let Some(n) = as_num(v) {
        match n {
            Num::Int(i) => {
                0u8.hash(h);
                if i.is_zero() {
                    0i64.hash(h);
                } else {
                    i.is_negative().hash(h);
                    i.to_signed_bytes_le().hash(h);
                }
            }
            Num::Float(x) => {
                1u8.hash(h);
                x.to_bits().hash(h);
            }
        }
        return;
    }
    match v {
        Value::None => 2u8.hash(h),
        Value::Str(s) => {
            3u8.hash(h);
            s.hash(h);
        }
        Value::Bytes(b) => {
            4u8.hash(h);
            b.hash(h);
        }
        Value::Tuple(items) => {
            5u8.hash(h);
            items.len().hash(h);
            for i in items {
                hash_into(i, h);
            }
        }
        Value::FrozenSet(items) => {
            6u8.hash(h);
            let sum = items
                .iter()
                .fold(0u64, |acc, i| acc.wrapping_add(py_hash(i)));
            sum.hash(h);
        }
        _ => 7u8.hash(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::encode::{encode, float_repr};
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Asks python3 about each (text, protocol, pickle): does `pickle.loads(pickle)` equal
    /// `eval(text)` with the same types, dict order and float signs ("equal"), and are the bytes
    /// exactly `pickle.dumps(eval(text), protocol)` ("exact")? Anything else comes back as a message.
    fn python_check(cases: &[(String, u8, Vec<u8>)]) -> Vec<String> {
        let script = r#"
import sys, pickle, math
def same(a, b):
    if type(a) is not type(b): return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(k1, k2) and same(v1, v2) for (k1, v1), (k2, v2) in zip(a.items(), b.items()))
    return a == b
for line in sys.stdin.read().split('\n'):
    if not line: continue
    p, text, data = line.split(' ')
    text = bytes.fromhex(text).decode(); data = bytes.fromhex(data)
    try:
        want = eval(text)
    except Exception as e:
        print('python cannot eval it: %r' % e); continue
    try:
        got = pickle.loads(data)
    except Exception as e:
        print('python cannot load it: %r' % e); continue
    if not same(got, want):
        print('loads gives %r, eval gives %r' % (got, want)); continue
    print('exact' if pickle.dumps(want, int(p)) == data else 'equal')
"#;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed by these tests");
        let mut input = String::new();
        for (text, p, data) in cases {
            input.push_str(&format!(
                "{p} {} {}\n",
                hex::encode(text),
                hex::encode(data)
            ));
        }
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success(), "python3 failed");
        let lines: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(lines.len(), cases.len());
        lines
    }

    fn has_set(v: &Value) -> bool {
        match v {
            Value::Set(_) | Value::FrozenSet(_) => true,
            Value::List(x) | Value::Tuple(x) => x.iter().any(has_set),
            Value::Dict(x) => x.iter().any(|(k, v)| has_set(k) || has_set(v)),
            _ => false,
        }
    }

    /// Parses each text, pickles it at every protocol, and has python3 confirm each one: exact bytes,
    /// or (for sets, whose order Python takes from hashes) an equal value.
    fn check_with_python(texts: &[String]) {
        let mut cases = Vec::new();
        let mut sets = Vec::new();
        for t in texts {
            let v = parse(t).unwrap_or_else(|e| panic!("{t:?}: {e}"));
            for p in 0..=5 {
                cases.push((t.clone(), p, encode(&v, p).unwrap()));
                sets.push(has_set(&v));
            }
        }
        let verdicts = python_check(&cases);
        let bad: Vec<String> = cases
            .iter()
            .zip(&verdicts)
            .zip(&sets)
            .filter(|((_, verdict), set)| !(*verdict == "exact" || (**set && *verdict == "equal")))
            .map(|(((t, p, _), verdict), _)| format!("{t:?} at protocol {p}: {verdict}"))
            .collect();
        assert!(
            bad.is_empty(),
            "{} of {} failed:\n{}",
            bad.len(),
            cases.len(),
            bad.join("\n")
        );
    }

    fn texts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(parse("1_000").unwrap(), Value::Int(1000));
        assert_eq!(parse("-0x_ff").unwrap(), Value::Int(-255));
        assert_eq!(parse("+ 0o17").unwrap(), Value::Int(15));
        assert_eq!(parse("0B1010").unwrap(), Value::Int(10));
        assert_eq!(parse("00").unwrap(), Value::Int(0));
        assert_eq!(parse(".5").unwrap(), Value::Float(0.5));
        assert_eq!(parse("1.").unwrap(), Value::Float(1.0));
        assert_eq!(parse("012.5").unwrap(), Value::Float(12.5));
        assert_eq!(parse("1_0.5_0e1_0").unwrap(), Value::Float(105000000000.0));
        assert_eq!(parse("1e400").unwrap(), Value::Float(f64::INFINITY));
        assert_eq!(parse("-9223372036854775808").unwrap(), Value::Int(i64::MIN));
        assert_eq!(
            parse("9223372036854775808").unwrap(),
            Value::BigInt(BigInt::from(i64::MAX) + 1)
        );
        check_with_python(&texts(&[
            "0",
            "-0",
            "-0.0",
            "+1",
            "1_000_000",
            "0xdead_BEEF",
            "0o777",
            "0b1",
            "-0b1",
            "123456789012345678901234567890",
            "-0x8000000000000000",
            "1e-5",
            "1E+5",
            "3.14159",
            "1.7976931348623157e308",
            "5e-324",
            "- 2.5",
            "2.",
            "00.5",
            "01e1",
        ]));
    }

    #[test]
    fn strings_in_every_form() {
        assert_eq!(parse(r#""it's""#).unwrap(), Value::Str("it's".into()));
        assert_eq!(parse(r"'a' 'b' 'c'").unwrap(), Value::Str("abc".into()));
        assert_eq!(parse(r"r'\n'").unwrap(), Value::Str("\\n".into()));
        assert_eq!(parse(r"b'\x00\xff'").unwrap(), Value::Bytes(vec![0, 255]));
        assert_eq!(parse(r"'\d'").unwrap(), Value::Str("\\d".into()));
        check_with_python(&texts(&[
            "''",
            "\"\"",
            "''''''",
            "\"\"\"\"\"\"",
            "'a'",
            "\"a\"",
            "'''a'b\"c'''",
            "\"\"\"x\"y'z\"\"\"",
            "'\\''",
            "\"\\\"\"",
            "'\\\\'",
            "'\\n\\t\\r\\a\\b\\f\\v\\0'",
            "'\\x41\\101\\7\\77\\1234'",
            "'\\u00e9\\u20ac\\U0001F600'",
            "'é€😀'",
            "'\\q\\d'",
            "r'\\n\\x41'",
            "R\"\\'\"",
            "r'''\\'''\\''''",
            "u'x'",
            "U\"y\"",
            "b'ab'",
            "B\"ab\"",
            "br'\\x00'",
            "Rb'\\n'",
            "bR'\\\\'",
            "rB'x'",
            "b'\\x00\\xff\\n\\t\\'\\\"\\\\'",
            "b'\\101\\377\\u1234\\N'",
            "b'a' b\"b\" b'''c'''",
            "'a' \"b\" '''c''' r'\\d'",
            "'x' u'y'",
            "'tab\there'",
            "'#not a comment' # a comment",
            "'\\x1a\\x00\\r\\n'",
        ]));
    }

    #[test]
    fn containers() {
        assert_eq!(parse("(1,)").unwrap(), Value::Tuple(vec![Value::Int(1)]));
        assert_eq!(parse("(1)").unwrap(), Value::Int(1));
        assert_eq!(parse("()").unwrap(), Value::Tuple(vec![]));
        assert_eq!(
            parse("1, 2").unwrap(),
            Value::Tuple(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(parse("{}").unwrap(), Value::Dict(vec![]));
        assert_eq!(parse("set()").unwrap(), Value::Set(vec![]));
        // Last value wins, first position (and first key) stays, as in Python.
        assert_eq!(
            parse("{1: 'a', 2: 'b', 1.0: 'c', True: 'd'}").unwrap(),
            Value::Dict(vec![
                (Value::Int(1), Value::Str("d".into())),
                (Value::Int(2), Value::Str("b".into())),
            ])
        );
        assert_eq!(
            parse("{1, True, 1.0, 2, 'a', 'a'}").unwrap(),
            Value::Set(vec![Value::Int(1), Value::Int(2), Value::Str("a".into())])
        );
        check_with_python(&texts(&[
            "[]",
            "[1,]",
            "[1, [2, [3, []]]]",
            "(1, 2,)",
            "((1,),)",
            "1,",
            "{'b': 1, 'a': 2}",
            "{'z': 1, 'y': {'x': [1, (2, 3)], 'w': {}}, }",
            "{(1, 2): 'tuple key', None: 0, 1.5: 'f'}",
            "{1: 'a', 1.0: 'b', True: 'c', 2: 'd'}",
            "{1, 2, 3}",
            "{'a', 'b'}",
            "{(1, 2), (3,)}",
            "[{}, set(), (), [], '', b'']",
            "set([3, 1, 2])",
            "frozenset({1, 2})",
            "frozenset()",
            "{frozenset({1}): frozenset()}",
            "bytearray(b'abc')",
            "bytearray()",
            "float('inf')",
            "float('-inf')",
            "[True, False, None]",
            "  [1,\t2]  ",
            "{'k': [1, 2], 'k': [3]}",
            "[ 'a' , 'a' , ('a', 'b') , ('a', 'b') ]",
            "{'a': 'a', 'b': ('a',)}",
        ]));
    }

    /// (text, column, part of the message)
    const BAD: &[(&str, usize, &str)] = &[
        ("", 1, "found nothing"),
        ("[1, 2", 6, "'[' at column 1 is never closed"),
        ("[1, (2, 3]", 10, "does not match the '(' at column 5"),
        ("{'a': 1", 8, "never closed"),
        ("[1, 2]]", 7, "unmatched ']'"),
        ("]", 1, "unmatched"),
        ("[1 2]", 4, "expected ',' or ']'"),
        ("{[1]: 2}", 2, "unhashable type: 'list'"),
        ("{'a': 1, {}: 2}", 10, "unhashable type: 'dict'"),
        ("{1, [2]}", 5, "unhashable type: 'list'"),
        ("{(1, [2]): 3}", 2, "unhashable type: 'list'"),
        ("{set(): 1}", 2, "unhashable type: 'set'"),
        ("{'a': 1, 'b'}", 13, "expected ':'"),
        ("'abc", 5, "never closed"),
        ("'''abc''", 9, "triple quote at column 1 is never closed"),
        ("b'é'", 3, "ASCII"),
        ("'\\x4'", 2, "truncated \\xXX"),
        ("'\\u12'", 2, "truncated \\uXXXX"),
        ("'\\U00110000'", 2, "illegal Unicode character"),
        ("'\\ud800'", 2, "lone surrogate"),
        ("'\\N{BULLET}'", 2, "\\N{...}"),
        ("b'\\400'", 3, "out of range"),
        ("'a' b'b'", 5, "cannot mix bytes and str"),
        ("f'x'", 1, "f-strings"),
        ("01", 1, "leading zeros"),
        ("1__0", 1, "invalid decimal literal"),
        ("1_", 1, "invalid decimal literal"),
        ("0x", 1, "invalid hexadecimal literal"),
        ("0b102", 5, "invalid digit '2' in binary literal"),
        ("1abc", 1, "invalid decimal literal"),
        ("1j", 1, "complex numbers are not supported"),
        ("1 + 2", 3, "unexpected '+'"),
        ("--1", 2, "must be followed by a number"),
        ("-'a'", 2, "must be followed by a number"),
        ("inf", 1, "float('inf')"),
        ("true", 1, "True"),
        ("foo", 1, "name 'foo'"),
        ("os.system('ls')", 1, "name 'os'"),
        ("[1, 2] x", 8, "after a complete literal"),
        ("[,]", 2, "before ','"),
        ("{1: 2, 3}", 9, "expected ':'"),
        ("set(1)", 5, "list, tuple or set"),
        ("é", 1, "'é' cannot start"),
        ("['é', ?]", 7, "'?' cannot start"),
    ];

    #[test]
    fn errors_name_the_column() {
        for (text, column, fragment) in BAD {
            match parse(text) {
                Ok(v) => panic!("{text:?} parsed as {v:?}"),
                Err(e) => {
                    assert!(
                        e.column == *column && e.message.contains(fragment),
                        "{text:?}: expected column {column} and {fragment:?}, got {e}"
                    );
                }
            }
        }
        let long = "1".repeat(MAX_INT_DIGITS + 1);
        assert!(parse(&long).unwrap_err().message.contains("limit"));
        assert!(parse(&"1".repeat(MAX_INT_DIGITS)).is_ok());
    }

    #[test]
    fn python_refuses_what_we_refuse() {
        // Except what we refuse by choice (complex, \N, lone surrogates, over-wide octal escapes
        // in bytes, extra text after the literal that Python would read as an expression).
        let script = r#"
import sys, ast, warnings
warnings.simplefilter('error')
for line in sys.stdin.read().split('\n'):
    if not line: continue
    text = bytes.fromhex(line).decode()
    try:
        ast.literal_eval(text); print('accepted')
    except Exception:
        print('refused')
"#;
        let ours_only = ["1j", "'\\N{BULLET}'", "'\\ud800'"];
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let cases: Vec<&str> = BAD
            .iter()
            .map(|(t, _, _)| *t)
            .filter(|t| !ours_only.contains(t) && !t.is_empty())
            .collect();
        let input: String = cases.iter().map(|t| hex::encode(t) + "\n").collect();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let verdicts = String::from_utf8(out.stdout).unwrap();
        let accepted: Vec<&&str> = cases
            .iter()
            .zip(verdicts.lines())
            .filter(|(_, v)| *v != "refused")
            .map(|(t, _)| t)
            .collect();
        // set(1) is refused by Python at run time too (int is not iterable); literal_eval refuses it.
        assert!(accepted.is_empty(), "python accepts {accepted:?}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        let e = parse(&deep).unwrap_err();
        assert_eq!(e.column, MAX_DEPTH + 1);
        assert!(e.message.contains("nesting deeper than 200"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let mixed = "({[".repeat(40_000);
        assert!(parse(&mixed).is_err());
        let calls = "frozenset(".repeat(10_000);
        assert!(parse(&calls).is_err());
    }

    // ----- property tests -----

    fn pick(style: &mut u64, n: u64) -> u64 {
        *style = style
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*style >> 33) % n
    }

    /// Formats a value as Python literal text, varying quotes, escapes, spacing and trailing
    /// commas with `style`.
    fn format_value(v: &Value, style: &mut u64, out: &mut String) {
        let sep = |k: u64| {
            if k == 0 {
                ", "
            } else if k == 1 {
                ","
            } else {
                " ,\t"
            }
        };
        match v {
            Value::None => out.push_str("None"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => match pick(style, 3) {
                0 if *i >= 0 => out.push_str(&format!("0x{i:x}")),
                1 if *i >= 1000 => {
                    let s = i.to_string();
                    out.push_str(&format!("{}_{}", &s[..s.len() - 3], &s[s.len() - 3..]))
                }
                _ => out.push_str(&i.to_string()),
            },
            Value::BigInt(b) => out.push_str(&b.to_string()),
            Value::Float(x) => {
                let r = float_repr(*x);
                out.push_str(&r);
            }
            Value::Str(s) => {
                let (q, triple) = match pick(style, 4) {
                    0 => ('\'', false),
                    1 => ('"', false),
                    2 => ('\'', true),
                    _ => ('"', true),
                };
                let qs = if triple {
                    q.to_string().repeat(3)
                } else {
                    q.to_string()
                };
                if pick(style, 3) == 0 {
                    out.push('u');
                }
                out.push_str(&qs);
                for ch in s.chars() {
                    match ch {
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c if c == q => {
                            out.push('\\');
                            out.push(c);
                        }
                        c if (c as u32) < 0x20 || c == '\x7f' => {
                            out.push_str(&format!("\\x{:02x}", c as u32))
                        }
                        c if (c as u32) > 0x7f && pick(style, 2) == 0 => {
                            if (c as u32) > 0xffff {
                                out.push_str(&format!("\\U{:08x}", c as u32))
                            } else {
                                out.push_str(&format!("\\u{:04x}", c as u32))
                            }
                        }
                        c => out.push(c),
                    }
                }
                out.push_str(&qs);
            }
            Value::Bytes(b) => {
                out.push_str(if pick(style, 2) == 0 { "b'" } else { "B'" });
                for &c in b {
                    match c {
                        b'\\' => out.push_str("\\\\"),
                        b'\'' => out.push_str("\\'"),
                        0x20..=0x7e => out.push(c as char),
                        _ if pick(style, 2) == 0 => out.push_str(&format!("\\{c:03o}")),
                        _ => out.push_str(&format!("\\x{c:02x}")),
                    }
                }
                out.push('\'');
            }
            Value::List(items)
            | Value::Tuple(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => {
                let (open, close) = match v {
                    Value::List(_) => ("[", "]"),
                    Value::Tuple(_) => ("(", ")"),
                    Value::Set(_) if items.is_empty() => ("set(", ")"),
                    Value::Set(_) => ("{", "}"),
                    _ if items.is_empty() => ("frozenset(", ")"),
                    _ => ("frozenset({", "})"),
                };
                out.push_str(open);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(sep(pick(style, 3)));
                    }
                    format_value(item, style, out);
                }
                let single_tuple = matches!(v, Value::Tuple(_)) && items.len() == 1;
                if single_tuple || (!items.is_empty() && pick(style, 3) == 0) {
                    out.push(',');
                }
                out.push_str(close);
            }
            Value::Dict(items) => {
                out.push('{');
                for (i, (k, val)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(sep(pick(style, 3)));
                    }
                    format_value(k, style, out);
                    out.push_str(if pick(style, 2) == 0 { ": " } else { ":" });
                    format_value(val, style, out);
                }
                if !items.is_empty() && pick(style, 3) == 0 {
                    out.push(',');
                }
                out.push('}');
            }
            Value::ByteArray(b) => {
                out.push_str("bytearray(");
                format_value(&Value::Bytes(b.clone()), style, out);
                out.push(')');
            }
            Value::Global { .. } | Value::Call { .. } => unreachable!("not generated"),
        }
    }

    fn text_of(v: &Value, style: u64) -> String {
        let mut s = String::new();
        let mut st = style;
        format_value(v, &mut st, &mut s);
        s
    }

    fn dedup_keys(items: Vec<(Value, Value)>) -> Vec<(Value, Value)> {
        let mut d = Distinct::default();
        for (k, v) in items {
            d.insert_item(0, k, v).ok();
        }
        d.into_items()
    }

    fn dedup(items: Vec<Value>) -> Vec<Value> {
        let mut d = Distinct::default();
        for v in items {
            d.insert_elem(0, v, "").ok();
        }
        d.into_values()
    }

    fn hashable() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::None),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            (-300i32..300).prop_map(|i| Value::Int(i.into())),
            any::<i128>().prop_map(|i| int_value(BigInt::from(i))),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(Value::Float),
            "\\PC{0,12}".prop_map(Value::Str),
            "[a-c'\"\\\\\n\t]{0,6}".prop_map(Value::Str),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Bytes),
        ];
        leaf.prop_recursive(3, 12, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Tuple),
                proptest::collection::vec(inner, 0..4).prop_map(|v| Value::FrozenSet(dedup(v))),
            ]
        })
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            4 => hashable(),
            1 => proptest::collection::vec(any::<u8>(), 0..6).prop_map(Value::ByteArray),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Tuple),
                proptest::collection::vec((hashable(), inner), 0..6)
                    .prop_map(|kv| Value::Dict(dedup_keys(kv))),
                proptest::collection::vec(hashable(), 0..6).prop_map(|v| Value::Set(dedup(v))),
            ]
        })
    }

    /// Float equality by bits, so -0.0 and 0.0 differ (parse must keep the sign).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
            (Value::List(x), Value::List(y))
            | (Value::Tuple(x), Value::Tuple(y))
            | (Value::Set(x), Value::Set(y))
            | (Value::FrozenSet(x), Value::FrozenSet(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
            }
            (Value::Dict(x), Value::Dict(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
            }
            _ => a == b,
        }
    }

    proptest! {
        #![proptest_config(Config { cases: 512, ..Config::default() })]

        #[test]
        fn formatted_values_parse_back(v in any_value(), style in any::<u64>()) {
            let text = text_of(&v, style);
            let parsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert!(same(&parsed, &v), "{} parsed as {:?}, not {:?}", text, parsed, v);
            for p in 0..=5 {
                prop_assert!(encode(&parsed, p).is_ok());
            }
        }

        #[test]
        fn any_text_gives_a_value_or_an_error(text in "\\PC{0,40}") {
            if let Err(e) = parse(&text) {
                prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1);
            }
        }

        #[test]
        fn literal_like_text_never_panics(text in "[\\[\\](){}:,'\"0-9a-fxob_.eE+\\- \\\\rbuTNFnt]{0,40}") {
            if let Err(e) = parse(&text) {
                prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1);
            }
        }
    }

    /// Random values, formatted, parsed, pickled at every protocol and checked by python3 in one run.
    #[test]
    fn random_values_python_agrees() {
        let mut runner = TestRunner::new(Config::default());
        let strategy = (any_value(), any::<u64>());
        let mut all = Vec::new();
        for _ in 0..300 {
            let (v, style) = strategy.new_tree(&mut runner).unwrap().current();
            all.push(text_of(&v, style));
        }
        check_with_python(&all);
    }
}
