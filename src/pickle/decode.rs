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
//!
//! Once decoded, dicts and sets get Python's semantics ([`super::pyobj`]): keys and items equal
//! under Python's `==` are merged (`{1: 'a', True: 'b'}` is `{1: 'b'}`), an unhashable key makes the
//! message invalid as it makes `pickle.loads` raise TypeError, and sets of items with deterministic
//! hashes are put in CPython 3.11's iteration order.

use std::collections::HashMap;

use num_bigint::BigInt;

use super::compat_table::{IMPORT_MAPPING, NAME_MAPPING};
use super::literal::MAX_INT_DIGITS;
use super::pyobj::{set_order, Cx, Distinct, PyObj, View, DISTINCT_BYTES_PER_KEY};
use super::scan::{op, opcode_name, Limits};
use super::stdlib::{is_dict_like, is_known};
use super::{PyStr, Value};

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
    pub(crate) fn len(&self) -> usize {
        self.len
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
            Obj::Str(s) => Value::Str(PyStr::from_surrogatepass(self.d.bytes(*s).to_vec())),
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
#[derive(Debug)]
pub struct Decoder {
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: Vec<Id>,
    memo_big: HashMap<u64, Id>,
    memo_len: usize,
    /// Bytes of memory charged to the current message so far (text and bytes data aside, which
    /// are counted from the arena's data buffer).
    charged: usize,
    /// The message's memory budget (`Limits::max_memory`).
    budget: usize,
    /// Deepest the stack has been in this message: stack slots are charged once, when first used.
    stack_high: usize,
    /// Arena ids of the shared immutable atoms of this message (see [`atom_slot`]).
    atoms: [Id; ATOMS],
    /// The message's protocol (its PROTO opcode; 0 without one).
    proto: u8,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder {
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Vec::new(),
            memo_big: HashMap::new(),
            memo_len: 0,
            charged: 0,
            budget: usize::MAX,
            stack_high: 0,
            atoms: [NO_ID; ATOMS],
            proto: 0,
        }
    }
}

/// None, False, True, then the ints -5 to 256: immutable values a pickle repeats often, decoded
/// into one shared arena object each (as CPython shares them), so a list of a million small ints
/// costs a million ids, not a million objects.
const ATOMS: usize = 3 + 262;

/// Where an atom lives in [`Decoder::atoms`], if `obj` is one.
fn atom_slot(obj: &Obj) -> Option<usize> {
    match *obj {
        Obj::None => Some(0),
        Obj::Bool(b) => Some(1 + usize::from(b)),
        Obj::Int(i) if (-5..=256).contains(&i) => Some((i + 8) as usize),
        _ => None,
    }
}

/// Heap memory an object owns besides its arena slot.
fn heap_of(obj: &Obj) -> usize {
    let id = std::mem::size_of::<Id>();
    match obj {
        Obj::List(v) | Obj::Tuple(v) | Obj::Dict(v) | Obj::Set(v) | Obj::FrozenSet(v) => {
            v.len() * id
        }
        // The boxed BigInt, its digit vector, and the allocator's overhead for the two blocks.
        Obj::Big(b) => std::mem::size_of::<BigInt>() + b.bits() as usize / 8 + 8 + 32,
        Obj::Object(_) => std::mem::size_of::<Object>(),
        _ => 0,
    }
}

/// At most this many globals are named in one message's warnings.
const MAX_WARNINGS: usize = 100;

/// Memoized decoder buffers larger than this are freed after the message rather than kept for
/// the next one, so one hostile message does not leave its high-water mark behind on every
/// connection.
const KEEP_IDS: usize = 1 << 16;

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

/// The text of an INT or LONG argument as an int. `opcode_int` gives INT's wording for a number
/// over the digit limit (CPython's `load_int` replaces the error with its own).
fn parse_int(l: &[u8], opcode_int: bool) -> R<Obj> {
    let s = text(l)?.trim();
    let s = s.strip_suffix('L').unwrap_or(s);
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Obj::Int(i));
    }
    // Counted before converting: the conversion of a long decimal text is quadratic, which is why
    // CPython 3.11 refuses more than 4300 digits (`sys.get_int_max_str_digits()`); so do we.
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if digits > MAX_INT_DIGITS {
        return Err(if opcode_int {
            format!("could not convert string to int (it has {digits} digits, over the {MAX_INT_DIGITS}-digit limit)")
        } else {
            format!(
                "Exceeds the limit ({MAX_INT_DIGITS} digits) for integer string conversion: value has \
                 {digits} digits; use sys.set_int_max_str_digits() to increase the limit"
            )
        });
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
        self.charged = 0;
        self.budget = limits.max_memory;
        self.stack_high = 0;
        self.atoms = [NO_ID; ATOMS];
        self.proto = 0;
        let mut r = self.run(msg, out);
        if r.is_ok() {
            r = self.merge(out, msg.len());
        }
        if r.is_ok() {
            self.collect_warnings(out);
        }
        if self.memo.capacity() > KEEP_IDS {
            self.memo = Vec::new();
        }
        if self.stack.capacity() > KEEP_IDS {
            self.stack = Vec::new();
        }
        if self.memo_big.capacity() > KEEP_IDS {
            self.memo_big = HashMap::new();
        }
        r
    }

    /// Python's dict and set semantics, applied once the message is decoded: keys and set items
    /// equal under Python's `==` are merged (a dict keeps the first key's place and the last
    /// value, as `d[k] = v` does; a set keeps the first item), an unhashable key or item makes the
    /// message invalid as it makes `pickle.loads` raise TypeError, and sets and frozensets whose
    /// items all have CPython's own hashes are put in CPython's iteration order. The keys set on a
    /// recognised dict subclass (`OrderedDict`, `defaultdict`) merge as a dict's. Merging once at the
    /// end gives what merging at each SETITEM would: keys are hashable, so they cannot change.
    ///
    /// Frozensets go first, in the order they were made (their items are older than they are), so
    /// a frozenset inside a key is already merged when the key is hashed.
    fn merge(&mut self, out: &mut Decoded, msg_len: usize) -> R<()> {
        // Comparing and hashing keys is bounded: a few steps per byte of the message.
        let mut cx = Cx::new(
            msg_len.saturating_mul(16).max(1 << 20),
            out.limits.max_depth,
        );
        for pass in 0..2 {
            for id in 0..out.objs.len() {
                let (items, dict) = match &out.objs[id] {
                    Obj::FrozenSet(v) if pass == 0 => (v, false),
                    Obj::Set(v) if pass == 1 => (v, false),
                    Obj::Dict(v) if pass == 1 => (v, true),
                    // A recognised dict subclass (OrderedDict, defaultdict): its SETITEMs are
                    // `d[k] = v` on a dict, so its keys merge as a dict's do.
                    Obj::Object(o) if pass == 1 && is_dict_like(out, o) => (&o.dict_items, true),
                    _ => continue,
                };
                if items.is_empty() {
                    continue;
                }
                let n = if dict { items.len() / 2 } else { items.len() };
                self.check(out, n * DISTINCT_BYTES_PER_KEY)?;
                let merged = merge_items(out, items, dict, &mut cx)?;
                match (&mut out.objs[id], merged) {
                    (_, None) => {}
                    (Obj::FrozenSet(v) | Obj::Set(v) | Obj::Dict(v), Some(m)) => *v = m,
                    (Obj::Object(o), Some(m)) => o.dict_items = m,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The name a global has in Python 3: below protocol 3, `pickle.loads` maps Python 2 names
    /// (`__builtin__.xrange` is `builtins.range`, `copy_reg` is `copyreg`) as CPython's
    /// `_compat_pickle` says.
    fn fix_imports<'a>(&self, m: &'a [u8], n: &'a [u8]) -> (&'a [u8], &'a [u8]) {
        if self.proto >= 3 {
            return (m, n);
        }
        let (Ok(ms), Ok(ns)) = (std::str::from_utf8(m), std::str::from_utf8(n)) else {
            return (m, n);
        };
        if let Ok(i) = NAME_MAPPING.binary_search_by(|(k, _)| k.cmp(&(ms, ns))) {
            let (m2, n2) = NAME_MAPPING[i].1;
            return (m2.as_bytes(), n2.as_bytes());
        }
        match IMPORT_MAPPING.binary_search_by(|(k, _)| k.cmp(&ms)) {
            Ok(i) => (IMPORT_MAPPING[i].1.as_bytes(), n),
            Err(_) => (m, n),
        }
    }

    /// Counts `bytes` more memory toward the message's budget. The arena's two vectors are counted
    /// by their capacity (what is really allocated), the object vector before it grows.
    fn charge(&mut self, out: &Decoded, bytes: usize) -> R<()> {
        self.charged = self.charged.saturating_add(bytes);
        self.check(out, 0)
    }

    /// Whether `pending` more bytes would still fit in the budget.
    fn check(&self, out: &Decoded, pending: usize) -> R<()> {
        let arena = out.objs.capacity() * std::mem::size_of::<Obj>() + out.data.capacity();
        if self.charged.saturating_add(arena).saturating_add(pending) > self.budget {
            return Err(format!(
                "decoding needs more than {} bytes of memory (the per-message budget, {} times \
                 --max-message)",
                self.budget,
                super::scan::MEMORY_PER_MESSAGE_BYTE
            ));
        }
        Ok(())
    }

    /// Pushes an id on the stack, charging the slot if the stack grew past its deepest so far.
    fn push_id(&mut self, out: &Decoded, id: Id) -> R<()> {
        self.stack.push(id);
        if self.stack.len() > self.stack_high {
            self.stack_high = self.stack.len();
            self.charge(out, std::mem::size_of::<Id>())?;
        }
        Ok(())
    }

    fn collect_warnings(&self, out: &mut Decoded) {
        // Hashed, so a message naming a million distinct globals costs linear time.
        let mut seen: std::collections::HashSet<(&[u8], &[u8])> = Default::default();
        let mut warnings = Vec::new();
        // Globals of standard-library values printed as CPython prints them need no warning.
        let mut explained = std::collections::HashSet::new();
        for (id, o) in out.objs.iter().enumerate() {
            let id = id as Id;
            match o {
                Obj::Global { .. } if is_known(out, id) => {
                    explained.insert(id);
                }
                Obj::Object(ob) if is_known(out, id) => {
                    explained.insert(ob.callable);
                    if let Obj::Tuple(args) = &out.objs[ob.args as usize] {
                        explained.extend(args.iter().copied());
                    }
                }
                _ => {}
            }
        }
        for (id, o) in out.objs.iter().enumerate() {
            if explained.contains(&(id as Id)) {
                continue;
            }
            if let Obj::Global {
                module,
                name,
                harmless: false,
            } = o
            {
                let (m, n) = (out.bytes(*module), out.bytes(*name));
                if seen.len() == MAX_WARNINGS && !seen.contains(&(m, n)) {
                    warnings.push(format!(
                        "pickle names more than {MAX_WARNINGS} globals: the others are not listed"
                    ));
                    break;
                }
                if seen.insert((m, n)) {
                    warnings.push(format!(
                        "pickle names {}.{}: shown as text, nothing imported or called",
                        String::from_utf8_lossy(m),
                        String::from_utf8_lossy(n)
                    ));
                }
            }
        }
        out.warnings = warnings;
    }

    fn push(&mut self, out: &mut Decoded, obj: Obj) -> R<()> {
        let slot = atom_slot(&obj);
        if let Some(a) = slot {
            if self.atoms[a] != NO_ID {
                return self.push_id(out, self.atoms[a]);
            }
        }
        self.charge(out, heap_of(&obj))?;
        if out.objs.len() == out.objs.capacity() {
            // The object vector doubles when full: checked before the new block is allocated.
            self.check(out, out.objs.capacity().max(4) * std::mem::size_of::<Obj>())?;
        }
        let id = Id::try_from(out.objs.len()).map_err(|_| "too many objects")?;
        out.objs.push(obj);
        if let Some(a) = slot {
            self.atoms[a] = id;
        }
        self.push_id(out, id)
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, code: u8) -> R<Id> {
        if self.stack.len() <= self.fence() {
            return Err(format!(
                "{} on a stack with too few items",
                opcode_name(code)
            ));
        }
        Ok(self.stack.pop().unwrap_or(NO_ID))
    }

    fn top(&self, code: u8) -> R<Id> {
        if self.stack.len() <= self.fence() {
            return Err(format!(
                "{} on a stack with too few items",
                opcode_name(code)
            ));
        }
        Ok(*self.stack.last().unwrap_or(&NO_ID))
    }

    fn pop_mark(&mut self, code: u8) -> R<Vec<Id>> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| format!("{} without a MARK", opcode_name(code)))?;
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

    fn memo_put(&mut self, out: &Decoded, key: u64, id: Id) -> R<()> {
        let k = key as usize;
        // Dense keys (what Python writes: 0, 1, 2...) go in a vector, sparse ones in a map.
        if key < u32::MAX as u64 && k <= self.memo.len() + 4096 {
            if k >= self.memo.len() {
                let before = self.memo.capacity();
                self.memo.resize(k + 1, NO_ID);
                let grown = self.memo.capacity() - before;
                self.charge(out, grown * std::mem::size_of::<Id>())?;
            }
            if self.memo[k] == NO_ID {
                self.memo_len += 1;
            }
            self.memo[k] = id;
        } else if self.memo_big.insert(key, id).is_none() {
            self.memo_len += 1;
            // A hash map entry: key, value and the table's overhead.
            self.charge(out, 32)?;
        }
        Ok(())
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
                MARK => {
                    self.charge(out, std::mem::size_of::<usize>())?;
                    self.marks.push(self.stack.len());
                }
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
                    self.push_id(out, t)?;
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
                        _ => parse_int(l, true)?,
                    };
                    self.push(out, obj)?;
                }
                LONG => {
                    let (l, np) = line(msg, p)?;
                    p = np;
                    self.push(out, parse_int(l, false)?)?;
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
                        return Err(format!(
                            "{} on a stack with too few items",
                            opcode_name(code)
                        ));
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
                    self.extend(out, t, &[v], code)?;
                }
                APPENDS | ADDITEMS => {
                    let items = self.pop_mark(code)?;
                    let t = self.top(code)?;
                    self.extend(out, t, &items, code)?;
                }
                SETITEM => {
                    let v = self.pop(code)?;
                    let k = self.pop(code)?;
                    let t = self.top(code)?;
                    self.extend(out, t, &[k, v], code)?;
                }
                SETITEMS => {
                    let items = self.pop_mark(code)?;
                    if items.len() % 2 != 0 {
                        return Err("odd number of items for SETITEMS".into());
                    }
                    let t = self.top(code)?;
                    self.extend(out, t, &items, code)?;
                }
                PUT => {
                    let (l, np) = line(msg, p)?;
                    p = np;
                    let key = text(l)?
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| "bad PUT key".to_string())?;
                    let t = self.top(code)?;
                    self.memo_put(out, key, t)?;
                }
                BINPUT | LONG_BINPUT => {
                    let w = if code == BINPUT { 1 } else { 4 };
                    let key = le(msg, p, w)?;
                    p += w;
                    let t = self.top(code)?;
                    self.memo_put(out, key, t)?;
                }
                MEMOIZE => {
                    let t = self.top(code)?;
                    self.memo_put(out, self.memo_len as u64, t)?;
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
                    self.push_id(out, id)?;
                }
                BINGET | LONG_BINGET => {
                    let w = if code == BINGET { 1 } else { 4 };
                    let key = le(msg, p, w)?;
                    p += w;
                    let id = self.memo_get(key)?;
                    out.shared = true;
                    self.push_id(out, id)?;
                }
                GLOBAL | INST => {
                    let (m, np) = line(msg, p)?;
                    let (n, np) = line(msg, np)?;
                    p = np;
                    let (m, n) = self.fix_imports(text(m)?.as_bytes(), text(n)?.as_bytes());
                    let module = Self::add_data(out, m)?;
                    let name = Self::add_data(out, n)?;
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
                    let (mut module, mut name) = (*module, *name);
                    let (m, n) = (out.bytes(module), out.bytes(name));
                    let (fm, fnm) = self.fix_imports(m, n);
                    if (fm, fnm) != (m, n) {
                        let (fm, fnm) = (fm.to_vec(), fnm.to_vec());
                        module = Self::add_data(out, &fm)?;
                        name = Self::add_data(out, &fnm)?;
                    }
                    let g = Obj::Global {
                        module,
                        name,
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
                PROTO => {
                    self.proto = msg.get(p).copied().unwrap_or(0);
                    p += 1;
                }
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

    /// Appends items to a container, charging them to the budget first.
    fn extend(&mut self, out: &mut Decoded, target: Id, items: &[Id], code: u8) -> R<()> {
        self.charge(out, std::mem::size_of_val(items))?;
        extend(out, target, items, code)
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

/// The items of one dict (keys and values interleaved), set or frozenset, merged under Python's
/// `==`, and a set in CPython's order when it can be computed; `None` when nothing changes.
fn merge_items(out: &Decoded, items: &[Id], dict: bool, cx: &mut Cx) -> R<Option<Vec<Id>>> {
    let step = if dict { 2 } else { 1 };
    let mut seen: Distinct<'_, Arena<'_>> = Distinct::with_capacity(items.len() / step);
    // Copied only once an item is merged away (most dicts and sets have nothing to merge).
    let mut kept: Option<Vec<Id>> = None;
    for (n, kv) in items.chunks_exact(step).enumerate() {
        match seen.insert(Arena { d: out, id: kv[0] }, cx)? {
            None => {
                if let Some(k) = kept.as_mut() {
                    k.extend_from_slice(kv);
                }
            }
            Some(i) => {
                let k = kept.get_or_insert_with(|| items[..n * step].to_vec());
                if dict {
                    k[2 * i + 1] = kv[1];
                }
            }
        }
    }
    let changed = kept.is_some();
    if dict && !changed {
        return Ok(None);
    }
    let mut kept = kept.unwrap_or_else(|| items.to_vec());
    if !dict {
        if let Some(hashes) = seen.cpython_hashes() {
            let order = set_order(&hashes);
            if order.iter().enumerate().any(|(i, &o)| i != o) {
                kept = order.into_iter().map(|o| kept[o]).collect();
                return Ok(Some(kept));
            }
        }
    }
    Ok(changed.then_some(kept))
}

/// An object of a decoded arena, as Python's `==` and `hash()` see it.
#[derive(Clone, Copy)]
struct Arena<'a> {
    d: &'a Decoded,
    id: Id,
}

impl<'a> PyObj<'a> for Arena<'a> {
    fn view(self) -> View<'a, Self> {
        let d = self.d;
        let all = |v: &[Id]| v.iter().map(|&id| Arena { d, id }).collect();
        match &d.objs[self.id as usize] {
            Obj::None => View::None,
            Obj::Bool(b) => View::Bool(*b),
            Obj::Int(i) => View::Int(*i),
            Obj::Big(b) => View::Big(b),
            Obj::Float(f) => View::Float(*f),
            Obj::Complex(re, im) => View::Complex(*re, *im),
            Obj::Str(s) => View::Str(d.bytes(*s)),
            Obj::Bytes(s) => View::Bytes(d.bytes(*s)),
            Obj::ByteArray(_) => View::Unhashable("bytearray"),
            Obj::List(_) => View::Unhashable("list"),
            Obj::Dict(_) => View::Unhashable("dict"),
            Obj::Set(_) => View::Unhashable("set"),
            Obj::Tuple(v) => View::Tuple(all(v)),
            Obj::FrozenSet(v) => View::FrozenSet(all(v)),
            // The same global twice is the same object in Python.
            Obj::Global { module, name, .. } => {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::hash::Hash::hash(&(d.bytes(*module), d.bytes(*name)), &mut h);
                View::Opaque(std::hash::Hasher::finish(&h) | 1 << 63)
            }
            Obj::Object(_) => View::Opaque(u64::from(self.id)),
        }
    }

    fn ident(self) -> Option<u64> {
        Some(u64::from(self.id))
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
        _ => return Err(format!("{} on the wrong kind of object", opcode_name(code))),
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
    fn decimal_ints_over_4300_digits_are_refused_as_python_refuses_them() {
        let oracle =
            "import pickle, sys\nfor op, n in [(b'L', 4300), (b'L', 4301), (b'I', 4301)]:\n \
            b = op + b'9' * n + (b'L' if op == b'L' else b'') + b'\\n.'\n \
            try: print(len(str(pickle.loads(b))))\n \
            except ValueError as e: print(e)";
        let want: Vec<String> = crate::pickle::python(oracle)
            .lines()
            .map(String::from)
            .collect();
        let long = |op: u8, n: usize| {
            let mut p = vec![op];
            p.extend(std::iter::repeat_n(b'9', n));
            if op == b'L' {
                p.push(b'L');
            }
            p.extend_from_slice(b"\n.");
            p
        };
        let d = dec(&long(b'L', 4300)).unwrap();
        assert_eq!(d.repr().len().to_string(), want[0]);
        assert_eq!(dec(&long(b'L', 4301)).unwrap_err(), want[1]);
        let int_err = dec(&long(b'I', 4301)).unwrap_err();
        assert!(int_err.starts_with(&want[2]), "{int_err} / {}", want[2]);
        assert!(int_err.contains("4300-digit limit"), "{int_err}");
    }

    #[test]
    fn binary_ints_over_4300_digits_decode_but_are_not_printed() {
        // LONG4 of 2 MiB: decoded in linear time; its repr is refused from its size, at once.
        let mut p = b"\x80\x04\x8b".to_vec();
        let n = 2 << 20;
        p.extend_from_slice(&(n as u32).to_le_bytes());
        p.extend(std::iter::repeat_n(0x11, n));
        p.push(b'.');
        let d = dec(&p).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            d.write_repr(&mut out),
            Err(crate::pickle::repr::ReprError::IntTooLong)
        );
        assert!(d.repr().contains("more than 4300 digits"), "{}", d.repr());
        // 10**4299 (4300 digits) prints; 10**4300 does not, as in CPython.
        for (exp, shown) in [(4299u32, true), (4300, false)] {
            let v = num_bigint::BigInt::from(10).pow(exp);
            let b = v.to_signed_bytes_le();
            let mut p = b"\x80\x04\x8b".to_vec();
            p.extend_from_slice(&(b.len() as u32).to_le_bytes());
            p.extend_from_slice(&b);
            p.push(b'.');
            let mut out = Vec::new();
            assert_eq!(
                dec(&p).unwrap().write_repr(&mut out).is_ok(),
                shown,
                "10**{exp}"
            );
        }
    }

    #[test]
    fn memory_budget_refuses_a_flood_of_objects() {
        // 100,000 empty lists at the 1 MiB budget of a 64 KiB --max-message: 3 MB of objects.
        let limits = Limits::with_max_message(1 << 16);
        let mut p = b"\x80\x04".to_vec();
        p.extend(std::iter::repeat_n(b']', 100_000));
        p.push(b'.');
        let mut d = Decoded::default();
        let e = Decoder::new().decode(&p, &limits, &mut d).unwrap_err();
        assert!(e.contains("per-message budget"), "{e}");
        // The same count of small ints is cheap: they share one object each, as in CPython.
        let mut p = b"\x80\x04".to_vec();
        for _ in 0..50_000 {
            p.extend_from_slice(b"K\x07");
        }
        p.push(b'.');
        Decoder::new().decode(&p, &limits, &mut d).unwrap();
        assert!(d.objs.len() < 10, "{}", d.objs.len());
    }

    #[test]
    fn a_memo_flood_is_charged_and_its_memory_given_back() {
        let mut p = b"\x80\x04N".to_vec();
        p.extend(std::iter::repeat_n(0x94, 1_000_000));
        p.push(b'.');
        let mut dec = Decoder::new();
        let mut d = Decoded::default();
        // 4 MB of memo: refused at a 1 MiB budget, shown at the default one.
        let e = dec
            .decode(&p, &Limits::with_max_message(1 << 16), &mut d)
            .unwrap_err();
        assert!(e.contains("budget"), "{e}");
        dec.decode(&p, &Limits::default(), &mut d).unwrap();
        assert_eq!(d.repr(), "None");
        assert!(
            dec.memo.capacity() <= KEEP_IDS,
            "memo kept after the message"
        );
        // Sparse keys (LONG_BINPUT) are charged too.
        let mut p = b"\x80\x04N".to_vec();
        for k in 0..100_000u32 {
            p.push(b'r');
            p.extend_from_slice(&(k * 5000).to_le_bytes());
        }
        p.push(b'.');
        let e = dec
            .decode(&p, &Limits::with_max_message(1 << 16), &mut d)
            .unwrap_err();
        assert!(e.contains("budget"), "{e}");
    }

    #[test]
    fn equal_keys_merge_unhashable_keys_fail_and_sets_take_cpythons_order() {
        // Python's answers (checked with python3 3.11): {1: 'b'}, frozenset({1}), {8, 7}, and
        // TypeError "unhashable type: 'list'".
        let d = dec(b"(K\x01X\x01\x00\x00\x00a\x88X\x01\x00\x00\x00bd.").unwrap();
        assert_eq!(d.repr(), "{1: 'b'}");
        let d = dec(b"\x80\x04(K\x01\x88G?\xf0\x00\x00\x00\x00\x00\x00\x91.").unwrap();
        assert_eq!(d.repr(), "frozenset({1})");
        let d = dec(b"\x80\x04\x8f(K\x07K\x08\x90.").unwrap();
        assert_eq!(d.repr(), "{8, 7}");
        assert_eq!(
            dec(b"\x80\x04}(]K\x01u.").unwrap_err(),
            "unhashable type: 'list'"
        );
    }

    /// OrderedDict and defaultdict pickles whose SETITEMs repeat equal keys (as a hand-made
    /// `__reduce__` can write them): the keys merge as Python's `pickle.loads` merges them, and an
    /// unhashable key is refused with Python's message.
    #[test]
    fn dict_subclass_keys_merge_as_python_merges_them() {
        let script = r#"
import pickle, collections
class R:
    def __init__(self, cls, args, items): self.r = (cls, args, None, None, iter(items))
    def __reduce__(self): return self.r
cases = [
    (collections.OrderedDict, (), [(1, 'a'), (True, 'b'), (1.0, 'c'), (2, 'd'), (0, 'e'), (-0.0, 'f')]),
    (collections.OrderedDict, (), [('k', 1), ('j', 2), ('k', 3), ((1, 2.0), 4), ((True, 2), 5)]),
    (collections.defaultdict, (list,), [(1, 'a'), (2, 'b'), (1.0, 'c'), (frozenset({1}), 1), (frozenset({True}), 2)]),
    (collections.defaultdict, (None,), [(3, 1), (3, 2)]),
    (collections.OrderedDict, (), [(1, 'a'), ([], 'b')]),
]
for cls, args, items in cases:
    for proto in range(6):
        data = pickle.dumps(R(cls, args, items), proto)
        try:
            out = repr(pickle.loads(data))
        except TypeError as e:
            out = 'TypeError: ' + str(e)
        print(data.hex(), out, sep='\t')
"#;
        let out = crate::pickle::python(script);
        let mut merged = 0;
        for line in out.lines() {
            let (data, want) = line.split_once('\t').unwrap();
            let data = hex::decode(data).unwrap();
            let got = match dec(&data) {
                Ok(d) => d.repr(),
                Err(e) => format!("TypeError: {e}"),
            };
            assert_eq!(got, want, "pickle {}", hex::encode(&data));
            merged += 1;
        }
        assert_eq!(merged, 30);
    }

    #[test]
    fn a_million_key_dict_fits_the_default_budget() {
        // {i: None for i in range(1_000_000)}, 6 MB: merging its keys must fit in 96 MiB with the
        // arena (it did not when the key index took 64 bytes a key).
        let mut p = b"\x80\x04}(".to_vec();
        for i in 0..1_000_000i32 {
            p.push(b'J');
            p.extend_from_slice(&i.to_le_bytes());
            p.push(b'N');
        }
        p.extend_from_slice(b"u.");
        let d = dec(&p).unwrap();
        let Obj::Dict(items) = &d.objs[d.root as usize] else {
            panic!("not a dict")
        };
        assert_eq!(items.len(), 2_000_000);
    }

    #[test]
    fn colliding_keys_cost_is_bounded() {
        // Two 100,000-item tuples with equal hashes (0 and 2**61 - 1 hash alike) but unequal,
        // used alternately as keys 50,000 times: each comparison walks a whole tuple, so the
        // work limit stops it instead of 5 billion steps.
        let mut p = b"\x80\x04".to_vec();
        for last in [0u64, (1 << 61) - 1] {
            p.push(b'(');
            p.extend(std::iter::repeat_n(b'N', 100_000));
            p.push(0x8a);
            p.push(8);
            p.extend_from_slice(&last.to_le_bytes());
            p.extend_from_slice(b"t\x940");
        }
        p.extend_from_slice(b"}(");
        for i in 0..50_000u32 {
            p.push(b'h');
            p.push((i % 2) as u8);
            p.extend_from_slice(b"N");
        }
        p.extend_from_slice(b"u.");
        let e = dec(&p).unwrap_err();
        assert!(e.contains("too costly"), "{e}");
    }

    #[test]
    fn raw_unicode_escape_decodes() {
        let mut out = Vec::new();
        raw_unicode_escape(b"a\\u000a\\u005c\\u20ac\\\\u", &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\n\\\u{20ac}\\\\u");
    }
}
