//! The pickle encoder: a [`Value`] written as protocol 0 to 5, byte for byte as CPython 3.11's
//! `pickle.dumps(eval(text), protocol=p)` writes the same value.
//!
//! It follows `Modules/_pickle.c`: the smallest int opcode that fits (BININT1/2, BININT, LONG1/4, or
//! the text forms at protocol 0), SHORT_BINUNICODE from protocol 4, FRAME around each run of at least
//! 4 bytes from protocol 4 (a new frame after 64 KiB, large str and bytes payloads outside frames),
//! batches of 1000 items for APPENDS/SETITEMS/ADDITEMS, MEMOIZE/BINPUT/PUT after every memoized object,
//! and the `__reduce__` forms older protocols need (`_codecs.encode(..., 'latin1')` for bytes before
//! protocol 3, `builtins.set([...])` before 4, `builtins.bytearray(...)` before 5).
//!
//! Sharing follows `eval`: Python's compiler merges equal constants, so every equal str, every equal
//! bytes and every equal all-constant tuple in one literal is one object, pickled once and then
//! fetched from the memo. Lists, dicts and sets are always distinct objects.
//!
//! Set items are written in the order the value holds them, which the literal parser makes
//! CPython's own iteration order (see [`super::literal`]), except for sets holding str, bytes or
//! None, whose order in Python depends on the hash seed (`PYTHONHASHSEED`): those keep the order
//! typed, as right as any. Globals and calls (`Value::Global`, `Value::Call`) are refused, except
//! the two a literal can hold: complex numbers (`builtins.complex(re, im)`, see [`Value::complex`])
//! and `...` (Ellipsis).

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use num_bigint::BigInt;

use super::decode::decode_char;
use super::repr::float_repr;
use super::scan::op;
use super::{PyStr, Value};

/// Why a value could not be pickled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    pub message: String,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EncodeError {}

fn fail<T>(message: impl Into<String>) -> Result<T, EncodeError> {
    Err(EncodeError {
        message: message.into(),
    })
}

/// The highest protocol written.
pub const HIGHEST_PROTOCOL: u8 = 5;

/// The deepest nesting encoded (values from the literal parser are at most 200 deep).
pub const MAX_DEPTH: usize = 1000;

const FRAME_HEADER_SIZE: usize = 9;
const FRAME_SIZE_MIN: usize = 4;
const FRAME_SIZE_TARGET: usize = 64 * 1024;
const BATCHSIZE: usize = 1000;

/// Pickles `value` with `protocol` (0 to 5).
pub fn encode(value: &Value, protocol: u8) -> Result<Vec<u8>, EncodeError> {
    if protocol > HIGHEST_PROTOCOL {
        return fail(format!(
            "pickle protocol must be 0 to {HIGHEST_PROTOCOL}, not {protocol}"
        ));
    }
    let mut p = Pickler {
        proto: protocol,
        out: Vec::with_capacity(64),
        framing: false,
        frame_start: None,
        memo: HashMap::new(),
        memo_len: 0,
        depth: 0,
    };
    if protocol >= 2 {
        p.write(&[op::PROTO, protocol]);
        if protocol >= 4 {
            p.framing = true;
        }
    }
    p.save(value)?;
    p.write(&[op::STOP]);
    p.commit_frame();
    Ok(p.out)
}

/// What the memo knows an object by. Objects that are always distinct (lists, dicts, sets, the
/// temporaries of a reduce) get a memo slot but no key: nothing can refer to them again.
#[derive(Hash, PartialEq, Eq)]
enum MemoKey<'a> {
    Str(&'a [u8]),
    Bytes(&'a [u8]),
    Tuple(ConstTuple<'a>),
    Global(&'static str, &'static str),
    /// A complex constant (the bits of its parts: the compiler merges equal constants).
    Complex(u64, u64),
    /// CPython's cached one-character str for a code point below 256: the str a reduce decodes from
    /// one byte is that shared object, and so is such a str typed in the literal (see
    /// [`literal_str_key`]).
    Latin1Char(char),
}

/// The memo key of a str the literal holds. A one-character str below U+0100 is CPython's cached
/// character, the very object a reduce decodes from one byte (`['\n', b'\n']` pickles the second
/// `'\n'` as a memo get at protocols 0 to 2), unless it is an ASCII name character (`a`, `_`, `7`):
/// the compiler interns those, and whether the interned str is the cached one depends on what the
/// interpreter ran before (in Python 3.11 after `import pickle`, `'a'` is not and `'g'` is). Those
/// stay apart from the decoded one, as they are for most letters.
fn literal_str_key(s: &PyStr) -> MemoKey<'_> {
    let mut chars = s.as_str().unwrap_or_default().chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if (c as u32) < 256 && !(c.is_ascii_alphanumeric() || c == '_') => {
            MemoKey::Latin1Char(c)
        }
        _ => MemoKey::Str(s.as_bytes()),
    }
}

/// A tuple of constants, compared as Python's compiler compares constants (types must match too).
struct ConstTuple<'a>(&'a [Value]);

impl PartialEq for ConstTuple<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(other.0).all(|(a, b)| const_eq(a, b))
    }
}

impl Eq for ConstTuple<'_> {}

impl Hash for ConstTuple<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.len().hash(h);
        for v in self.0 {
            const_hash(v, h);
        }
    }
}

/// True for values Python's compiler folds into a constant: scalars, str, bytes and tuples of them.
pub(crate) fn is_const(v: &Value) -> bool {
    match v {
        Value::None
        | Value::Bool(_)
        | Value::Int(_)
        | Value::BigInt(_)
        | Value::Float(_)
        | Value::Str(_)
        | Value::Bytes(_) => true,
        Value::Tuple(items) => items.iter().all(is_const),
        other => other.as_complex().is_some() || is_ellipsis(other),
    }
}

fn is_ellipsis(v: &Value) -> bool {
    matches!(v, Value::Global { module, name } if module == "builtins" && name == "Ellipsis")
}

fn const_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::BigInt(x), Value::BigInt(y)) => x == y,
        (Value::Int(x), Value::BigInt(y)) | (Value::BigInt(y), Value::Int(x)) => {
            BigInt::from(*x) == *y
        }
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) => ConstTuple(x) == ConstTuple(y),
        (x, y) => match (x.as_complex(), y.as_complex()) {
            (Some((a, b)), Some((c, d))) => {
                (a.to_bits(), b.to_bits()) == (c.to_bits(), d.to_bits())
            }
            _ => is_ellipsis(x) && is_ellipsis(y),
        },
    }
}

fn const_hash<H: Hasher>(v: &Value, h: &mut H) {
    match v {
        Value::None => 0u8.hash(h),
        Value::Bool(b) => (1u8, *b).hash(h),
        Value::Int(i) => (2u8, BigInt::from(*i).to_signed_bytes_le()).hash(h),
        Value::BigInt(b) => (2u8, b.to_signed_bytes_le()).hash(h),
        Value::Float(x) => (3u8, x.to_bits()).hash(h),
        Value::Str(s) => (4u8, s).hash(h),
        Value::Bytes(b) => (5u8, b).hash(h),
        Value::Tuple(items) => {
            6u8.hash(h);
            ConstTuple(items).hash(h);
        }
        other => match other.as_complex() {
            Some((re, im)) => (8u8, re.to_bits(), im.to_bits()).hash(h),
            None => 7u8.hash(h),
        },
    }
}

/// The objects a reduce builds on the way: never shared, except the interned `'latin1'`.
enum Temp<'a> {
    /// A global (a builtin type or function); memoized by name.
    Global(&'static str, &'static str),
    /// An interned str: shared with an equal str the literal holds.
    Interned(&'static str),
    /// A fresh str.
    Str(String),
    /// A fresh bytes object.
    Bytes(&'a [u8]),
    /// A fresh list of these values.
    List(&'a [Value]),
    /// A fresh tuple.
    Tuple(Vec<Temp<'a>>),
    /// A float.
    Float(f64),
}

struct Pickler<'a> {
    proto: u8,
    out: Vec<u8>,
    framing: bool,
    frame_start: Option<usize>,
    memo: HashMap<MemoKey<'a>, u32>,
    memo_len: u32,
    depth: usize,
}

impl<'a> Pickler<'a> {
    // ----- output and framing, as _Pickler_Write / _Pickler_CommitFrame -----

    fn write(&mut self, data: &[u8]) {
        if self.framing && self.frame_start.is_none() {
            self.frame_start = Some(self.out.len());
            self.out.extend_from_slice(&[0xfe; FRAME_HEADER_SIZE]);
        }
        self.out.extend_from_slice(data);
    }

    fn commit_frame(&mut self) {
        if !self.framing {
            return;
        }
        let Some(start) = self.frame_start.take() else {
            return;
        };
        let len = self.out.len() - start - FRAME_HEADER_SIZE;
        if len >= FRAME_SIZE_MIN {
            self.out[start] = op::FRAME;
            self.out[start + 1..start + FRAME_HEADER_SIZE]
                .copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.out.drain(start..start + FRAME_HEADER_SIZE);
        }
    }

    /// A text opcode: the opcode, its argument and a newline (protocol 0 style).
    fn write_text(&mut self, opcode: u8, arg: &str) {
        let mut b = Vec::with_capacity(arg.len() + 2);
        b.push(opcode);
        b.extend_from_slice(arg.as_bytes());
        b.push(b'\n');
        self.write(&b);
    }

    /// Called before each object, as `save()` does: a frame that reached 64 KiB is closed.
    fn opcode_boundary(&mut self) {
        if let (true, Some(start)) = (self.framing, self.frame_start) {
            if self.out.len() - start - FRAME_HEADER_SIZE >= FRAME_SIZE_TARGET {
                self.commit_frame();
            }
        }
    }

    /// A header and a payload; a payload of 64 KiB or more goes outside any frame.
    fn write_bytes(&mut self, header: &[u8], data: &[u8]) {
        let framing = self.framing;
        if data.len() >= FRAME_SIZE_TARGET {
            self.commit_frame();
            self.framing = false;
        }
        self.write(header);
        self.write(data);
        self.framing = framing;
    }

    // ----- the memo -----

    fn memo_put(&mut self, key: Option<MemoKey<'a>>) {
        let idx = self.memo_len;
        self.memo_len += 1;
        if let Some(k) = key {
            self.memo.insert(k, idx);
        }
        if self.proto >= 4 {
            self.write(&[op::MEMOIZE]);
        } else if self.proto >= 1 {
            match u8::try_from(idx) {
                Ok(i) => self.write(&[op::BINPUT, i]),
                Err(_) => {
                    let mut b = [op::LONG_BINPUT, 0, 0, 0, 0];
                    b[1..].copy_from_slice(&idx.to_le_bytes());
                    self.write(&b);
                }
            }
        } else {
            self.write_text(op::PUT, &idx.to_string());
        }
    }

    /// Writes a fetch when `key` is in the memo; true if it did.
    fn memo_get(&mut self, key: &MemoKey<'a>) -> bool {
        let Some(&idx) = self.memo.get(key) else {
            return false;
        };
        if self.proto >= 1 {
            match u8::try_from(idx) {
                Ok(i) => self.write(&[op::BINGET, i]),
                Err(_) => {
                    let mut b = [op::LONG_BINGET, 0, 0, 0, 0];
                    b[1..].copy_from_slice(&idx.to_le_bytes());
                    self.write(&b);
                }
            }
        } else {
            self.write_text(op::GET, &idx.to_string());
        }
        true
    }

    // ----- values -----

    fn save(&mut self, v: &'a Value) -> Result<(), EncodeError> {
        self.opcode_boundary();
        match v {
            Value::None => self.write(&[op::NONE]),
            Value::Bool(b) => {
                if self.proto >= 2 {
                    self.write(&[if *b { op::NEWTRUE } else { op::NEWFALSE }]);
                } else {
                    self.write(if *b { b"I01\n" } else { b"I00\n" });
                }
            }
            Value::Int(i) => self.save_int(*i),
            Value::BigInt(b) => match i64::try_from(b) {
                Ok(i) => self.save_int(i),
                Err(_) => self.save_long(b),
            },
            Value::Float(x) => self.save_float(*x),
            Value::Str(s) => {
                let key = literal_str_key(s);
                if !self.memo_get(&key) {
                    self.save_str(s.as_bytes())?;
                    self.memo_put(Some(key));
                }
            }
            Value::Bytes(b) => {
                let key = MemoKey::Bytes(b);
                if !self.memo_get(&key) {
                    self.save_bytes(b, Some(key))?;
                }
            }
            Value::Tuple(items) => {
                if items.is_empty() {
                    if self.proto >= 1 {
                        self.write(&[op::EMPTY_TUPLE]);
                    } else {
                        self.write(&[op::MARK, op::TUPLE]);
                    }
                    return Ok(());
                }
                let key = is_const(v).then(|| MemoKey::Tuple(ConstTuple(items)));
                if let Some(k) = &key {
                    if self.memo_get(k) {
                        return Ok(());
                    }
                }
                self.enter()?;
                let n = items.len();
                if n <= 3 && self.proto >= 2 {
                    for item in items {
                        self.save(item)?;
                    }
                    self.write(&[[op::TUPLE1, op::TUPLE2, op::TUPLE3][n - 1]]);
                } else {
                    self.write(&[op::MARK]);
                    for item in items {
                        self.save(item)?;
                    }
                    self.write(&[op::TUPLE]);
                }
                self.memo_put(key);
                self.depth -= 1;
            }
            Value::List(items) => {
                self.enter()?;
                self.save_list(items)?;
                self.depth -= 1;
            }
            Value::Dict(items) => {
                self.enter()?;
                self.save_dict(items)?;
                self.depth -= 1;
            }
            Value::Set(items) => {
                self.enter()?;
                if self.proto >= 4 {
                    self.write(&[op::EMPTY_SET]);
                    self.memo_put(None);
                    if !items.is_empty() {
                        self.batches(items, op::ADDITEMS)?;
                    }
                } else {
                    let reduce = Temp::Tuple(vec![Temp::List(items)]);
                    self.save_reduce(Temp::Global("builtins", "set"), reduce)?;
                    self.memo_put(None);
                }
                self.depth -= 1;
            }
            Value::FrozenSet(items) => {
                self.enter()?;
                if self.proto >= 4 {
                    self.write(&[op::MARK]);
                    for item in items {
                        self.save(item)?;
                    }
                    self.write(&[op::FROZENSET]);
                } else {
                    let reduce = Temp::Tuple(vec![Temp::List(items)]);
                    self.save_reduce(Temp::Global("builtins", "frozenset"), reduce)?;
                }
                self.memo_put(None);
                self.depth -= 1;
            }
            Value::ByteArray(b) => {
                if self.proto >= 5 {
                    let mut header = [op::BYTEARRAY8; 9];
                    header[1..].copy_from_slice(&(b.len() as u64).to_le_bytes());
                    self.write_bytes(&header, b);
                } else {
                    let args = if b.is_empty() {
                        Temp::Tuple(Vec::new())
                    } else {
                        Temp::Tuple(vec![Temp::Bytes(b)])
                    };
                    self.save_reduce(Temp::Global("builtins", "bytearray"), args)?;
                }
                self.memo_put(None);
            }
            Value::Global { .. } if is_ellipsis(v) => {
                self.save_temp(Temp::Global("builtins", "Ellipsis"))?;
            }
            Value::Call { .. } if v.as_complex().is_some() => {
                let (re, im) = v.as_complex().unwrap_or_default();
                let key = MemoKey::Complex(re.to_bits(), im.to_bits());
                if !self.memo_get(&key) {
                    let args = Temp::Tuple(vec![Temp::Float(re), Temp::Float(im)]);
                    self.save_reduce(Temp::Global("builtins", "complex"), args)?;
                    self.memo_put(Some(key));
                }
            }
            Value::Global { module, name } => {
                return fail(format!(
                    "cannot pickle the global {module}.{name}: sockkit only writes plain values"
                ))
            }
            Value::Call { .. } => {
                return fail("cannot pickle a call: sockkit only writes plain values")
            }
        }
        Ok(())
    }

    fn save_float(&mut self, x: f64) {
        if self.proto >= 1 {
            let mut b = [op::BINFLOAT; 9];
            b[1..].copy_from_slice(&x.to_be_bytes());
            self.write(&b);
        } else {
            self.write_text(op::FLOAT, &float_repr(x));
        }
    }

    fn enter(&mut self) -> Result<(), EncodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return fail(format!("value nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn save_int(&mut self, i: i64) {
        match i32::try_from(i) {
            Ok(v) if self.proto >= 1 => {
                if (0..=0xff).contains(&v) {
                    self.write(&[op::BININT1, v as u8]);
                } else if (0..=0xffff).contains(&v) {
                    let b = (v as u16).to_le_bytes();
                    self.write(&[op::BININT2, b[0], b[1]]);
                } else {
                    let mut b = [op::BININT; 5];
                    b[1..].copy_from_slice(&v.to_le_bytes());
                    self.write(&b);
                }
            }
            Ok(v) => self.write_text(op::INT, &v.to_string()),
            Err(_) => self.save_long(&BigInt::from(i)),
        }
    }

    fn save_long(&mut self, n: &BigInt) {
        if self.proto >= 2 {
            let bytes = if n == &BigInt::default() {
                Vec::new()
            } else {
                n.to_signed_bytes_le()
            };
            if bytes.len() < 256 {
                self.write(&[op::LONG1, bytes.len() as u8]);
            } else {
                let mut h = [op::LONG4; 5];
                h[1..].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
                self.write(&h);
            }
            self.write(&bytes);
        } else {
            self.write_text(op::LONG, &format!("{n}L"));
        }
    }

    /// A str, from its bytes as [`super::PyStr`] holds them (lone surrogates encoded on their own,
    /// written as they are, as CPython's 'surrogatepass' writes them).
    fn save_str(&mut self, data: &[u8]) -> Result<(), EncodeError> {
        if self.proto >= 1 {
            let n = data.len();
            if n <= 0xff && self.proto >= 4 {
                self.write_bytes(&[op::SHORT_BINUNICODE, n as u8], data);
            } else if let Ok(n32) = u32::try_from(n) {
                let mut h = [op::BINUNICODE; 5];
                h[1..].copy_from_slice(&n32.to_le_bytes());
                self.write_bytes(&h, data);
            } else if self.proto >= 4 {
                let mut h = [op::BINUNICODE8; 9];
                h[1..].copy_from_slice(&(n as u64).to_le_bytes());
                self.write_bytes(&h, data);
            } else {
                return fail("a str longer than 4 GiB needs pickle protocol 4 or higher");
            }
        } else {
            let mut line = Vec::with_capacity(data.len() + 2);
            line.push(op::UNICODE);
            raw_unicode_escape(data, &mut line);
            line.push(b'\n');
            self.write(&line);
        }
        Ok(())
    }

    /// A bytes object, then its memo slot (`key` is `None` for a fresh temporary).
    fn save_bytes(&mut self, b: &'a [u8], key: Option<MemoKey<'a>>) -> Result<(), EncodeError> {
        if self.proto >= 3 {
            let n = b.len();
            if n <= 0xff {
                self.write_bytes(&[op::SHORT_BINBYTES, n as u8], b);
            } else if let Ok(n32) = u32::try_from(n) {
                let mut h = [op::BINBYTES; 5];
                h[1..].copy_from_slice(&n32.to_le_bytes());
                self.write_bytes(&h, b);
            } else if self.proto >= 4 {
                let mut h = [op::BINBYTES8; 9];
                h[1..].copy_from_slice(&(n as u64).to_le_bytes());
                self.write_bytes(&h, b);
            } else {
                return fail("bytes longer than 4 GiB need pickle protocol 4 or higher");
            }
        } else if b.is_empty() {
            self.save_reduce(Temp::Global("builtins", "bytes"), Temp::Tuple(Vec::new()))?;
        } else {
            let text: String = b.iter().map(|&c| char::from(c)).collect();
            let args = Temp::Tuple(vec![Temp::Str(text), Temp::Interned("latin1")]);
            self.save_reduce(Temp::Global("_codecs", "encode"), args)?;
        }
        self.memo_put(key);
        Ok(())
    }

    /// `callable args REDUCE`; the caller writes the memo slot of the result.
    fn save_reduce(&mut self, callable: Temp<'a>, args: Temp<'a>) -> Result<(), EncodeError> {
        self.save_temp(callable)?;
        self.save_temp(args)?;
        self.write(&[op::REDUCE]);
        Ok(())
    }

    fn save_temp(&mut self, t: Temp<'a>) -> Result<(), EncodeError> {
        self.opcode_boundary();
        match t {
            Temp::Global(module, name) => {
                let key = MemoKey::Global(module, name);
                if self.memo_get(&key) {
                    return Ok(());
                }
                if self.proto >= 4 {
                    // The module name is interned (shared); the class name is a fresh str.
                    self.save_temp(Temp::Interned(module))?;
                    self.save_temp(Temp::Str(name.to_string()))?;
                    self.write(&[op::STACK_GLOBAL]);
                } else {
                    let module = if self.proto < 3 && module == "builtins" {
                        "__builtin__"
                    } else {
                        module
                    };
                    self.write_text(op::GLOBAL, &format!("{module}\n{name}"));
                }
                self.memo_put(Some(key));
            }
            Temp::Interned(s) => {
                let key = MemoKey::Str(s.as_bytes());
                if !self.memo_get(&key) {
                    self.save_str(s.as_bytes())?;
                    self.memo_put(Some(key));
                }
            }
            Temp::Str(s) => {
                let mut chars = s.chars();
                let key = match (chars.next(), chars.next()) {
                    (Some(c), None) if (c as u32) < 256 => Some(MemoKey::Latin1Char(c)),
                    _ => None,
                };
                if let Some(k) = &key {
                    if self.memo_get(k) {
                        return Ok(());
                    }
                }
                self.save_str(s.as_bytes())?;
                self.memo_put(key);
            }
            Temp::Bytes(b) => self.save_bytes(b, None)?,
            Temp::List(items) => self.save_list(items)?,
            Temp::Float(x) => self.save_float(x),
            Temp::Tuple(items) => {
                let n = items.len();
                if n == 0 {
                    if self.proto >= 1 {
                        self.write(&[op::EMPTY_TUPLE]);
                    } else {
                        self.write(&[op::MARK, op::TUPLE]);
                    }
                    return Ok(());
                }
                let short = n <= 3 && self.proto >= 2;
                if !short {
                    self.write(&[op::MARK]);
                }
                for item in items {
                    self.save_temp(item)?;
                }
                if short {
                    self.write(&[[op::TUPLE1, op::TUPLE2, op::TUPLE3][n - 1]]);
                } else {
                    self.write(&[op::TUPLE]);
                }
                self.memo_put(None);
            }
        }
        Ok(())
    }

    fn save_list(&mut self, items: &'a [Value]) -> Result<(), EncodeError> {
        if self.proto >= 1 {
            self.write(&[op::EMPTY_LIST]);
        } else {
            self.write(&[op::MARK, op::LIST]);
        }
        self.memo_put(None);
        if items.is_empty() {
            return Ok(());
        }
        if self.proto == 0 {
            for item in items {
                self.save(item)?;
                self.write(&[op::APPEND]);
            }
        } else if items.len() == 1 {
            self.save(&items[0])?;
            self.write(&[op::APPEND]);
        } else {
            // batch_list_exact: no empty trailing batch.
            for chunk in items.chunks(BATCHSIZE) {
                self.write(&[op::MARK]);
                for item in chunk {
                    self.save(item)?;
                }
                self.write(&[op::APPENDS]);
            }
        }
        Ok(())
    }

    fn save_dict(&mut self, items: &'a [(Value, Value)]) -> Result<(), EncodeError> {
        if self.proto >= 1 {
            self.write(&[op::EMPTY_DICT]);
        } else {
            self.write(&[op::MARK, op::DICT]);
        }
        self.memo_put(None);
        if items.is_empty() {
            return Ok(());
        }
        if self.proto == 0 || items.len() == 1 {
            for (k, v) in items {
                self.save(k)?;
                self.save(v)?;
                self.write(&[op::SETITEM]);
            }
            return Ok(());
        }
        // batch_dict_exact: a do-while, so an exact multiple of 1000 ends with an empty batch.
        let mut rest = items;
        loop {
            let n = rest.len().min(BATCHSIZE);
            self.write(&[op::MARK]);
            for (k, v) in &rest[..n] {
                self.save(k)?;
                self.save(v)?;
            }
            self.write(&[op::SETITEMS]);
            rest = &rest[n..];
            if n < BATCHSIZE {
                return Ok(());
            }
        }
    }

    /// MARK items OP in batches of 1000, as save_set does (a do-while, like dicts).
    fn batches(&mut self, items: &'a [Value], opcode: u8) -> Result<(), EncodeError> {
        let mut rest = items;
        loop {
            let n = rest.len().min(BATCHSIZE);
            self.write(&[op::MARK]);
            for item in &rest[..n] {
                self.save(item)?;
            }
            self.write(&[opcode]);
            rest = &rest[n..];
            if n < BATCHSIZE {
                return Ok(());
            }
        }
    }
}

/// Protocol 0's text form of a str: latin-1 bytes, with `\uXXXX`/`\UXXXXXXXX` for the rest and for
/// backslash, NUL, CR, LF and ^Z (as `_pickle.c`'s `raw_unicode_escape`).
fn raw_unicode_escape(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some((c, n)) = decode_char(s, i) {
        i += n;
        if c >= 0x10000 {
            out.extend_from_slice(format!("\\U{c:08x}").as_bytes());
        } else if c >= 256 || matches!(c, 0x5c | 0 | 0x0a | 0x0d | 0x1a) {
            out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
        } else {
            out.push(c as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::literal::parse;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// `pickle.dumps(eval(text), protocol)` from python3 for each case, in one python3 run.
    fn python_dumps(cases: &[(String, u8)]) -> Vec<Vec<u8>> {
        let script = r#"
import sys, pickle, binascii
for line in sys.stdin.buffer.read().decode().split('\n'):
    if not line: continue
    p, text = line.split(' ', 1)
    text = binascii.unhexlify(text).decode()
    print(pickle.dumps(eval(text), int(p)).hex())
"#;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed by the encoder tests");
        let mut input = String::new();
        for (text, p) in cases {
            input.push_str(&format!("{p} {}\n", hex::encode(text)));
        }
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success(), "python3 failed");
        let text = String::from_utf8(out.stdout).unwrap();
        let result: Vec<Vec<u8>> = text.lines().map(|l| hex::decode(l).unwrap()).collect();
        assert_eq!(result.len(), cases.len());
        result
    }

    /// Checks our bytes against CPython's for every literal at every protocol.
    fn check_all(literals: &[&str]) {
        let cases: Vec<(String, u8)> = literals
            .iter()
            .flat_map(|t| (0..=5).map(move |p| (t.to_string(), p)))
            .collect();
        let expected = python_dumps(&cases);
        let mut failures = Vec::new();
        for ((text, p), want) in cases.iter().zip(expected) {
            let value = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let got = encode(&value, *p).unwrap();
            if got != want {
                failures.push(format!(
                    "{text} at protocol {p}:\n  python {}\n  ours   {}",
                    hex::encode(&want),
                    hex::encode(&got)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn lab_messages_match_protocol_md() {
        let hello = parse("{'clientid': 60644}").unwrap();
        assert_eq!(
            hex::encode(encode(&hello, 4).unwrap()),
            "80049512000000000000007d948c08636c69656e746964944de4ec732e"
        );
        assert_eq!(encode(&Value::Int(1), 4).unwrap(), [0x80, 4, 0x4b, 1, 0x2e]);
        let alice =
            parse("{'student_name': 'Alice Brown', 'github_username': 'abrown', 'sid': 123456789}")
                .unwrap();
        assert_eq!(encode(&alice, 4).unwrap().len(), 83);
        check_all(&[
            "{'clientid': 60644}",
            "1",
            "{'student_name': 'Alice Brown', 'github_username': 'abrown', 'sid': 123456789}",
            "{'name': 'Alice', 'email': 'a@example.com'}",
        ]);
    }

    #[test]
    fn scalars_match_cpython() {
        check_all(&[
            "None",
            "True",
            "False",
            "0",
            "255",
            "256",
            "65535",
            "65536",
            "-1",
            "-256",
            "2147483647",
            "2147483648",
            "-2147483648",
            "-2147483649",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "-170141183460469231731687303715884105728",
            "0x7f",
            "0x80",
            "1.5",
            "-0.0",
            "0.0",
            "1e16",
            "1e15",
            "1.5e-07",
            "0.0001",
            "1e-05",
            "1e300",
            "123456789012345678.0",
            "0.1",
            "1e400",
            "-1e400",
            "float('nan')",
        ]);
        // Very big ints: LONG1 up to 255 bytes, LONG4 above.
        let big = format!("0x{}", "f".repeat(600));
        let neg = format!("-0x8{}", "0".repeat(509));
        check_all(&[big.as_str(), neg.as_str(), "-128", "-129", "-32768"]);
    }

    #[test]
    fn strings_and_bytes_match_cpython() {
        check_all(&[
            "''",
            "'a'",
            "'héllo'",
            "'\\u1234\\U0001f600'",
            "'a\\\\b\\n\\r\\x1a\\x00'",
            "b''",
            "b'a'",
            "b'\\x00\\xff\\x80abc'",
            "b'latin1'",
            "[b'a', 'latin1', b'b']",
            "['latin1', b'a']",
            "['_codecs', 'encode', b'a', b'a']",
            "bytearray(b'ab')",
            "bytearray()",
            "[b'\\xe9', b'\\xe9x', bytearray(b'\\xe9')]",
            "[bytearray(b'a'), bytearray(b'a'), b'a']",
            "[bytearray(b'ab'), bytearray(b'ab')]",
            "['builtins', bytearray(b'a'), 'bytearray', b'a']",
            // A one-character str below U+0100 is the str a reduce decodes from one byte.
            "['\\n', bytearray(b'\\n')]",
            "[bytearray(b'\\xe9'), '\\xe9', b'\\xe9', 'é']",
            "[('\\\\', 1), b'\\\\', ' ', b' ', '\\x00', b'\\x00']",
            "[{():((), frozenset(), u'\\n')}, [bytearray(b'\\x0a')]]",
            "['b', b'b', '_', b'_']",
        ]);
        let long = format!("'{}'", "y".repeat(300));
        let longb = format!("b'{}'", "z".repeat(300));
        check_all(&[long.as_str(), longb.as_str()]);
    }

    #[test]
    fn containers_and_sharing_match_cpython() {
        check_all(&[
            "[]",
            "()",
            "{}",
            "[1]",
            "[1, 2]",
            "(1,)",
            "(1, 2)",
            "(1, 2, 3)",
            "(1, 2, 3, 4)",
            "{'a': 1}",
            "{'a': 1, 'b': [1, 2, {'c': (3,)}]}",
            "[[[]]]",
            "((((),),),)",
            "['a', 'a', 'b', 'a']",
            "[(1, 2), (1, 2), (1, 'a'), ('a', 1)]",
            "[(1, True), (1, 1), (1.0,), (1,)]",
            "[([1],), ([1],)]",
            "[('a',), [('a',)], {'a': ('a',)}]",
            "{'k': 'k'}",
            "[b'x', b'x', 'x']",
            "[(0.0,), (-0.0,), (0.0,)]",
            "({'a': 1},)",
            "[{1}, {2, 3}]",
            "set()",
            "frozenset()",
            "frozenset({1, 2})",
            "[frozenset({'a'}), 'a']",
            "{(1, 2): (1, 2)}",
            "[None, None, True, True]",
        ]);
    }

    #[test]
    fn batches_and_frames_match_cpython() {
        let list: Vec<String> = (0..2500).map(|i| i.to_string()).collect();
        let list = format!("[{}]", list.join(", "));
        let list1000: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let list1000 = format!("[{}]", list1000.join(", "));
        let dict1000: Vec<String> = (0..1000).map(|i| format!("{i}: {i}")).collect();
        let dict1000 = format!("{{{}}}", dict1000.join(", "));
        let dict2001: Vec<String> = (0..2001).map(|i| format!("'k{i}': {i}")).collect();
        let dict2001 = format!("{{{}}}", dict2001.join(", "));
        let set1000: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let set1000 = format!("{{{}}}", set1000.join(", "));
        // Frames: big payloads go outside frames; big containers get new frames every 64 KiB.
        let big_str = format!("'{}'", "s".repeat(70_000));
        let around = format!("['a', {big_str}, 'b', b'{}']", "q".repeat(65_536));
        let many: Vec<String> = (0..30_000).map(|i| format!("'item{i}'")).collect();
        let many = format!("[{}]", many.join(", "));
        check_all(&[
            list.as_str(),
            list1000.as_str(),
            dict1000.as_str(),
            dict2001.as_str(),
            set1000.as_str(),
            big_str.as_str(),
            around.as_str(),
            many.as_str(),
        ]);
    }

    #[test]
    fn globals_and_calls_are_refused() {
        let g = Value::Global {
            module: "os".into(),
            name: "system".into(),
        };
        assert!(encode(&g, 4).unwrap_err().message.contains("os.system"));
        let c = Value::Call {
            callable: Box::new(g),
            args: Box::new(Value::Tuple(vec![])),
        };
        assert!(encode(&Value::List(vec![c]), 2).is_err());
        assert!(encode(&Value::None, 6).is_err());
    }

    #[test]
    fn deep_values_are_refused_not_overflowed() {
        let mut v = Value::None;
        for _ in 0..(MAX_DEPTH + 5) {
            v = Value::List(vec![v]);
        }
        let r = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || {
                let r = encode(&v, 4).map(|_| ());
                // Drop iteratively-ish: unwrap the nesting by hand.
                let mut cur = v;
                while let Value::List(mut items) = cur {
                    cur = items.pop().unwrap_or(Value::None);
                }
                r
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(r.unwrap_err().message.contains("deeper"));
    }
}
