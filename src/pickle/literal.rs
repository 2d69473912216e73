//! A parser for Python literals, the values `--send pickle` and the REPL's `/pickle` accept: what
//! `ast.literal_eval` takes (ints of any size in any base, floats, str and bytes with every prefix,
//! quote and escape form, adjacent-string concatenation, True/False/None, lists, tuples, dicts, sets,
//! `set()`), plus `frozenset(...)`.
//!
//! Dict keys keep the order typed; a repeated key keeps its first position and takes the last value, and
//! set elements are deduplicated, with Python's equality (`1 == 1.0 == True`). Unhashable keys are
//! refused as Python refuses them. Errors carry the 1-based column.

use num_bigint::BigInt;

use super::Value;

/// Why a line is not a literal, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralError {
    /// 1-based character column.
    pub column: usize,
    pub message: String,
}

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 200;

/// Parses one Python literal (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Value, LiteralError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.pos >= p.chars.len() {
        return Err(p.error("expected a Python literal, found nothing"));
    }
    let v = p.value()?;
    p.skip_ws();
    if p.pos < p.chars.len() {
        return Err(p.error(format!("unexpected '{}' after the value", p.chars[p.pos])));
    }
    Ok(v)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn error(&self, message: impl Into<String>) -> LiteralError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> LiteralError {
        LiteralError {
            column: pos + 1,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r' | '\n' | '\x0c')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value, LiteralError> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.error("unexpected end of line: a value is missing"));
        };
        match c {
            '[' | '(' | '{' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
                }
                let v = match c {
                    '[' => self.list(),
                    '(' => self.tuple(),
                    _ => self.brace(),
                };
                self.depth -= 1;
                v
            }
            '\'' | '"' => self.strings(),
            '0'..='9' | '.' | '-' | '+' => self.number(),
            c if c.is_alphabetic() || c == '_' => {
                let word = self.word();
                match word.as_str() {
                    "True" => Ok(Value::Bool(true)),
                    "False" => Ok(Value::Bool(false)),
                    "None" => Ok(Value::None),
                    "set" | "frozenset" => self.set_call(&word, start),
                    w if is_string_prefix(w) && matches!(self.peek(), Some('\'' | '"')) => {
                        self.pos = start;
                        self.strings()
                    }
                    "inf" | "nan" => Err(self.error_at(
                        start,
                        format!(
                            "'{word}' is not a literal: write float('{word}')? (not supported)"
                        ),
                    )),
                    _ => Err(self.error_at(start, format!("'{word}' is not a Python literal"))),
                }
            }
            other => Err(self.error(format!("unexpected '{other}'"))),
        }
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// Items up to `close`, separated by commas, a trailing comma allowed. Returns them and whether
    /// any comma was seen.
    fn items(&mut self, close: char) -> Result<(Vec<Value>, bool), LiteralError> {
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            if self.eat(close) {
                return Ok((items, comma));
            }
            if self.peek().is_none() {
                return Err(self.error(format!("'{close}' was never closed")));
            }
            items.push(self.value()?);
            if self.eat(',') {
                comma = true;
                continue;
            }
            self.skip_ws();
            if self.eat(close) {
                return Ok((items, comma));
            }
            return Err(match self.peek() {
                None => self.error(format!("'{close}' was never closed")),
                Some(c) => self.error(format!("expected ',' or '{close}', found '{c}'")),
            });
        }
    }

    fn list(&mut self) -> Result<Value, LiteralError> {
        self.pos += 1;
        Ok(Value::List(self.items(']')?.0))
    }

    fn tuple(&mut self) -> Result<Value, LiteralError> {
        self.pos += 1;
        let (mut items, comma) = self.items(')')?;
        if items.len() == 1 && !comma {
            // Parentheses around one value are just grouping.
            return Ok(items.pop().expect("one item"));
        }
        Ok(Value::Tuple(items))
    }

    fn brace(&mut self) -> Result<Value, LiteralError> {
        let open = self.pos;
        self.pos += 1;
        if self.eat('}') {
            return Ok(Value::Dict(Vec::new()));
        }
        let key_pos = {
            self.skip_ws();
            self.pos
        };
        let first = self.value()?;
        if self.eat(':') {
            // A dict.
            let mut entries: Vec<(Value, Value)> = Vec::new();
            let mut key = first;
            let mut key_at = key_pos;
            loop {
                check_hashable(&key).map_err(|m| self.error_at(key_at, m))?;
                let value = self.value()?;
                match entries.iter().position(|(k, _)| py_eq(k, &key)) {
                    Some(i) => entries[i].1 = value,
                    None => entries.push((key, value)),
                }
                if self.eat('}') {
                    return Ok(Value::Dict(entries));
                }
                if !self.eat(',') {
                    return Err(match self.peek() {
                        None => self.error_at(open, "'{' was never closed"),
                        Some(c) => self.error(format!("expected ',' or '}}', found '{c}'")),
                    });
                }
                if self.eat('}') {
                    return Ok(Value::Dict(entries));
                }
                self.skip_ws();
                key_at = self.pos;
                key = self.value()?;
                if !self.eat(':') {
                    return Err(self.error("expected ':' after a dict key"));
                }
            }
        }
        // A set.
        let mut items = Vec::new();
        let mut item = first;
        let mut item_at = key_pos;
        loop {
            check_hashable(&item).map_err(|m| self.error_at(item_at, m))?;
            if !items.iter().any(|x| py_eq(x, &item)) {
                items.push(item);
            }
            if self.eat('}') {
                return Ok(Value::Set(items));
            }
            if !self.eat(',') {
                return Err(match self.peek() {
                    None => self.error_at(open, "'{' was never closed"),
                    Some(c) => self.error(format!("expected ',' or '}}', found '{c}'")),
                });
            }
            if self.eat('}') {
                return Ok(Value::Set(items));
            }
            self.skip_ws();
            item_at = self.pos;
            item = self.value()?;
        }
    }

    /// `set()`, `set([1, 2])`, `frozenset({1})`.
    fn set_call(&mut self, name: &str, start: usize) -> Result<Value, LiteralError> {
        if !self.eat('(') {
            return Err(self.error_at(start, format!("'{name}' is not a Python literal")));
        }
        let items = if self.eat(')') {
            Vec::new()
        } else {
            let at = {
                self.skip_ws();
                self.pos
            };
            let arg = self.value()?;
            if !self.eat(')') {
                return Err(self.error(format!("expected ')' to close {name}(")));
            }
            match arg {
                Value::List(v) | Value::Tuple(v) | Value::Set(v) | Value::FrozenSet(v) => {
                    let mut out: Vec<Value> = Vec::new();
                    for item in v {
                        check_hashable(&item).map_err(|m| self.error_at(at, m))?;
                        if !out.iter().any(|x| py_eq(x, &item)) {
                            out.push(item);
                        }
                    }
                    out
                }
                _ => {
                    return Err(
                        self.error_at(at, format!("{name}() takes a list, tuple or set here"))
                    )
                }
            }
        };
        Ok(if name == "set" {
            Value::Set(items)
        } else {
            Value::FrozenSet(items)
        })
    }

    fn number(&mut self) -> Result<Value, LiteralError> {
        let start = self.pos;
        let mut negative = false;
        while let Some(c @ ('-' | '+')) = self.peek() {
            if c == '-' {
                negative = !negative;
            }
            self.pos += 1;
            self.skip_ws();
        }
        let body_start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == '.')
            || (matches!(self.peek(), Some('+' | '-'))
                && matches!(self.chars.get(self.pos.wrapping_sub(1)), Some('e' | 'E'))
                && !self.chars[body_start..self.pos]
                    .iter()
                    .any(|c| matches!(c, 'x' | 'X')))
        {
            self.pos += 1;
        }
        let raw: String = self.chars[body_start..self.pos].iter().collect();
        if raw.is_empty() {
            return Err(self.error_at(start, "a sign without a number"));
        }
        let bad = |m: &str| self.error_at(body_start, format!("invalid number '{raw}': {m}"));
        if raw.contains("__") || raw.ends_with('_') || raw.starts_with('_') {
            return Err(bad("misplaced underscore"));
        }
        let clean = raw.replace('_', "");
        if clean.ends_with(['j', 'J']) {
            return Err(bad("complex numbers are not supported"));
        }
        let lower = clean.to_ascii_lowercase();
        let radix = if lower.starts_with("0x") {
            Some(16)
        } else if lower.starts_with("0o") {
            Some(8)
        } else if lower.starts_with("0b") {
            Some(2)
        } else {
            None
        };
        let int = if let Some(radix) = radix {
            let digits = &clean[2..];
            if digits.is_empty() {
                return Err(bad("no digits after the base prefix"));
            }
            BigInt::parse_bytes(digits.as_bytes(), radix)
                .ok_or_else(|| bad("bad digit for its base"))?
        } else if lower.chars().all(|c| c.is_ascii_digit()) {
            if lower.len() > 1 && lower.starts_with('0') && lower.chars().any(|c| c != '0') {
                return Err(bad(
                    "leading zeros are not allowed in decimal integers (use 0o for octal)",
                ));
            }
            BigInt::parse_bytes(lower.as_bytes(), 10).ok_or_else(|| bad("not a number"))?
        } else {
            let f: f64 = lower
                .parse()
                .ok()
                .filter(|_| {
                    lower.chars().any(|c| c.is_ascii_digit())
                        && !lower.contains("inf")
                        && !lower.contains("nan")
                })
                .ok_or_else(|| bad("not a number"))?;
            return Ok(Value::Float(if negative { -f } else { f }));
        };
        let int = if negative { -int } else { int };
        Ok(match i64::try_from(&int) {
            Ok(small) => Value::Int(small),
            Err(_) => Value::BigInt(int),
        })
    }

    /// One or more adjacent string literals (concatenated), all str or all bytes.
    fn strings(&mut self) -> Result<Value, LiteralError> {
        let start = self.pos;
        let mut text = String::new();
        let mut bytes = Vec::new();
        let mut kind: Option<bool> = None; // Some(true) = bytes
        loop {
            self.skip_ws();
            let at = self.pos;
            let prefix_start = self.pos;
            let word = {
                let mut w = String::new();
                while let Some(c) = self.peek() {
                    if c.is_ascii_alphabetic() && w.len() < 2 {
                        w.push(c);
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                w
            };
            if !matches!(self.peek(), Some('\'' | '"')) || !is_string_prefix(&word) {
                self.pos = prefix_start;
                break;
            }
            let lower = word.to_ascii_lowercase();
            let is_bytes = lower.contains('b');
            let raw = lower.contains('r');
            if lower.contains('f') {
                return Err(self.error_at(at, "f-strings are not literals"));
            }
            match kind {
                Some(k) if k != is_bytes => {
                    return Err(self.error_at(at, "cannot mix bytes and nonbytes literals"));
                }
                _ => kind = Some(is_bytes),
            }
            let body = self.quoted(at)?;
            if is_bytes {
                bytes.extend(self.unescape_bytes(&body, raw, at)?);
            } else {
                text.push_str(&self.unescape_str(&body, raw, at)?);
            }
        }
        match kind {
            Some(true) => Ok(Value::Bytes(bytes)),
            Some(false) => Ok(Value::Str(text)),
            None => Err(self.error_at(start, "expected a string")),
        }
    }

    /// The characters between the quotes (escapes still in), for ', ", ''' and """.
    fn quoted(&mut self, at: usize) -> Result<Vec<char>, LiteralError> {
        let q = self.peek().expect("a quote");
        let triple =
            self.chars.get(self.pos + 1) == Some(&q) && self.chars.get(self.pos + 2) == Some(&q);
        self.pos += if triple { 3 } else { 1 };
        let mut body = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(at, "unterminated string literal"));
            };
            if c == '\\' {
                body.push(c);
                self.pos += 1;
                if let Some(n) = self.peek() {
                    body.push(n);
                    self.pos += 1;
                }
                continue;
            }
            if c == q {
                if !triple {
                    self.pos += 1;
                    return Ok(body);
                }
                if self.chars.get(self.pos + 1) == Some(&q)
                    && self.chars.get(self.pos + 2) == Some(&q)
                {
                    self.pos += 3;
                    return Ok(body);
                }
            }
            if c == '\n' && !triple {
                return Err(self.error_at(at, "unterminated string literal"));
            }
            body.push(c);
            self.pos += 1;
        }
    }

    fn unescape_str(&self, body: &[char], raw: bool, at: usize) -> Result<String, LiteralError> {
        if raw {
            return Ok(body.iter().collect());
        }
        let mut out = String::with_capacity(body.len());
        let mut i = 0;
        while i < body.len() {
            let c = body[i];
            if c != '\\' {
                out.push(c);
                i += 1;
                continue;
            }
            let Some(&e) = body.get(i + 1) else {
                return Err(self.error_at(at, "a string ending in a lone backslash"));
            };
            i += 2;
            match e {
                '\n' => {}
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'v' => out.push('\x0b'),
                '\\' | '\'' | '"' => out.push(e),
                '0'..='7' => {
                    let (v, used) = octal(&body[i - 1..]);
                    i += used - 1;
                    out.push(
                        char::from_u32(v).ok_or_else(|| self.error_at(at, "bad octal escape"))?,
                    );
                }
                'x' | 'u' | 'U' => {
                    let n = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = body
                        .get(i..i + n)
                        .map(|h| h.iter().collect())
                        .unwrap_or_default();
                    let v = u32::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == n)
                        .ok_or_else(|| self.error_at(at, format!("truncated \\{e} escape")))?;
                    let ch = char::from_u32(v).ok_or_else(|| {
                        self.error_at(at, format!("\\{e}{hex} is not a valid character"))
                    })?;
                    out.push(ch);
                    i += n;
                }
                'N' => return Err(self.error_at(at, "\\N{...} escapes are not supported; use \\u")),
                other => {
                    // Python keeps unknown escapes as written (with a warning).
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        Ok(out)
    }

    fn unescape_bytes(&self, body: &[char], raw: bool, at: usize) -> Result<Vec<u8>, LiteralError> {
        if let Some(c) = body.iter().find(|c| !c.is_ascii()) {
            return Err(self.error_at(
                at,
                format!("bytes can only contain ASCII characters (found '{c}')"),
            ));
        }
        if raw {
            return Ok(body.iter().map(|&c| c as u8).collect());
        }
        let mut out = Vec::with_capacity(body.len());
        let mut i = 0;
        while i < body.len() {
            let c = body[i];
            if c != '\\' {
                out.push(c as u8);
                i += 1;
                continue;
            }
            let Some(&e) = body.get(i + 1) else {
                return Err(self.error_at(at, "bytes ending in a lone backslash"));
            };
            i += 2;
            match e {
                '\n' => {}
                'n' => out.push(b'\n'),
                't' => out.push(b'\t'),
                'r' => out.push(b'\r'),
                'a' => out.push(7),
                'b' => out.push(8),
                'f' => out.push(12),
                'v' => out.push(11),
                '\\' | '\'' | '"' => out.push(e as u8),
                '0'..='7' => {
                    let (v, used) = octal(&body[i - 1..]);
                    i += used - 1;
                    out.push((v & 0xff) as u8);
                }
                'x' => {
                    let hex: String = body
                        .get(i..i + 2)
                        .map(|h| h.iter().collect())
                        .unwrap_or_default();
                    let v = u8::from_str_radix(&hex, 16)
                        .ok()
                        .filter(|_| hex.len() == 2)
                        .ok_or_else(|| self.error_at(at, "truncated \\x escape"))?;
                    out.push(v);
                    i += 2;
                }
                other => {
                    out.push(b'\\');
                    out.push(other as u8);
                }
            }
        }
        Ok(out)
    }
}

/// Up to three octal digits; returns the value and how many were used.
fn octal(digits: &[char]) -> (u32, usize) {
    let mut v = 0;
    let mut used = 0;
    for &d in digits.iter().take(3) {
        match d.to_digit(8) {
            Some(x) => {
                v = v * 8 + x;
                used += 1;
            }
            None => break,
        }
    }
    (v, used)
}

fn is_string_prefix(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "" | "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf"
    )
}

/// Python refuses lists, dicts and sets (and tuples holding them) as dict keys and set elements.
fn check_hashable(v: &Value) -> Result<(), String> {
    match v {
        Value::List(_) => Err("unhashable type: 'list'".into()),
        Value::Dict(_) => Err("unhashable type: 'dict'".into()),
        Value::Set(_) => Err("unhashable type: 'set'".into()),
        Value::ByteArray(_) => Err("unhashable type: 'bytearray'".into()),
        Value::Tuple(items) => items.iter().try_for_each(check_hashable),
        _ => Ok(()),
    }
}

/// Python's `==` for hashable literals: numbers by value across bool, int and float.
fn py_eq(a: &Value, b: &Value) -> bool {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::BigInt(x), Value::BigInt(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) | (Value::FrozenSet(x), Value::FrozenSet(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(t: &str) -> Value {
        parse(t).unwrap_or_else(|e| panic!("{t:?}: {e:?}"))
    }

    fn bad(t: &str) -> LiteralError {
        parse(t).expect_err(t)
    }

    #[test]
    fn scalars() {
        assert_eq!(ok("42"), Value::Int(42));
        assert_eq!(ok("-0x_ff".replace("_", "").as_str()), Value::Int(-255));
        assert_eq!(ok("0b1010"), Value::Int(10));
        assert_eq!(ok("1_000"), Value::Int(1000));
        assert_eq!(ok("1.5e-7"), Value::Float(1.5e-7));
        assert_eq!(ok(".5"), Value::Float(0.5));
        assert_eq!(ok("-1e+3"), Value::Float(-1000.0));
        assert!(matches!(
            ok("123456789012345678901234567890"),
            Value::BigInt(_)
        ));
        assert_eq!(ok("True"), Value::Bool(true));
        assert_eq!(ok(" None "), Value::None);
    }

    #[test]
    fn strings() {
        assert_eq!(ok(r#"'it\'s'"#), Value::Str("it's".into()));
        assert_eq!(
            ok(r#""a\n\x41\u00e9\U0001F600\101""#),
            Value::Str("a\nAé😀A".into())
        );
        assert_eq!(ok(r"r'\n'"), Value::Str("\\n".into()));
        assert_eq!(ok("'a' \"b\" '''c'''"), Value::Str("abc".into()));
        assert_eq!(ok(r"b'\x00\xff'"), Value::Bytes(vec![0, 255]));
        assert_eq!(ok(r"Rb'\x'"), Value::Bytes(b"\\x".to_vec()));
        assert_eq!(
            bad("b'x' 'y'").message,
            "cannot mix bytes and nonbytes literals"
        );
        assert_eq!(bad("'abc").column, 1);
        assert!(bad("b'é'").message.contains("ASCII"));
    }

    #[test]
    fn containers() {
        assert_eq!(ok("(1,)"), Value::Tuple(vec![Value::Int(1)]));
        assert_eq!(ok("(1)"), Value::Int(1));
        assert_eq!(ok("()"), Value::Tuple(vec![]));
        assert_eq!(
            ok("[1, 2,]"),
            Value::List(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(ok("set()"), Value::Set(vec![]));
        assert_eq!(
            ok("{1, 1.0, True, 2}"),
            Value::Set(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(
            ok("{'b': 1, 'a': 2, 'b': 3}"),
            Value::Dict(vec![
                (Value::Str("b".into()), Value::Int(3)),
                (Value::Str("a".into()), Value::Int(2))
            ])
        );
    }

    #[test]
    fn errors_name_the_column() {
        let e = bad("{[1]: 2}");
        assert_eq!(
            (e.column, e.message.as_str()),
            (2, "unhashable type: 'list'")
        );
        let e = bad("[1, 2");
        assert!(e.message.contains("never closed"), "{e:?}");
        let e = bad("[1 2]");
        assert_eq!(e.column, 4);
        assert!(bad("012").message.contains("leading zeros"));
        assert!(bad("1j").message.contains("complex"));
        assert!(bad("os.system('x')")
            .message
            .contains("not a Python literal"));
        let deep = "[".repeat(100_000);
        assert!(bad(&deep).message.contains("nested deeper"));
    }
}
