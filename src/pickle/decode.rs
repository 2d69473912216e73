//! Our own safe pickle decoder (protocols 0 to 5): it runs the unpickling machine over one complete
//! message into a flat arena of objects, and never imports or calls anything.
//!
//! Objects live in a `Vec` and refer to each other by index, so shared sub-objects (`[d, d]`),
//! objects filled after they were memoized (a dict stored empty, then SETITEMS) and recursive
//! structures (`l.append(l)`) come out exactly as Python builds them, and dropping a deep structure
//! is a flat free, never a recursion. The memory used is linear in the message size.
//!
//! Globals (GLOBAL, STACK_GLOBAL, INST) become [`Obj::Global`] text; calls (REDUCE, NEWOBJ,
//! NEWOBJ_EX, OBJ, INST) become [`Obj::Object`] records of what would have been called, with BUILD
//! state and appended items attached. A few harmless calls that Python itself uses to pickle built-in
//! types are evaluated, because that is the only way those types travel at protocols 0 to 3:
//! `set(list)`, `frozenset(list)`, `bytearray(bytes)`, `bytes()`, `complex(re, im)` from `builtins`
//! (or `__builtin__`), and `_codecs.encode(str, 'latin1')` (how protocols 0 to 2 carry bytes). Every
//! other global is reported in [`Decoded::warnings`].

use std::collections::HashMap;

use num_bigint::BigInt;

use super::scan::{op, op_name, Limits};
use super::Value;

/// Index of an object in a [`Decoded`] arena.
pub(crate) type Id = u32;

/// A byte range in [`Decoded`]'s data buffer (start, end).
pub(crate) type Span = (u32, u32);

/// One decoded Python object.
#[derive(Debug, Clone)]
pub(crate) enum Obj {
    None,
    Bool(bool),
    Int(i64),
    Big(Box<BigInt>),
    Float(f64),
    Complex(f64, f64),
    /// UTF-8 text, except that lone surrogates (which Python strings may hold) are encoded as
    /// 3-byte sequences too ("WTF-8").
    Str(Span),
    Bytes(Span),
    ByteArray(Span),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    /// Keys and values, interleaved, in insertion order.
    Dict(Vec<Id>),
    Set(Vec<Id>),
    FrozenSet(Vec<Id>),
    Global {
        module: Span,
        name: Span,
        /// Used only in one of the harmless calls above: no warning.
        harmless: bool,
    },
    Object(Box<Object>),
}

/// How a pickle asked for an object to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MakeKind {
    /// REDUCE, INST, OBJ: `callable(*args)`.
    Call,
    /// NEWOBJ, NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`.
    New,
}

/// A call the pickle asks for, recorded and never made.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub kind: MakeKind,
    pub callable: Id,
    /// Positional arguments (normally a tuple).
    pub args: Id,
    pub kwargs: Option<Id>,
    /// BUILD's argument (`__setstate__` or `__dict__` update).
    pub state: Option<Id>,
    /// Items appended (APPEND, APPENDS, ADDITEMS).
    pub items: Vec<Id>,
    /// Items set (SETITEM, SETITEMS), keys and values interleaved.
    pub dict_items: Vec<Id>,
}

/// One decoded pickle: an arena of objects and the root. Cheap to drop however deep it is.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    pub(crate) objs: Vec<Obj>,
    pub(crate) data: Vec<u8>,
    pub(crate) root: Id,
    /// The same object is reachable twice (memo GET or DUP used), so repr must watch for cycles.
    pub(crate) shared: bool,
    pub(crate) warnings: Vec<String>,
    pub(crate) limits: Limits,
    /// Size of the pickle, in bytes.
    pub(crate) len: usize,
}

impl Decoded {
    /// One line per global the pickle names (other than the harmless built-ins), saying it was
    /// shown and not imported or called.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The size of the pickle this came from, in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the pickle was empty (never: a pickle holds at least STOP).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn bytes(&self, span: Span) -> &[u8] {
        &self.data[span.0 as usize..span.1 as usize]
    }

    /// The value as a tree, for typed consumers. Shared sub-objects are copied; a recursive
    /// structure, nesting deeper than the depth limit or more nodes than the node limit is an error.
    pub fn to_value(&self) -> Result<Value, String> {
        let mut conv = ToValue {
            d: self,
            nodes: 0,
            active: vec![false; if self.shared { self.objs.len() } else { 0 }],
        };
        conv.value(self.root, 0)
    }
}

struct ToValue<'a> {
    d: &'a Decoded,
    nodes: usize,
    active: Vec<bool>,
}

impl ToValue<'_> {
    fn str(&self, span: Span) -> String {
        String::from_utf8_lossy(self.d.bytes(span)).into_owned()
    }

    fn list(&mut self, ids: &[Id], depth: usize) -> Result<Vec<Value>, String> {
        ids.iter().map(|&i| self.value(i, depth + 1)).collect()
    }

    fn value(&mut self, id: Id, depth: usize) -> Result<Value, String> {
        let limits = &self.d.limits;
        if depth > limits.max_depth {
            return Err(format!("nested deeper than {} levels", limits.max_depth));
        }
        self.nodes += 1;
        if self.nodes > limits.max_nodes {
            return Err(format!(
                "more than {} objects once shared ones are copied",
                limits.max_nodes
            ));
        }
        let obj = &self.d.objs[id as usize];
        let is_container = matches!(
            obj,
            Obj::List(_)
                | Obj::Tuple(_)
                | Obj::Dict(_)
                | Obj::Set(_)
                | Obj::FrozenSet(_)
                | Obj::Object(_)
        );
        if is_container && !self.active.is_empty() {
            if self.active[id as usize] {
                return Err("recursive structure (an object contains itself)".into());
            }
            self.active[id as usize] = true;
        }
        let v = match obj {
            Obj::None => Value::None,
            Obj::Bool(b) => Value::Bool(*b),
            Obj::Int(i) => Value::Int(*i),
            Obj::Big(b) => Value::BigInt((**b).clone()),
            Obj::Float(f) => Value::Float(*f),
            Obj::Complex(re, im) => Value::Call {
                callable: Box::new(Value::Global {
                    module: "builtins".into(),
                    name: "complex".into(),
                }),
                args: Box::new(Value::Tuple(vec![Value::Float(*re), Value::Float(*im)])),
            },
            Obj::Str(s) => Value::Str(self.str(*s)),
            Obj::Bytes(s) => Value::Bytes(self.d.bytes(*s).to_vec()),
            Obj::ByteArray(s) => Value::ByteArray(self.d.bytes(*s).to_vec()),
            Obj::List(items) => Value::List(self.list(items, depth)?),
            Obj::Tuple(items) => Value::Tuple(self.list(items, depth)?),
            Obj::Set(items) => Value::Set(self.list(items, depth)?),
            Obj::FrozenSet(items) => Value::FrozenSet(self.list(items, depth)?),
            Obj::Dict(items) => {
                let flat = self.list(items, depth)?;
                let mut pairs = Vec::with_capacity(flat.len() / 2);
                let mut it = flat.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Value::Dict(pairs)
            }
            Obj::Global { module, name, .. } => Value::Global {
                module: self.str(*module),
                name: self.str(*name),
            },
            Obj::Object(o) => Value::Call {
                callable: Box::new(self.value(o.callable, depth + 1)?),
                args: Box::new(self.value(o.args, depth + 1)?),
            },
        };
        if is_container && !self.active.is_empty() {
            self.active[id as usize] = false;
        }
        Ok(v)
    }
}

/// The reusable machinery of decoding: stack, marks and memo survive between messages so decoding
/// many small pickles allocates little.
#[derive(Debug, Default)]
pub struct Decoder {
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: Vec<Id>,
    memo_big: HashMap<u64, Id>,
    memo_len: usize,
}

const NO_ID: Id = Id::MAX;

type R<T> = Result<T, String>;

/// Reads `n` little-endian bytes at `p` as an unsigned number.
fn le(msg: &[u8], p: usize, n: usize) -> R<u64> {
    let b = msg.get(p..p + n).ok_or("pickle ends inside an opcode")?;
    let mut a = [0u8; 8];
    a[..n].copy_from_slice(b);
    Ok(u64::from_le_bytes(a))
}

fn line(msg: &[u8], p: usize) -> R<(&[u8], usize)> {
    let rest = msg.get(p..).ok_or("pickle ends inside an opcode")?;
    let i = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("pickle ends inside a text argument")?;
    let mut l = &rest[..i];
    if l.last() == Some(&b'\r') {
        l = &l[..l.len() - 1];
    }
    Ok((l, p + i + 1))
}

fn text(l: &[u8]) -> R<&str> {
    std::str::from_utf8(l).map_err(|_| "text argument is not UTF-8".to_string())
}

/// Checks `b` is UTF-8, allowing encoded surrogates as Python's "surrogatepass" does.
fn check_wtf8(b: &[u8]) -> R<()> {
    if std::str::from_utf8(b).is_ok() {
        return Ok(());
    }
    let mut i = 0;
    while i < b.len() {
        match decode_char(b, i) {
            Some((_, n)) => i += n,
            None => return Err("string is not valid UTF-8".into()),
        }
    }
    Ok(())
}

/// Decodes one code point of WTF-8 at `i`: (code point, length).
pub(crate) fn decode_char(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let c0 = *b.get(i)? as u32;
    let cont = |k: usize| -> Option<u32> {
        let c = *b.get(i + k)? as u32;
        (c & 0xc0 == 0x80).then_some(c & 0x3f)
    };
    match c0 {
        0..=0x7f => Some((c0, 1)),
        0xc2..=0xdf => Some(((c0 & 0x1f) << 6 | cont(1)?, 2)),
        0xe0..=0xef => {
            let c = (c0 & 0x0f) << 12 | cont(1)? << 6 | cont(2)?;
            (c >= 0x800).then_some((c, 3))
        }
        0xf0..=0xf4 => {
            let c = (c0 & 0x07) << 18 | cont(1)? << 12 | cont(2)? << 6 | cont(3)?;
            ((0x10000..=0x10ffff).contains(&c)).then_some((c, 4))
        }
        _ => None,
    }
}

/// Appends code point `c` as WTF-8.
fn push_char(out: &mut Vec<u8>, c: u32) {
    if let Some(ch) = char::from_u32(c) {
        let mut b = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
    } else {
        // A surrogate: the 3-byte form UTF-8 would use.
        out.extend_from_slice(&[
            0xe0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3f) as u8,
            0x80 | (c & 0x3f) as u8,
        ]);
    }
}

fn parse_int(l: &[u8]) -> R<Obj> {
    let s = text(l)?.trim();
    let s = s.strip_suffix('L').unwrap_or(s);
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Obj::Int(i));
    }
    s.parse::<BigInt>()
        .map(|b| Obj::Big(Box::new(b)))
        .map_err(|_| format!("bad integer {s:?}"))
}

fn int_from_le(b: &[u8]) -> Obj {
    if b.is_empty() {
        return Obj::Int(0);
    }
    if b.len() <= 8 {
        let fill = if b[b.len() - 1] & 0x80 != 0 { 0xff } else { 0 };
        let mut a = [fill; 8];
        a[..b.len()].copy_from_slice(b);
        return Obj::Int(i64::from_le_bytes(a));
    }
    let big = BigInt::from_signed_bytes_le(b);
    match i64::try_from(&big) {
        Ok(i) => Obj::Int(i),
        Err(_) => Obj::Big(Box::new(big)),
    }
}

/// Python's `codecs.escape_decode` of a protocol-0 STRING body.
fn escape_decode(s: &[u8]) -> R<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err("STRING ends with a backslash".into());
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let h = s
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("bad \\x escape in STRING")?;
                out.push(h);
                i += 2;
            }
            _ => {
                out.push(b'\\');
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// Python's `raw-unicode-escape` decoding (protocol-0 UNICODE), appended to `out` as WTF-8.
fn raw_unicode_escape(s: &[u8], out: &mut Vec<u8>) -> R<()> {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            push_char(out, c as u32);
            i += 1;
            continue;
        }
        // A run of backslashes: an escape only follows an odd count.
        let run = s[i..].iter().take_while(|&&b| b == b'\\').count();
        let next = s.get(i + run).copied();
        let escape = run % 2 == 1 && matches!(next, Some(b'u') | Some(b'U'));
        let literal = if escape { run - 1 } else { run };
        out.extend(std::iter::repeat_n(b'\\', literal));
        i += run;
        if escape {
            let n = if next == Some(b'u') { 4 } else { 8 };
            let code = s
                .get(i + 1..i + 1 + n)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .filter(|&c| c <= 0x10ffff)
                .ok_or("bad \\u escape in UNICODE")?;
            push_char(out, code);
            i += 1 + n;
        }
    }
    Ok(())
}

fn is_builtins(m: &[u8]) -> bool {
    m == b"builtins" || m == b"__builtin__"
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Decodes one complete pickle (as the scanner delimited it) into `out`, replacing its contents.
    pub fn decode(&mut self, msg: &[u8], limits: &Limits, out: &mut Decoded) -> R<()> {
        out.objs.clear();
        out.data.clear();
        out.warnings.clear();
        out.shared = false;
        out.root = 0;
        out.limits = *limits;
        out.len = msg.len();
        self.stack.clear();
        self.marks.clear();
        self.memo.clear();
        self.memo_big.clear();
        self.memo_len = 0;
        let r = self.run(msg, out);
        if r.is_ok() {
            self.collect_warnings(out);
        }
        r
    }

    fn collect_warnings(&self, out: &mut Decoded) {
        let mut seen: Vec<(Span, Span)> = Vec::new();
        for o in &out.objs {
            if let Obj::Global {
                module,
                name,
                harmless: false,
            } = o
            {
                let key = (*module, *name);
                let dup = seen.iter().any(|(m, n)| {
                    out.bytes(*m) == out.bytes(key.0) && out.bytes(*n) == out.bytes(key.1)
                });
                if !dup {
                    seen.push(key);
                }
            }
        }
        for (m, n) in seen {
            let w = format!(
                "pickle names {}.{}: shown as text, nothing imported or called",
                String::from_utf8_lossy(out.bytes(m)),
                String::from_utf8_lossy(out.bytes(n))
            );
            out.warnings.push(w);
        }
    }

    fn push(&mut self, out: &mut Decoded, obj: Obj) -> R<()> {
        let id = Id::try_from(out.objs.len()).map_err(|_| "too many objects")?;
        out.objs.push(obj);
        self.stack.push(id);
        Ok(())
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, code: u8) -> R<Id> {
        if self.stack.len() <= self.fence() {
            return Err(format!("{} on a stack with too few items", op_name(code)));
        }
        Ok(self.stack.pop().unwrap_or(NO_ID))
    }

    fn top(&self, code: u8) -> R<Id> {
        if self.stack.len() <= self.fence() {
            return Err(format!("{} on a stack with too few items", op_name(code)));
        }
        Ok(*self.stack.last().unwrap_or(&NO_ID))
    }

    fn pop_mark(&mut self, code: u8) -> R<Vec<Id>> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| format!("{} without a MARK", op_name(code)))?;
        Ok(self.stack.split_off(m.min(self.stack.len())))
    }

    fn span(out: &Decoded, start: usize) -> R<Span> {
        let s = u32::try_from(start).map_err(|_| "message too large")?;
        let e = u32::try_from(out.data.len()).map_err(|_| "message too large")?;
        Ok((s, e))
    }

    fn add_data(out: &mut Decoded, b: &[u8]) -> R<Span> {
        let start = out.data.len();
        out.data.extend_from_slice(b);
        Self::span(out, start)
    }

    fn memo_put(&mut self, key: u64, id: Id) {
        let k = key as usize;
        if key < (1 << 20) && k <= self.memo.len() + 4096 {
            if k >= self.memo.len() {
                self.memo.resize(k + 1, NO_ID);
            }
            if self.memo[k] == NO_ID {
                self.memo_len += 1;
            }
            self.memo[k] = id;
        } else if self.memo_big.insert(key, id).is_none() {
            self.memo_len += 1;
        }
    }

    fn memo_get(&self, key: u64) -> R<Id> {
        let id = match self.memo.get(key as usize) {
            Some(&id) if id != NO_ID => id,
            _ => *self
                .memo_big
                .get(&key)
                .ok_or_else(|| format!("memo key {key} not found"))?,
        };
        Ok(id)
    }

    fn run(&mut self, msg: &[u8], out: &mut Decoded) -> R<()> {
        use op::*;
        let mut p = 0usize;
        loop {
            let code = *msg.get(p).ok_or("pickle ends without STOP")?;
            p += 1;
            match code {
                MARK => self.marks.push(self.stack.len()),
                STOP => {
                    out.root = self.pop(code)?;
                    return Ok(());
                }
                POP => {
                    if self.marks.last() == Some(&self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop(code)?;
                    }
                }
                POP_MARK => {
                    self.pop_mark(code)?;
                }
                DUP => {
                    let t = self.top(code)?;
                    out.shared = true;
                    self.stack.push(t);
                }
                FLOAT => {
                    let (l, np) = line(msg, p)?;
                    p = np;
                    let s = text(l)?.trim();
                    let f = s.parse::<f64>().map_err(|_| format!("bad float {s:?}"))?;
                    self.push(out, Obj::Float(f))?;
                }
                INT => {
                    let (l, np) = line(msg, p)?;
                    p = np;
                    let obj = match l {
                        b"00" => Obj::Bool(false),
                        b"01" => Obj::Bool(true),
                        _ => parse_int(l)?,
                    };
                    self.push(out, obj)?;
                }
                LONG => {
                    let (l, np) = line(msg, p)?;
                    p = np;
                    self.push(out, parse_int(l)?)?;
                }
                BININT => {
                    let v = le(msg, p, 4)? as u32 as i32;
                    p += 4;
                    self.push(out, Obj::Int(v as i64))?;
                }
                BININT1 => {
                    let v = le(msg, p, 1)?;
                    p += 1;
                    self.push(out, Obj::Int(v as i64))?;
                }
                BININT2 => {
                    let v = le(msg, p, 2)?;
                    p += 2;
                    self.push(out, Obj::Int(v as i64))?;
                }
                LONG1 | LONG4 => {
                    let w = if code == LONG1 { 1 } else { 4 };
                    let n = le(msg, p, w)? as usize;
                    p += w;
                    let b = msg
                        .get(p..p.saturating_add(n))
                        .ok_or("pickle ends inside LONG")?;
                    p += n;
                    self.push(out, int_from_le(b))?;
                }
                NONE => self.push(out, Obj::None)?,
                NEWTRUE => self.push(out, Obj::Bool(true))?,
                NEWFALSE => self.push(out, Obj::Bool(false))?,
                BINFLOAT => {
                    let b = msg.get(p..p + 8).ok_or("pickle ends inside BINFLOAT")?;
                    p += 8;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.push(out, Obj::Float(f64::from_be_bytes(a)))?;
                }
                STRING => {
                    let (l, np) = line(msg, p)?;
                    p = np;
                    let l = l.trim_ascii_end();
                    let body = match l {
                        [q @ (b'\'' | b'"'), body @ .., q2] if q == q2 => body,
                        _ => return Err("STRING argument is not quoted".into()),
                    };
                    let raw = escape_decode(body)?;
                    if !raw.is_ascii() {
                        return Err("STRING holds non-ASCII bytes (a Python 2 str)".into());
                    }
                    let s = Self::add_data(out, &raw)?;
                    self.push(out, Obj::Str(s))?;
                }
                BINSTRING | SHORT_BINSTRING => {
                    let w = if code == BINSTRING { 4 } else { 1 };
                    let n = le(msg, p, w)? as usize;
                    p += w;
                    let b = msg
                        .get(p..p.saturating_add(n))
                        .ok_or("pickle ends inside BINSTRING")?;
                    p += n;
                    if !b.is_ascii() {
                        return Err("BINSTRING holds non-ASCII bytes (a Python 2 str)".into());
                    }
                    let s = Self::add_data(out, b)?;
                    self.push(out, Obj::Str(s))?;
                }
                UNICODE => {
                    let (l, np) = line(msg, p)?;
                    p = np;
                    let start = out.data.len();
                    raw_unicode_escape(l, &mut out.data)?;
                    let s = Self::span(out, start)?;
                    self.push(out, Obj::Str(s))?;
                }
                BINUNICODE | SHORT_BINUNICODE | BINUNICODE8 => {
                    let w = match code {
                        SHORT_BINUNICODE => 1,
                        BINUNICODE => 4,
                        _ => 8,
                    };
                    let n = le(msg, p, w)? as usize;
                    p += w;
                    let b = msg
                        .get(p..p.saturating_add(n))
                        .ok_or("pickle ends inside BINUNICODE")?;
                    p += n;
                    check_wtf8(b)?;
                    let s = Self::add_data(out, b)?;
                    self.push(out, Obj::Str(s))?;
                }
                BINBYTES | SHORT_BINBYTES | BINBYTES8 | BYTEARRAY8 => {
                    let w = match code {
                        SHORT_BINBYTES => 1,
                        BINBYTES => 4,
                        _ => 8,
                    };
                    let n = le(msg, p, w)? as usize;
                    p += w;
                    let b = msg
                        .get(p..p.saturating_add(n))
                        .ok_or("pickle ends inside BINBYTES")?;
                    p += n;
                    let s = Self::add_data(out, b)?;
                    let obj = if code == BYTEARRAY8 {
                        Obj::ByteArray(s)
                    } else {
                        Obj::Bytes(s)
                    };
                    self.push(out, obj)?;
                }
                EMPTY_TUPLE => self.push(out, Obj::Tuple(Vec::new()))?,
                TUPLE1 | TUPLE2 | TUPLE3 => {
                    let n = (code - TUPLE1 + 1) as usize;
                    if self.stack.len() < self.fence() + n {
                        return Err(format!("{} on a stack with too few items", op_name(code)));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push(out, Obj::Tuple(items))?;
                }
                TUPLE => {
                    let items = self.pop_mark(code)?;
                    self.push(out, Obj::Tuple(items))?;
                }
                EMPTY_LIST => self.push(out, Obj::List(Vec::new()))?,
                LIST => {
                    let items = self.pop_mark(code)?;
                    self.push(out, Obj::List(items))?;
                }
                EMPTY_DICT => self.push(out, Obj::Dict(Vec::new()))?,
                DICT => {
                    let items = self.pop_mark(code)?;
                    if items.len() % 2 != 0 {
                        return Err("odd number of items for DICT".into());
                    }
                    self.push(out, Obj::Dict(items))?;
                }
                EMPTY_SET => self.push(out, Obj::Set(Vec::new()))?,
                FROZENSET => {
                    let items = self.pop_mark(code)?;
                    self.push(out, Obj::FrozenSet(items))?;
                }
                APPEND => {
                    let v = self.pop(code)?;
                    let t = self.top(code)?;
                    extend(out, t, &[v], code)?;
                }
                APPENDS | ADDITEMS => {
                    let items = self.pop_mark(code)?;
                    let t = self.top(code)?;
                    extend(out, t, &items, code)?;
                }
                SETITEM => {
                    let v = self.pop(code)?;
                    let k = self.pop(code)?;
                    let t = self.top(code)?;
                    extend(out, t, &[k, v], code)?;
                }
                SETITEMS => {
                    let items = self.pop_mark(code)?;
                    if items.len() % 2 != 0 {
                        return Err("odd number of items for SETITEMS".into());
                    }
                    let t = self.top(code)?;
                    extend(out, t, &items, code)?;
                }
                PUT => {
                    let (l, np) = line(msg, p)?;
                    p = np;
                    let key = text(l)?
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| "bad PUT key".to_string())?;
                    let t = self.top(code)?;
                    self.memo_put(key, t);
                }
                BINPUT | LONG_BINPUT => {
                    let w = if code == BINPUT { 1 } else { 4 };
                    let key = le(msg, p, w)?;
                    p += w;
                    let t = self.top(code)?;
                    self.memo_put(key, t);
                }
                MEMOIZE => {
                    let t = self.top(code)?;
                    self.memo_put(self.memo_len as u64, t);
                }
                GET => {
                    let (l, np) = line(msg, p)?;
                    p = np;
                    let key = text(l)?
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| "bad GET key".to_string())?;
                    let id = self.memo_get(key)?;
                    out.shared = true;
                    self.stack.push(id);
                }
                BINGET | LONG_BINGET => {
                    let w = if code == BINGET { 1 } else { 4 };
                    let key = le(msg, p, w)?;
                    p += w;
                    let id = self.memo_get(key)?;
                    out.shared = true;
                    self.stack.push(id);
                }
                GLOBAL | INST => {
                    let (m, np) = line(msg, p)?;
                    let (n, np) = line(msg, np)?;
                    p = np;
                    let module = Self::add_data(out, text(m)?.as_bytes())?;
                    let name = Self::add_data(out, text(n)?.as_bytes())?;
                    let g = Obj::Global {
                        module,
                        name,
                        harmless: false,
                    };
                    if code == GLOBAL {
                        self.push(out, g)?;
                    } else {
                        let args = self.pop_mark(code)?;
                        self.push(out, g)?;
                        let callable = self.pop(code)?;
                        self.push(out, Obj::Tuple(args))?;
                        let args = self.pop(code)?;
                        self.make(out, MakeKind::Call, callable, args, None)?;
                    }
                }
                STACK_GLOBAL => {
                    let n = self.pop(code)?;
                    let m = self.pop(code)?;
                    let (Obj::Str(module), Obj::Str(name)) =
                        (&out.objs[m as usize], &out.objs[n as usize])
                    else {
                        return Err("STACK_GLOBAL needs two strings".into());
                    };
                    let g = Obj::Global {
                        module: *module,
                        name: *name,
                        harmless: false,
                    };
                    self.push(out, g)?;
                }
                REDUCE => {
                    let args = self.pop(code)?;
                    let callable = self.pop(code)?;
                    self.make(out, MakeKind::Call, callable, args, None)?;
                }
                NEWOBJ => {
                    let args = self.pop(code)?;
                    let cls = self.pop(code)?;
                    self.make(out, MakeKind::New, cls, args, None)?;
                }
                NEWOBJ_EX => {
                    let kwargs = self.pop(code)?;
                    let args = self.pop(code)?;
                    let cls = self.pop(code)?;
                    self.make(out, MakeKind::New, cls, args, Some(kwargs))?;
                }
                OBJ => {
                    let mut items = self.pop_mark(code)?;
                    if items.is_empty() {
                        return Err("OBJ without a class".into());
                    }
                    let cls = items.remove(0);
                    self.push(out, Obj::Tuple(items))?;
                    let args = self.pop(code)?;
                    self.make(out, MakeKind::Call, cls, args, None)?;
                }
                BUILD => {
                    let state = self.pop(code)?;
                    let t = self.top(code)?;
                    match &mut out.objs[t as usize] {
                        Obj::Object(o) => o.state = Some(state),
                        _ => return Err("BUILD on a built-in value".into()),
                    }
                }
                PROTO => p += 1,
                FRAME => p += 8,
                READONLY_BUFFER => {
                    self.top(code)?;
                }
                NEXT_BUFFER => {
                    return Err("out-of-band buffer (protocol 5 NEXT_BUFFER) not supported".into())
                }
                PERSID | BINPERSID => return Err(
                    "persistent id (PERSID) not supported: it needs the sender's persistent_load"
                        .into(),
                ),
                EXT1 | EXT2 | EXT4 => {
                    return Err(
                        "extension code (EXT) not supported: it needs the copyreg registry".into(),
                    )
                }
                _ => return Err(format!("0x{code:02x} is not a pickle opcode")),
            }
        }
    }

    /// REDUCE, NEWOBJ and friends: records the call, or evaluates one of the harmless built-ins.
    fn make(
        &mut self,
        out: &mut Decoded,
        kind: MakeKind,
        callable: Id,
        args: Id,
        kwargs: Option<Id>,
    ) -> R<()> {
        if kind == MakeKind::Call {
            if let Some(obj) = harmless_call(out, callable, args)? {
                if let Obj::Global { harmless, .. } = &mut out.objs[callable as usize] {
                    *harmless = true;
                }
                return self.push(out, obj);
            }
        }
        let o = Object {
            kind,
            callable,
            args,
            kwargs,
            state: None,
            items: Vec::new(),
            dict_items: Vec::new(),
        };
        self.push(out, Obj::Object(Box::new(o)))
    }
}

/// Appends items to a list, set or dict (or records them on an object).
fn extend(out: &mut Decoded, target: Id, items: &[Id], code: u8) -> R<()> {
    use op::*;
    match (&mut out.objs[target as usize], code) {
        (Obj::List(v), APPEND | APPENDS) => v.extend_from_slice(items),
        (Obj::Set(v), ADDITEMS) => v.extend_from_slice(items),
        (Obj::Dict(v), SETITEM | SETITEMS) => v.extend_from_slice(items),
        (Obj::Object(o), SETITEM | SETITEMS) => o.dict_items.extend_from_slice(items),
        (Obj::Object(o), _) => o.items.extend_from_slice(items),
        _ => return Err(format!("{} on the wrong kind of object", op_name(code))),
    }
    Ok(())
}

/// Evaluates `callable(*args)` when it is one of the harmless built-ins Python uses to pickle
/// built-in types; `None` otherwise.
fn harmless_call(out: &mut Decoded, callable: Id, args: Id) -> R<Option<Obj>> {
    let Obj::Global { module, name, .. } = &out.objs[callable as usize] else {
        return Ok(None);
    };
    let Obj::Tuple(args) = &out.objs[args as usize] else {
        return Ok(None);
    };
    let (m, n) = (out.bytes(*module), out.bytes(*name));
    let arg = |i: usize| args.get(i).map(|&a| &out.objs[a as usize]);
    let items = |o: Option<&Obj>| -> Option<Vec<Id>> {
        match o? {
            Obj::List(v) | Obj::Tuple(v) | Obj::Set(v) | Obj::FrozenSet(v) => Some(v.clone()),
            _ => None,
        }
    };
    let num = |o: Option<&Obj>| -> Option<f64> {
        match o? {
            Obj::Float(f) => Some(*f),
            Obj::Int(i) => Some(*i as f64),
            Obj::Bool(b) => Some(*b as u8 as f64),
            _ => None,
        }
    };
    let obj = if is_builtins(m) {
        match (n, args.len()) {
            (b"set", 0) => Obj::Set(Vec::new()),
            (b"frozenset", 0) => Obj::FrozenSet(Vec::new()),
            (b"set", 1) => match items(arg(0)) {
                Some(v) => Obj::Set(v),
                None => return Ok(None),
            },
            (b"frozenset", 1) => match items(arg(0)) {
                Some(v) => Obj::FrozenSet(v),
                None => return Ok(None),
            },
            (b"bytes", 0) => Obj::Bytes((0, 0)),
            (b"bytearray", 0) => Obj::ByteArray((0, 0)),
            (b"bytearray", 1) => match arg(0) {
                Some(Obj::Bytes(s) | Obj::ByteArray(s)) => Obj::ByteArray(*s),
                _ => return Ok(None),
            },
            (b"complex", 1 | 2) => {
                let re = num(arg(0));
                let im = if args.len() == 2 {
                    num(arg(1))
                } else {
                    Some(0.0)
                };
                match (re, im) {
                    (Some(re), Some(im)) => Obj::Complex(re, im),
                    _ => return Ok(None),
                }
            }
            _ => return Ok(None),
        }
    } else if m == b"_codecs" && n == b"encode" && args.len() == 2 {
        let (Some(Obj::Str(s)), Some(Obj::Str(enc))) = (arg(0), arg(1)) else {
            return Ok(None);
        };
        if !matches!(
            out.bytes(*enc),
            b"latin1" | b"latin-1" | b"latin_1" | b"iso-8859-1"
        ) {
            return Ok(None);
        }
        let src = out.bytes(*s);
        let mut bytes = Vec::with_capacity(src.len());
        let mut i = 0;
        while i < src.len() {
            match decode_char(src, i) {
                Some((c, len)) if c < 256 => {
                    bytes.push(c as u8);
                    i += len;
                }
                _ => return Ok(None),
            }
        }
        Obj::Bytes(Decoder::add_data(out, &bytes)?)
    } else {
        return Ok(None);
    };
    Ok(Some(obj))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(p: &[u8]) -> R<Decoded> {
        let mut d = Decoded::default();
        Decoder::new().decode(p, &Limits::default(), &mut d)?;
        Ok(d)
    }

    #[test]
    fn shared_and_mutated_after_memoize() {
        // d = {'a': 1}; pickle.dumps([d, d], 4)
        let p =
            b"\x80\x04\x95\x0f\x00\x00\x00\x00\x00\x00\x00]\x94(}\x94\x8c\x01a\x94K\x01sh\x01e.";
        let d = dec(p).unwrap();
        let v = d.to_value().unwrap();
        let inner = Value::Dict(vec![(Value::Str("a".into()), Value::Int(1))]);
        assert_eq!(v, Value::List(vec![inner.clone(), inner]));
    }

    #[test]
    fn recursive_list_is_an_error_for_to_value() {
        // l = []; l.append(l); pickle.dumps(l, 2)
        let d = dec(b"\x80\x02]q\x00h\x00a.").unwrap();
        assert!(d.to_value().unwrap_err().contains("recursive"));
    }

    #[test]
    fn os_system_is_recorded_not_run() {
        let d = dec(b"\x80\x02cos\nsystem\nX\x07\x00\x00\x00echo hi\x85R.").unwrap();
        assert_eq!(d.warnings().len(), 1);
        assert!(d.warnings()[0].contains("os.system"));
    }

    #[test]
    fn protocol_0_bytes_and_set_are_evaluated() {
        let d = dec(b"c_codecs\nencode\np0\n(Vab\np1\nVlatin1\np2\ntp3\nRp4\n.").unwrap();
        assert_eq!(d.to_value().unwrap(), Value::Bytes(b"ab".to_vec()));
        assert!(d.warnings().is_empty());
        let d = dec(b"c__builtin__\nset\np0\n((lp1\nI1\naI2\natp2\nRp3\n.").unwrap();
        assert_eq!(
            d.to_value().unwrap(),
            Value::Set(vec![Value::Int(1), Value::Int(2)])
        );
    }

    #[test]
    fn raw_unicode_escape_decodes() {
        let mut out = Vec::new();
        raw_unicode_escape(b"a\\u000a\\u005c\\u20ac\\\\u", &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\n\\\u{20ac}\\\\u");
    }
}
