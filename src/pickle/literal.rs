//! A parser for Python literals: the text a person types after `--send pickle`, turned into a [`Value`].
//!
//! It accepts what `ast.literal_eval` accepts: ints of any size (`0x`, `0o`, `0b`, underscores, one
//! leading sign), floats (`1e400` is `inf`, as in Python), complex numbers (`2j`, `1+2j`, `-0j`),
//! `...`, str and bytes with
//! every quote form, prefix and escape (`\N{BULLET}` and its aliases as Python 3.11 names them, lone
//! surrogates such as `'\ud800'`, kept as CPython keeps them: see [`super::PyStr`]), adjacent
//! string concatenation, `True`/`False`/`None`, lists, tuples (also bare `1, 2`), dicts
//! and sets, nested, with trailing commas and `#` comments. On top of that it takes `set(...)`,
//! `frozenset(...)`, `bytearray(b'...')` and `float('inf')`/`float('nan')`, so what sockkit's pickle
//! display prints can be typed back. Dicts keep the order typed; a repeated key keeps its first
//! position and takes the last value, and sets drop repeats, both using Python's equality (`1 == 1.0
//! == True`). Sets and frozensets come out in the iteration order `eval` gives them in CPython 3.11
//! (its set table replayed by [`super::pyobj::SetTable`], the one the pickle display uses), so they
//! pickle byte for byte as CPython pickles them; a set holding str, bytes or None keeps the order
//! typed, since Python's order for those depends on the hash seed. Unhashable keys and set elements
//! are refused, as Python refuses them. Nesting is limited
//! to [`MAX_DEPTH`] levels, so hostile input cannot overflow the stack.

use std::collections::HashMap;
use std::fmt;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::encode::is_const;
use super::pyobj::SetTable;
use super::unicode_table::{ALIASES, UNASSIGNED};
use super::{pyobj, PyStr, Value};

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
        last_set: None,
        frozen_consts: HashMap::new(),
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
    /// The table of the set last made, when every item has CPython's own hash (so its order is
    /// CPython's): what `set(...)` and `frozenset(...)` copy.
    last_set: Option<SetTable>,
    /// The set displays `eval` folds into frozenset constants, by their items (typed, as the
    /// compiler's constant cache compares them), with the constant's items in its order and its
    /// table: equal constants in one literal are one object, the first one made.
    frozen_consts: HashMap<Vec<String>, (Vec<Value>, SetTable)>,
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
            b'0'..=b'9' => {
                let v = self.number()?;
                self.complex_tail(v)
            }
            b'.' if matches!(self.peek_at(1), Some(b'0'..=b'9')) => {
                let v = self.number()?;
                self.complex_tail(v)
            }
            b'.' if self.peek_at(1) == Some(b'.') && self.peek_at(2) == Some(b'.') => {
                self.pos += 3;
                Ok(Value::ellipsis())
            }
            b'-' | b'+' => {
                self.pos += 1;
                self.skip_ws();
                let at = self.pos;
                if !self.starts_number() {
                    return err(at, format!("'{}' must be followed by a number", c as char));
                }
                let v = self.number()?;
                let v = if c == b'-' { negate(v) } else { v };
                self.complex_tail(v)
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

    /// Whether a number starts here (a digit, or a point and a digit): what may follow a sign.
    fn starts_number(&self) -> bool {
        match self.peek() {
            Some(b'0'..=b'9') => true,
            Some(b'.') => matches!(self.peek_at(1), Some(b'0'..=b'9')),
            _ => false,
        }
    }

    /// After a (signed) number: `+ IMAG` or `- IMAG` makes a complex number, as `ast.literal_eval`
    /// takes it (a real on the left, an unsigned imaginary literal on the right).
    fn complex_tail(&mut self, left: Value) -> PResult<Value> {
        let save = self.pos;
        self.skip_ws();
        let Some(op @ (b'+' | b'-')) = self.peek() else {
            self.pos = save;
            return Ok(left);
        };
        let op_at = self.pos;
        self.pos += 1;
        self.skip_ws();
        let at = self.pos;
        if !self.starts_number() {
            return err(
                at,
                "only an imaginary number can follow '+' or '-' in a literal (as in 1+2j)",
            );
        }
        let right = self.number()?;
        let Some((_, im)) = right.as_complex() else {
            return err(
                op_at,
                "only a real and an imaginary number can be added in a literal (as in 1+2j)",
            );
        };
        let re =
            match &left {
                Value::Int(i) => *i as f64,
                Value::BigInt(b) => match b.to_f64().filter(|f| f.is_finite()) {
                    Some(f) => f,
                    None => return err(op_at, "int too large to convert to float"),
                },
                Value::Float(f) => *f,
                _ => return err(
                    op_at,
                    "only a real and an imaginary number can be added in a literal (as in 1+2j)",
                ),
            };
        // Python's mixed arithmetic: the real becomes complex(re, 0.0), the imaginary literal is
        // complex(0.0, im), and the parts are added or subtracted (so signed zeros come out right).
        Ok(if op == b'+' {
            Value::complex(re + 0.0, 0.0 + im)
        } else {
            Value::complex(re - 0.0, 0.0 - im)
        })
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
            let mut all_const = is_const(&first);
            set.insert_elem(first_at, first, "a set element")?;
            let mut written = 1;
            if self.comma_or_close(open_at, Closer::Brace)? {
                for (at, v) in self.items(open_at, Closer::Brace)? {
                    all_const &= is_const(&v);
                    written += 1;
                    set.insert_elem(at, v, "a set element")?;
                }
            }
            return Ok(Value::Set(self.set_display(set, written, all_const)));
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
        self.last_set = None;
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
        // The table of the argument, when it is a set whose order is CPython's.
        let source = match &arg {
            Some(Value::Set(_) | Value::FrozenSet(_)) => self.last_set.take(),
            _ => None,
        };
        self.last_set = None;
        match (name, arg) {
            ("set" | "frozenset", None) => {
                self.last_set = Some(SetTable::new());
                Ok(if name == "set" {
                    Value::Set(Vec::new())
                } else {
                    Value::FrozenSet(Vec::new())
                })
            }
            ("bytearray", None) => Ok(Value::ByteArray(Vec::new())),
            ("bytearray", Some(Value::Bytes(b))) => Ok(Value::ByteArray(b)),
            ("set" | "frozenset", Some(v)) => {
                let from_frozenset = matches!(v, Value::FrozenSet(_));
                let from_set = matches!(v, Value::Set(_) | Value::FrozenSet(_));
                let elems = match v {
                    Value::List(x) | Value::Tuple(x) | Value::Set(x) | Value::FrozenSet(x) => x,
                    _ => {
                        return err(
                            arg_at,
                            format!("{name}() here takes a list, tuple or set literal"),
                        )
                    }
                };
                let elems = match source {
                    // frozenset(a frozenset) is that frozenset; otherwise a set copies the
                    // table of the set it is made from (set_merge).
                    Some(t) => {
                        let t = if name == "frozenset" && from_frozenset {
                            t
                        } else {
                            t.merged()
                        };
                        let (elems, t) = reorder(elems, &t);
                        self.last_set = Some(t);
                        elems
                    }
                    None if from_set => elems,
                    None => {
                        // From a list or tuple: its items added in order.
                        let mut set = Distinct::default();
                        for e in elems {
                            set.insert_elem(arg_at, e, "a set element")?;
                        }
                        self.added(set)
                    }
                };
                Ok(if name == "set" {
                    Value::Set(elems)
                } else {
                    Value::FrozenSet(elems)
                })
            }
            ("float", Some(Value::Str(s))) => {
                let t = s.as_str().unwrap_or_default().trim().to_ascii_lowercase();
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

    /// The items of a set made by adding these, in order, to an empty set, in CPython's iteration
    /// order when every item has CPython's own hash (else as given: str and bytes hashes depend on
    /// the hash seed); `last_set` says which.
    fn added(&mut self, set: Distinct) -> Vec<Value> {
        let (items, hashes) = set.into_values_and_hashes();
        let Some(hashes) = hashes else {
            self.last_set = None;
            return items;
        };
        let mut t = SetTable::new();
        for (i, &h) in hashes.iter().enumerate() {
            t.add(i, h);
        }
        let (items, t) = reorder(items, &t);
        self.last_set = Some(t);
        items
    }

    /// The items of a set display as `eval` makes it (CPython 3.11's compiler): more than two
    /// items, all constants, are folded into a frozenset constant (made from the items, then
    /// remade from its own order when the compiler merges constants, and shared with an equal
    /// constant made before) which an empty set is updated from; otherwise the items are added in
    /// order. `ast.literal_eval` always adds them in order: `eval` is followed, as for sharing.
    fn set_display(&mut self, set: Distinct, written: usize, all_const: bool) -> Vec<Value> {
        let items = self.added(set);
        if written <= 2 || !all_const {
            return items;
        }
        let Some(t) = self.last_set.take() else {
            return items;
        };
        let mut rebuilt = SetTable::new();
        for (i, h) in t.hashes().into_iter().enumerate() {
            rebuilt.add(i, h);
        }
        let (items, rebuilt) = reorder(items, &rebuilt);
        let mut key: Vec<String> = items.iter().map(|v| format!("{v:?}")).collect();
        key.sort_unstable();
        let (items, constant) = self
            .frozen_consts
            .entry(key)
            .or_insert((items, rebuilt))
            .clone();
        let (items, t) = reorder(items, &constant.merged());
        self.last_set = Some(t);
        items
    }

    /// One or more adjacent string literals, concatenated.
    fn strings(&mut self) -> PResult<Value> {
        let mut text = PyStr::default();
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
        text: &mut PyStr,
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
        text: &mut PyStr,
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
                    // Python 3.11 keeps the low 8 bits of an escape over \377 (b'\777' is
                    // b'\xff'), with only a DeprecationWarning.
                    bytes.push((v & 0xff) as u8);
                } else {
                    // At most 0o777, always a valid char.
                    text.push_code_point(v);
                }
                Ok(())
            }
            b'x' => {
                self.pos += 1;
                let v = self.hex_digits(esc_at, 2, "\\xXX")?;
                if is_bytes {
                    bytes.push(v as u8);
                } else {
                    text.push_code_point(v);
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
                // A surrogate (`'\ud800'`) is a code point of its own, as in Python.
                if text.push_code_point(v) {
                    Ok(())
                } else {
                    err(esc_at, format!("illegal Unicode character \\U{v:08x}"))
                }
            }
            b'N' if !is_bytes => {
                // `\N{NAME}`: the name runs to the first `}` inside the string.
                self.pos += 1;
                let start = self.pos + 1;
                let end = (self.peek() == Some(b'{'))
                    .then(|| {
                        self.b[start..]
                            .iter()
                            .take_while(|&&c| !matches!(c, b'\'' | b'"' | b'\\' | b'\n' | b'\r'))
                            .position(|&c| c == b'}')
                    })
                    .flatten()
                    .filter(|&n| n > 0);
                let Some(n) = end else {
                    return err(esc_at, "malformed \\N character escape (write \\N{NAME})");
                };
                let name = &self.text[start..start + n];
                let Some(ch) = char_named(name) else {
                    return err(
                        esc_at,
                        format!("unknown Unicode character name in \\N{{{name}}}"),
                    );
                };
                text.push(ch);
                self.pos = start + n + 1;
                Ok(())
            }
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
                // An imaginary literal: its digits read as a float (inf when too large).
                self.pos += 1;
                if matches!(self.peek(), Some(c) if c == b'_' || c.is_ascii_alphanumeric()) {
                    return err(start, "invalid imaginary literal");
                }
                let im = clean.parse::<f64>().map_err(|_| Err {
                    offset: start,
                    message: "invalid imaginary literal".into(),
                })?;
                return Ok(Value::complex(0.0, im));
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

/// The character `\N{name}` stands for, looked up as Python 3.11 looks it up: a character's name
/// or one of its aliases, in any case but spelled exactly (no loose matching: `BLACK_STAR` is
/// unknown), among the characters of Python's Unicode version (14.0). The names Python makes up
/// (`CJK UNIFIED IDEOGRAPH-4E00`, `HANGUL SYLLABLE GA`) must be upper case, as Python wants them.
pub(crate) fn char_named(name: &str) -> Option<char> {
    if !name.is_ascii() {
        return None;
    }
    let upper = name.to_ascii_uppercase();
    if let Ok(i) = ALIASES.binary_search_by(|(a, _)| (*a).cmp(upper.as_str())) {
        return char::from_u32(ALIASES[i].1);
    }
    // Names are upper-case letters, digits, spaces and hyphens, never first; anything else is
    // unknown without asking the crate (whose loose matching panics, with overflow checks on, on a
    // leading hyphen: `\N{-BULLET}`, found by fuzzing).
    let well_formed = upper
        .bytes()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' ' || c == b'-');
    if !well_formed || upper.starts_with(['-', ' ']) {
        return None;
    }
    let ch = unicode_names2::character(&upper)?;
    let assigned = UNASSIGNED
        .binary_search_by(|&(lo, hi)| {
            if hi < ch as u32 {
                std::cmp::Ordering::Less
            } else if lo > ch as u32 {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_err();
    let canonical = unicode_names2::name(ch)?.to_string();
    if !assigned || canonical != upper {
        return None;
    }
    let algorithmic = ["CJK UNIFIED IDEOGRAPH-", "HANGUL SYLLABLE "];
    if algorithmic.iter().any(|p| canonical.starts_with(p)) && name != canonical {
        return None;
    }
    Some(ch)
}

fn push(is_bytes: bool, text: &mut PyStr, bytes: &mut Vec<u8>, ch: char) {
    if is_bytes {
        // Callers only pass ASCII (or escapes already reduced to bytes) here.
        bytes.push(ch as u32 as u8);
    } else {
        text.push(ch);
    }
}

/// `items` (numbered as `table` numbers them) in the table's iteration order, and the table with
/// its items numbered by that order.
fn reorder(items: Vec<Value>, table: &SetTable) -> (Vec<Value>, SetTable) {
    let mut slots: Vec<Option<Value>> = items.into_iter().map(Some).collect();
    let items = table
        .order()
        .into_iter()
        .map(|i| {
            slots
                .get_mut(i)
                .and_then(Option::take)
                .unwrap_or(Value::None)
        })
        .collect();
    (items, table.renumbered())
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
        other => match other.as_complex() {
            Some((re, im)) => Value::complex(-re, -im),
            None => other,
        },
    }
}

/// Items kept distinct under Python's equality, in first-seen order (Python's `==` and `hash()`
/// are those of [`super::pyobj`], shared with the decoder).
struct Distinct {
    items: Vec<(Value, Value)>,
    index: HashMap<i64, Vec<usize>>,
    /// The hash of each item, while every one is CPython's own.
    hashes: Option<Vec<i64>>,
}

impl Default for Distinct {
    fn default() -> Distinct {
        Distinct {
            items: Vec::new(),
            index: HashMap::new(),
            hashes: Some(Vec::new()),
        }
    }
}

impl Distinct {
    /// Position of an item equal to `key`, and `key`'s hash; or why `key` cannot be hashed.
    fn find(&self, key: &Value) -> Result<(Option<usize>, pyobj::Hash), String> {
        // A literal is at most MAX_DEPTH deep and as long as a line: no work limit needed.
        let mut cx = pyobj::Cx::new(usize::MAX, MAX_DEPTH + 1);
        let hash = pyobj::hash(key, &mut cx)?;
        let h = hash.value;
        for &i in self.index.get(&h).map(Vec::as_slice).unwrap_or(&[]) {
            if pyobj::eq(&self.items[i].0, key, &mut cx)? {
                return Ok((Some(i), hash));
            }
        }
        Ok((None, hash))
    }

    fn push(&mut self, hash: pyobj::Hash, key: Value, value: Value) {
        self.index
            .entry(hash.value)
            .or_default()
            .push(self.items.len());
        self.items.push((key, value));
        match &mut self.hashes {
            Some(h) if hash.cpython => h.push(hash.value),
            _ => self.hashes = None,
        }
    }

    fn insert_item(&mut self, at: usize, key: Value, value: Value) -> PResult<()> {
        match self.find(&key) {
            Ok((Some(i), _)) => self.items[i].1 = value,
            Ok((None, h)) => self.push(h, key, value),
            Err(e) => return err(at, format!("{e} cannot be a dict key")),
        }
        Ok(())
    }

    fn insert_elem(&mut self, at: usize, elem: Value, what: &str) -> PResult<()> {
        match self.find(&elem) {
            Ok((Some(_), _)) => {}
            Ok((None, h)) => self.push(h, elem, Value::None),
            Err(e) => return err(at, format!("{e} cannot be {what}")),
        }
        Ok(())
    }

    fn into_items(self) -> Vec<(Value, Value)> {
        self.items
    }

    /// The items, and their hashes when every one is CPython's own.
    fn into_values_and_hashes(self) -> (Vec<Value>, Option<Vec<i64>>) {
        (
            self.items.into_iter().map(|(k, _)| k).collect(),
            self.hashes,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::encode::encode;
    use crate::pickle::repr::float_repr;
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

    /// Whether `v` holds a set whose order depends on the hash seed (one of its items has no
    /// CPython-wide hash: str, bytes, None, NaN): only those may differ from CPython's bytes.
    fn has_seeded_set(v: &Value) -> bool {
        let seeded = |x: &Value| {
            let mut cx = pyobj::Cx::new(usize::MAX, MAX_DEPTH + 1);
            !pyobj::hash(x, &mut cx).is_ok_and(|h| h.cpython)
        };
        match v {
            Value::Set(x) | Value::FrozenSet(x) => x.iter().any(|i| seeded(i) || has_seeded_set(i)),
            Value::List(x) | Value::Tuple(x) => x.iter().any(has_seeded_set),
            Value::Dict(x) => x
                .iter()
                .any(|(k, v)| has_seeded_set(k) || has_seeded_set(v)),
            _ => false,
        }
    }

    /// Whether `v` holds a one-character str that is an ASCII name character (`'a'`) and a bytes or
    /// bytearray of that one byte: below protocol 3 the byte is pickled as the cached str `'a'`, and
    /// whether the literal's interned `'a'` is that same object depends on what the interpreter ran
    /// before, so the memo may differ (the value may not).
    fn has_interned_char_twin(v: &Value) -> bool {
        fn walk(v: &Value, chars: &mut Vec<u8>, bytes: &mut Vec<u8>) {
            match v {
                Value::Str(s) if s.as_bytes().len() == 1 => chars.push(s.as_bytes()[0]),
                Value::Bytes(b) | Value::ByteArray(b) if b.len() == 1 => bytes.push(b[0]),
                Value::List(x) | Value::Tuple(x) | Value::Set(x) | Value::FrozenSet(x) => {
                    x.iter().for_each(|i| walk(i, chars, bytes))
                }
                Value::Dict(x) => x.iter().for_each(|(k, v)| {
                    walk(k, chars, bytes);
                    walk(v, chars, bytes)
                }),
                _ => {}
            }
        }
        let (mut chars, mut bytes) = (Vec::new(), Vec::new());
        walk(v, &mut chars, &mut bytes);
        chars
            .iter()
            .any(|c| (c.is_ascii_alphanumeric() || *c == b'_') && bytes.contains(c))
    }

    /// Parses each text, pickles it at every protocol, and has python3 confirm each one: exact bytes,
    /// or an equal value where CPython's bytes depend on its state: sets of str, bytes or None (whose
    /// order Python takes from the hash seed), and below protocol 3 an interned one-character str
    /// beside the same byte.
    fn check_with_python(texts: &[String]) {
        let mut cases = Vec::new();
        let mut sets = Vec::new();
        for t in texts {
            let v = parse(t).unwrap_or_else(|e| panic!("{t:?}: {e}"));
            for p in 0..=5 {
                cases.push((t.clone(), p, encode(&v, p).unwrap()));
                sets.push(has_seeded_set(&v) || (p < 3 && has_interned_char_twin(&v)));
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
    fn complex_numbers_ellipsis_and_octal_bytes_as_python() {
        assert_eq!(parse("-0j").unwrap().as_complex(), Some((-0.0, -0.0)));
        assert_eq!(parse("1 - 2.5j").unwrap().as_complex(), Some((1.0, -2.5)));
        assert_eq!(parse("...").unwrap(), Value::ellipsis());
        assert_eq!(parse(r"b'\777'").unwrap(), Value::Bytes(vec![0xff]));
        for bad in [
            "1j+2j",
            "1+2",
            "1+-2j",
            "(1+2j)+3j",
            "1+",
            "0x10j",
            "1jj",
            ". . .",
        ] {
            assert!(parse(bad).is_err(), "{bad} parsed");
        }
        check_with_python(&texts(&[
            "1+2j",
            "-0j",
            "+0j",
            "0-0j",
            "1-0j",
            "-0.0+1j",
            "-0.0-0j",
            "-1-2j",
            "2J",
            "1e400j",
            "0.5-1.5e3j",
            "1_0j",
            "[1j, 1j, (1+2j, 3j), (1+2j, 3j), ..., ...]",
            "{'a': (..., 2j)}",
            "(1+2j, 'builtins', 'complex')",
            "...",
            r"b'\777\400'",
        ]));
        // Equal complex keys merge with equal reals, as in Python.
        assert_eq!(
            parse("{1: 'a', 1+0j: 'b'}").unwrap(),
            Value::Dict(vec![(Value::Int(1), Value::Str("b".into()))])
        );
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

    /// Sets and frozensets are written in the order `eval` gives them, byte for byte: set displays
    /// folded into frozenset constants or built item by item, `set(...)` and `frozenset(...)` of
    /// lists and of other sets, equal constants shared, sets that grew past their first tables.
    #[test]
    fn sets_in_cpythons_order_byte_for_byte() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rng = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let item = |kind: u64, rng: &mut dyn FnMut(u64) -> u64| -> String {
            match (kind + rng(2)) % 5 {
                0 => (rng(250) as i64 - 50).to_string(),
                1 => format!("{}.5", rng(40) as i64 - 20),
                2 => format!("{}", (rng(1 << 40) as i64) << 23),
                3 => format!("({}, {}.0)", rng(6), rng(4)),
                _ => ["True", "1.0", "0", "-0.0", "2**0", "1+2j", "3j", "(1,)"][rng(7) as usize]
                    .replace("2**0", "1"),
            }
        };
        let mut texts = Vec::new();
        for n in 0..400u64 {
            let k = [0, 1, 2, 3, 4, 5, 6, 9, 13, 20, 33, 60][rng(12) as usize];
            let kind = n % 5;
            let items: Vec<String> = (0..k).map(|_| item(kind, &mut rng)).collect();
            let list = items.join(", ");
            let rev: Vec<String> = items.iter().rev().cloned().collect();
            texts.push(match n % 8 {
                0 | 1 => format!("{{{list}}}"),
                2 => format!("set([{list}])"),
                3 => format!("frozenset({{{list}}})"),
                4 => format!("set(frozenset(({list},)))"),
                5 => format!(
                    "[{{{list}}}, {{{}}}, frozenset({{{list}}})]",
                    rev.join(", ")
                ),
                6 => format!("{{frozenset([{list}]), {list}}}"),
                _ => format!("frozenset(frozenset(set({{{list}}})))"),
            });
        }
        // `{}` is a dict and `set([])` takes no empty display: drop what does not parse.
        texts.retain(|t| parse(t).is_ok() && !t.contains("{}"));
        let reordered = texts
            .iter()
            .filter(|t| {
                let v = parse(t).unwrap();
                let typed = parse(&t.replace('{', "[").replace('}', "]")).ok();
                typed.is_some_and(|typed| {
                    format!("{typed:?}").replace("List", "Set") != format!("{v:?}")
                })
            })
            .count();
        assert!(
            reordered > 50,
            "only {reordered} of {} sets reorder",
            texts.len()
        );
        check_with_python(&texts);
    }

    /// `\N{...}` takes every name and alias Python 3.11 takes, in any case, and nothing else: every
    /// name unicode_names2 knows (Unicode 17, so some are too new for Python) is tried as it is,
    /// in lower case and with its spaces as underscores, and the answers compared with Python's.
    #[test]
    fn named_escapes_as_python() {
        let mut names = Vec::new();
        for c in (0..0x110000u32).filter_map(char::from_u32) {
            if let Some(n) = unicode_names2::name(c) {
                let n = n.to_string();
                if c as u32 % 7 == 0 {
                    names.push(n.to_lowercase());
                    names.push(n.replace(' ', "_"));
                }
                names.push(n);
            }
        }
        for (alias, _) in ALIASES.iter() {
            names.push(alias.to_string());
            names.push(alias.to_lowercase());
        }
        names.extend(
            [
                "LINE FEED",
                "line feed (lf)",
                "NBSP",
                "EM",
                "LATIN CAPITAL LETTER GHA",
            ]
            .map(String::from),
        );
        let script = r#"
import sys
for name in sys.stdin.read().split('\n')[:-1]:
    try:
        print(ord(eval("'\\N{%s}'" % name)))
    except SyntaxError:
        print('-')
"#;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed by these tests");
        let input: String = names.iter().map(|n| format!("{n}\n")).collect();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        let answers = String::from_utf8(out.stdout).unwrap();
        let mut wrong = Vec::new();
        let (mut found, mut refused) = (0, 0);
        for (name, want) in names.iter().zip(answers.lines()) {
            let got = match char_named(name) {
                Some(c) => (c as u32).to_string(),
                None => "-".to_string(),
            };
            if got != want {
                wrong.push(format!("{name:?}: ours {got}, Python {want}"));
            }
            if want == "-" {
                refused += 1;
            } else {
                found += 1;
            }
        }
        assert_eq!(answers.lines().count(), names.len());
        assert!(
            wrong.is_empty(),
            "{} of {} differ:\n{}",
            wrong.len(),
            names.len(),
            wrong[..wrong.len().min(30)].join("\n")
        );
        assert!(
            found > 140_000 && refused > 10_000,
            "{found} found, {refused} refused"
        );
        assert_eq!(
            parse(r"'\N{bullet}\N{LF}x'").unwrap(),
            Value::Str("\u{2022}\nx".into())
        );
        // Found by fuzzing: unicode_names2 overflows on a leading hyphen.
        for bad in ["-BULLET", "-", " BULLET", "BULLET\u{0}", ""] {
            assert_eq!(char_named(bad), None, "{bad:?}");
        }
        check_with_python(&texts(&[
            r"'\N{BULLET}'",
            r"'a\N{latin small letter e with acute}b' '\N{SNOWMAN}'",
            r"'\N{CJK UNIFIED IDEOGRAPH-4E00}\N{HANGUL SYLLABLE GA}'",
            r"b'\N{BULLET}'",
            r"r'\N{BULLET}'",
        ]));
    }

    /// Lone surrogates are code points of their own, as in Python: pickled byte for byte as
    /// CPython pickles them ('surrogatepass' UTF-8, `\\ud800` at protocol 0), and shown back by
    /// the decoder with Python's repr.
    #[test]
    fn lone_surrogates_as_python() {
        let mut want = PyStr::from("a");
        want.push_code_point(0xd800);
        assert_eq!(parse(r"'a\ud800'").unwrap(), Value::Str(want));
        let list = [
            r"'\ud800'",
            r"'a\udfffb'",
            r"'\ud83d\ude00'",
            r"'\ud83d' '\ude00'",
            r"'\U0000dc00\x00é'",
            r"{'\udc80': '\ud800', '\udc80': 1}",
            r"('\ud800', '\ud800', b'\ud800')",
        ];
        check_with_python(&texts(&list));
        let reprs = crate::pickle::python(&format!(
            "for t in [{}]: print(ascii(repr(eval(t))))",
            list.iter()
                .map(|t| format!("{t:?}").replace("\\\\", "\\"))
                .map(|t| format!("r{t}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for (text, want) in list.iter().zip(reprs.lines()) {
            let bytes = encode(&parse(text).unwrap(), 4).unwrap();
            let mut s = crate::pickle::PickleStream::new(
                crate::pickle::Framing::Stop,
                crate::pickle::Limits::default(),
            );
            s.push(&bytes);
            let Some(crate::pickle::Event::Message(m)) = s.next_event() else {
                panic!("{text} does not decode")
            };
            let got = crate::pickle::python(&format!("print(ascii({:?}))", m.repr()));
            assert_eq!(got.trim_end(), want, "{text}");
        }
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
        (
            "'\\N{NO SUCH}'",
            2,
            "unknown Unicode character name in \\N{NO SUCH}",
        ),
        ("'\\N{black_star}'", 2, "unknown Unicode character name"),
        ("'\\N{ BULLET}'", 2, "unknown Unicode character name"),
        (
            "'\\N{cjk unified ideograph-4e00}'",
            2,
            "unknown Unicode character name",
        ),
        (
            "'\\N{HANGUL SYLLABLE ga}'",
            2,
            "unknown Unicode character name",
        ),
        (
            "'\\N{CJK UNIFIED IDEOGRAPH-31350}'",
            2,
            "unknown Unicode character name",
        ),
        ("'\\N{BULLET'", 2, "malformed \\N character escape"),
        ("'\\N{}'", 2, "malformed"),
        ("'\\N'", 2, "malformed"),
        ("'a' b'b'", 5, "cannot mix bytes and str"),
        ("f'x'", 1, "f-strings"),
        ("01", 1, "leading zeros"),
        ("1__0", 1, "invalid decimal literal"),
        ("1_", 1, "invalid decimal literal"),
        ("0x", 1, "invalid hexadecimal literal"),
        ("0b102", 5, "invalid digit '2' in binary literal"),
        ("1abc", 1, "invalid decimal literal"),
        ("1j+2j", 3, "only a real and an imaginary number"),
        ("1 + 2", 3, "only a real and an imaginary number"),
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
        let ours_only = ["1j"];
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
                for c in s.code_points() {
                    let Some(ch) = char::from_u32(c).filter(|_| c <= 0x7f || pick(style, 2) != 0)
                    else {
                        // A surrogate, or a character written as an escape.
                        if c > 0xffff {
                            out.push_str(&format!("\\U{c:08x}"))
                        } else {
                            out.push_str(&format!("\\u{c:04x}"))
                        }
                        continue;
                    };
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
        d.into_values_and_hashes().0
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
            (
                "\\PC{0,12}",
                proptest::option::weighted(0.2, 0xd800u32..0xe000)
            )
                .prop_map(|(s, surrogate)| {
                    let mut s = PyStr::from(s);
                    if let Some(c) = surrogate {
                        s.push_code_point(c);
                    }
                    Value::Str(s)
                }),
            "[a-c'\"\\\\\n\t]{0,6}".prop_map(|s| Value::Str(s.into())),
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
            (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
            }
            // The parser puts sets in CPython's order, not the order typed.
            (Value::Set(x), Value::Set(y)) | (Value::FrozenSet(x), Value::FrozenSet(y)) => {
                x.len() == y.len() && x.iter().all(|p| y.iter().any(|q| same(p, q)))
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
