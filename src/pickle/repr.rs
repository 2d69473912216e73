//! Python's `repr()` of decoded pickles, exactly: quoting and escapes of str and bytes, shortest
//! round-trip floats in Python's layout, `(1,)`, `set()`, `frozenset({...})`, dicts in insertion order,
//! `[...]` for a list that contains itself.
//!
//! Shared sub-objects are printed in full each time, as Python does, so the output of a small pickle can
//! be exponentially large: [`Limits::max_repr`] bounds it, and [`Limits::max_depth`] bounds nesting (the
//! recursion here is limited by that depth, never by the input size).
//!
//! Globals and calls, which nothing here imports or runs, are shown as `<global os.system>` and
//! `<global os.system>('echo hi')` (with `, state=...` when BUILD gave one): recognisably not a value.

use std::fmt::Write as _;

use unicode_general_category::{get_general_category, GeneralCategory};

use super::decode::{Arena, Id, Limits, Obj};
use super::Value;

/// Why a value could not be shown or converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReprError(pub String);

impl std::fmt::Display for ReprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Writes Python's repr of the arena's root into `out`.
pub fn repr_into(arena: &Arena, limits: &Limits, out: &mut Vec<u8>) -> Result<(), ReprError> {
    let start = out.len();
    let mut r = Repr {
        arena,
        out,
        start,
        limits,
        open: Vec::new(),
        depth: 0,
    };
    r.write(arena.root)
}

struct Repr<'a> {
    arena: &'a Arena,
    out: &'a mut Vec<u8>,
    start: usize,
    limits: &'a Limits,
    /// Containers being printed right now, innermost last (to print `[...]` for a cycle).
    open: Vec<Id>,
    depth: usize,
}

impl Repr<'_> {
    fn write(&mut self, id: Id) -> Result<(), ReprError> {
        if self.out.len() - self.start > self.limits.max_repr {
            return Err(ReprError(format!(
                "its repr is larger than {} bytes (shared sub-objects expand)",
                self.limits.max_repr
            )));
        }
        let obj = &self.arena.objs[id as usize];
        match obj {
            Obj::None => self.out.extend_from_slice(b"None"),
            Obj::Bool(true) => self.out.extend_from_slice(b"True"),
            Obj::Bool(false) => self.out.extend_from_slice(b"False"),
            Obj::Int(i) => {
                let mut buf = itoa_buf(*i);
                self.out.append(&mut buf);
            }
            Obj::BigInt(i) => self.out.extend_from_slice(i.to_string().as_bytes()),
            Obj::Float(f) => push_float(self.out, *f),
            Obj::Str(s) => push_str_repr(self.out, s),
            Obj::Bytes(b) => push_bytes_repr(self.out, b),
            Obj::ByteArray(b) => {
                self.out.extend_from_slice(b"bytearray(");
                push_bytes_repr(self.out, b);
                self.out.push(b')');
            }
            Obj::Global { module, name } => {
                let _ = write!(Bytes(self.out), "<global {module}.{name}>");
            }
            Obj::List(_)
            | Obj::Tuple(_)
            | Obj::Dict(_)
            | Obj::Set(_)
            | Obj::FrozenSet(_)
            | Obj::Call { .. } => {
                if self.open.contains(&id) {
                    // A container inside itself: Python prints the ellipsis form.
                    let dots: &[u8] = match obj {
                        Obj::List(_) => b"[...]",
                        Obj::Dict(_) => b"{...}",
                        Obj::Tuple(_) => b"(...)",
                        _ => b"...",
                    };
                    self.out.extend_from_slice(dots);
                    return Ok(());
                }
                if self.depth >= self.limits.max_depth {
                    return Err(ReprError(format!(
                        "nested deeper than {} levels",
                        self.limits.max_depth
                    )));
                }
                self.open.push(id);
                self.depth += 1;
                let r = self.container(obj);
                self.depth -= 1;
                self.open.pop();
                r?;
            }
        }
        Ok(())
    }

    fn seq(&mut self, items: &[Id]) -> Result<(), ReprError> {
        for (i, &item) in items.iter().enumerate() {
            if i > 0 {
                self.out.extend_from_slice(b", ");
            }
            self.write(item)?;
        }
        Ok(())
    }

    fn container(&mut self, obj: &Obj) -> Result<(), ReprError> {
        match obj {
            Obj::List(items) => {
                self.out.push(b'[');
                self.seq(items)?;
                self.out.push(b']');
            }
            Obj::Tuple(items) => {
                self.out.push(b'(');
                self.seq(items)?;
                if items.len() == 1 {
                    self.out.push(b',');
                }
                self.out.push(b')');
            }
            Obj::Set(items) if items.is_empty() => self.out.extend_from_slice(b"set()"),
            Obj::Set(items) => {
                self.out.push(b'{');
                self.seq(items)?;
                self.out.push(b'}');
            }
            Obj::FrozenSet(items) if items.is_empty() => self.out.extend_from_slice(b"frozenset()"),
            Obj::FrozenSet(items) => {
                self.out.extend_from_slice(b"frozenset({");
                self.seq(items)?;
                self.out.extend_from_slice(b"})");
            }
            Obj::Dict(entries) => {
                self.out.push(b'{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.extend_from_slice(b", ");
                    }
                    self.write(*k)?;
                    self.out.extend_from_slice(b": ");
                    self.write(*v)?;
                }
                self.out.push(b'}');
            }
            Obj::Call {
                callable,
                args,
                state,
            } => {
                self.write(*callable)?;
                self.out.push(b'(');
                match &self.arena.objs[*args as usize] {
                    Obj::Tuple(items) => self.seq(items)?,
                    _ => {
                        self.out.push(b'*');
                        self.write(*args)?;
                    }
                }
                if let Some(state) = state {
                    self.out.extend_from_slice(b", state=");
                    self.write(*state)?;
                }
                self.out.push(b')');
            }
            _ => unreachable!("only containers get here"),
        }
        Ok(())
    }
}

/// Lets `write!` append to a byte vector.
struct Bytes<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn itoa_buf(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation when the decimal
/// exponent is in -4..16, else scientific with a signed two-digit exponent (`1e+16`, `1.5e-07`).
pub fn push_float(out: &mut Vec<u8>, f: f64) {
    // One implementation for display and encoding: ryu's shortest digits break ties to even, as
    // Python's dtoa does (Rust's own `{:e}` does not, e.g. 2225347021757170.25).
    out.extend_from_slice(super::encode::float_repr(f).as_bytes());
}

/// Python's `str.isprintable()` for one character.
fn printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    !matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::SpaceSeparator
    )
}

/// Python's `repr(str)`.
pub fn push_str_repr(out: &mut Vec<u8>, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        b'"'
    } else {
        b'\''
    };
    out.reserve(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if c as u32 == u32::from(quote) => {
                out.push(b'\\');
                out.push(quote);
            }
            c if c.is_ascii() && (' '..='~').contains(&c) => out.push(c as u8),
            c if !c.is_ascii() && printable(c) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            c => {
                let v = c as u32;
                let _ = if v < 0x100 {
                    write!(Bytes(out), "\\x{v:02x}")
                } else if v < 0x10000 {
                    write!(Bytes(out), "\\u{v:04x}")
                } else {
                    write!(Bytes(out), "\\U{v:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Python's `repr(bytes)`.
pub fn push_bytes_repr(out: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.reserve(b.len() + 3);
    out.push(b'b');
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c if c == quote => {
                out.push(b'\\');
                out.push(c);
            }
            0x20..=0x7e => out.push(c),
            c => out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ]),
        }
    }
    out.push(quote);
}

/// Converts the arena's root to a [`Value`] tree (for typed consumers such as the lab handshake).
/// Cycles are refused; shared sub-objects are copied, within a budget of `limits.max_objects` nodes.
pub fn to_value(arena: &Arena, limits: &Limits) -> Result<Value, ReprError> {
    let mut budget = limits.max_objects;
    let mut open = vec![false; arena.objs.len()];
    convert(arena, arena.root, limits, 0, &mut budget, &mut open)
}

fn convert(
    arena: &Arena,
    id: Id,
    limits: &Limits,
    depth: usize,
    budget: &mut usize,
    open: &mut Vec<bool>,
) -> Result<Value, ReprError> {
    if *budget == 0 {
        return Err(ReprError(
            "too many objects once shared sub-objects are expanded".into(),
        ));
    }
    *budget -= 1;
    if depth >= limits.max_depth {
        return Err(ReprError(format!(
            "nested deeper than {} levels",
            limits.max_depth
        )));
    }
    if open[id as usize] {
        return Err(ReprError(
            "a recursive structure (a container inside itself)".into(),
        ));
    }
    open[id as usize] = true;
    let mut all = |items: &[Id], open: &mut Vec<bool>| -> Result<Vec<Value>, ReprError> {
        items
            .iter()
            .map(|&i| convert(arena, i, limits, depth + 1, budget, open))
            .collect()
    };
    let v = match &arena.objs[id as usize] {
        Obj::None => Value::None,
        Obj::Bool(b) => Value::Bool(*b),
        Obj::Int(i) => Value::Int(*i),
        Obj::BigInt(i) => Value::BigInt(i.clone()),
        Obj::Float(f) => Value::Float(*f),
        Obj::Str(s) => Value::Str(s.clone()),
        Obj::Bytes(b) => Value::Bytes(b.clone()),
        Obj::ByteArray(b) => Value::ByteArray(b.clone()),
        Obj::List(items) => Value::List(all(items, open)?),
        Obj::Tuple(items) => Value::Tuple(all(items, open)?),
        Obj::Set(items) => Value::Set(all(items, open)?),
        Obj::FrozenSet(items) => Value::FrozenSet(all(items, open)?),
        Obj::Dict(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let k = convert(arena, *k, limits, depth + 1, budget, open)?;
                let v = convert(arena, *v, limits, depth + 1, budget, open)?;
                out.push((k, v));
            }
            Value::Dict(out)
        }
        Obj::Global { module, name } => Value::Global {
            module: module.clone(),
            name: name.clone(),
        },
        Obj::Call { callable, args, .. } => Value::Call {
            callable: Box::new(convert(arena, *callable, limits, depth + 1, budget, open)?),
            args: Box::new(convert(arena, *args, limits, depth + 1, budget, open)?),
        },
    };
    open[id as usize] = false;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(f: f64) -> String {
        let mut v = Vec::new();
        push_float(&mut v, f);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn floats_as_python() {
        for (f, want) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (-2.5, "-2.5"),
            (123456.789, "123456.789"),
            (1e100, "1e+100"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
            (1.5e16, "1.5e+16"),
            (12345678901234567.0, "1.2345678901234568e+16"),
        ] {
            assert_eq!(float(f), want, "{f:?}");
        }
    }

    fn s(text: &str) -> String {
        let mut v = Vec::new();
        push_str_repr(&mut v, text);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn strings_as_python() {
        assert_eq!(s("abc"), "'abc'");
        assert_eq!(s("it's"), "\"it's\"");
        assert_eq!(s("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(s("a\nb\t\\"), "'a\\nb\\t\\\\'");
        assert_eq!(s("\x00\x7f\u{85}"), "'\\x00\\x7f\\x85'");
        assert_eq!(s("é中😀"), "'é中😀'");
        assert_eq!(s("\u{200b}\u{2028}\u{a0}"), "'\\u200b\\u2028\\xa0'");
        assert_eq!(s("\u{e000}"), "'\\ue000'");
        assert_eq!(s("\u{10ffff}"), "'\\U0010ffff'");
    }

    #[test]
    fn bytes_as_python() {
        let mut v = Vec::new();
        push_bytes_repr(&mut v, b"a'\x00\xff\"");
        assert_eq!(String::from_utf8(v).unwrap(), "b'a\\'\\x00\\xff\"'");
        let mut v = Vec::new();
        push_bytes_repr(&mut v, b"it's");
        assert_eq!(String::from_utf8(v).unwrap(), "b\"it's\"");
    }
}
