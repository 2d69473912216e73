//! Python's `repr()`, written straight into a byte buffer: str and bytes quoting and escapes, floats
//! (shortest round trip, Python's switch to exponent form), ints of any size, containers, and
//! recursion shown as `[...]`, exactly as CPython 3.11 prints them.
//!
//! Standard-library values (datetime, Decimal, Fraction, UUID, the collections types, range, slice,
//! Ellipsis, builtin classes...) print as CPython prints them, from the calls that carry them
//! ([`super::stdlib`]). What else Python cannot print because nothing was imported or called is
//! shown in angle brackets, which no Python literal starts with:
//! - a global on its own: `<global os.system>`;
//! - a call (REDUCE, INST, OBJ): `<call os.system('echo hi')>`;
//! - an instance made by NEWOBJ / NEWOBJ_EX: `<new __main__.Point(1, 2)>`, with keyword arguments as
//!   `**{'k': v}`;
//! - then, when the pickle gives them, ` state=REPR` (BUILD), ` items=[...]` (APPEND on the object)
//!   and ` dictitems={...}` (SETITEM on the object), before the closing `>`.
//!
//! Sets print in the order the decoder left them: CPython's own iteration order when every item's
//! hash is deterministic (ints, floats, bools, complex, tuples and frozensets of these), else the
//! order their items were pickled in (str and bytes hashes depend on the hash seed).
//! Nesting is limited (`Limits::max_depth`) and so is the size of one repr (`Limits::max_output`),
//! because shared sub-objects are printed in full each time they appear, as Python does; the size
//! is computed before anything is written ([`Decoded::repr_bound`]), so an oversized repr costs
//! time in proportion to the pickle, not to the limit. An int
//! of more than 4300 decimal digits is refused as CPython 3.11's repr refuses it
//! ([`ReprError::IntTooLong`]), so printing costs time linear in the output.

use std::fmt;

use num_bigint::BigInt;

use super::decode::{decode_char, Decoded, Id, MakeKind, Obj};
use super::literal::MAX_INT_DIGITS;
use super::stdlib::{known, Part};
use super::unicode_table::NON_PRINTABLE;

/// Why a decoded pickle cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReprError {
    /// Nested deeper than the limit (Python itself raises RecursionError at about this depth).
    TooDeep(usize),
    /// The repr would be larger than the limit (shared sub-objects repeated).
    TooLarge(usize),
    /// An int with more decimal digits than CPython converts to text (its `repr` raises ValueError).
    IntTooLong,
}

impl fmt::Display for ReprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReprError::TooDeep(n) => write!(f, "nested deeper than {n} levels"),
            ReprError::TooLarge(n) => write!(
                f,
                "repr longer than {n} bytes (shared sub-objects are printed in full each time)"
            ),
            ReprError::IntTooLong => write!(
                f,
                "an int has more than {MAX_INT_DIGITS} digits: Python's repr raises ValueError: \
                 Exceeds the limit ({MAX_INT_DIGITS} digits) for integer string conversion"
            ),
        }
    }
}

impl std::error::Error for ReprError {}

impl Decoded {
    /// Appends Python's repr of the value to `out`. On error `out` is left as it was.
    /// The repr is sized first ([`Decoded::repr_bound`]): one larger than `Limits::max_output`
    /// is refused before a byte of it is written.
    pub fn write_repr(&self, out: &mut Vec<u8>) -> Result<(), ReprError> {
        // Python's repr raises on a long int however short the rest is.
        let (bound, int_too_long) = self.sized(self.root);
        if int_too_long {
            return Err(ReprError::IntTooLong);
        }
        if bound? > self.limits.max_output as u64 {
            return Err(ReprError::TooLarge(self.limits.max_output));
        }
        let start = out.len();
        let mut w = Writer {
            d: self,
            out,
            limit: start.saturating_add(self.limits.max_output),
            active: if self.shared {
                vec![false; self.objs.len()]
            } else {
                Vec::new()
            },
        };
        let r = w.obj(self.root, 0);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// Appends Python's `str()` of object `id` (a str as its text, anything else as its repr) to
    /// `out`, writing at most `limit` bytes; on error `out` is left as it was. The text of a str is
    /// copied as it is (WTF-8): escape it before it reaches a terminal.
    pub(crate) fn write_str_of(&self, id: Id, limit: usize, out: &mut Vec<u8>) -> W {
        if let Obj::Str(s) = &self.objs[id as usize] {
            let text = self.bytes(*s);
            if text.len() > limit {
                return Err(ReprError::TooLarge(limit));
            }
            out.extend_from_slice(text);
            return Ok(());
        }
        let start = out.len();
        let mut w = Writer {
            d: self,
            out,
            limit: start.saturating_add(limit),
            active: if self.shared {
                vec![false; self.objs.len()]
            } else {
                Vec::new()
            },
        };
        let r = w.obj(id, 0).map_err(|e| match e {
            ReprError::TooLarge(_) => ReprError::TooLarge(limit),
            other => other,
        });
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// The start of Python's repr of the value, for a log line: at most about `max` bytes, ending
    /// in `...` when cut. Costs time in proportion to `max`, not to the value.
    pub(crate) fn repr_prefix(&self, max: usize) -> String {
        let mut out = Vec::new();
        let mut w = Writer {
            d: self,
            out: &mut out,
            limit: max,
            active: if self.shared {
                vec![false; self.objs.len()]
            } else {
                Vec::new()
            },
        };
        match w.obj(self.root, 0) {
            Ok(()) => {}
            Err(ReprError::TooLarge(_)) => {
                // A character cut in two shows as U+FFFD.
                out.truncate(max);
                return format!("{}...", String::from_utf8_lossy(&out));
            }
            Err(e) => return format!("<unshowable: {e}>"),
        }
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// The length of the repr of object `id`, found without writing it, in time linear in the
    /// arena and its data (each object is sized once, however often it is shared), so a pickle
    /// whose repr would blow up (shared sub-objects doubled over and over) is refused before any of
    /// it is written. Exact for everything but two cases, where it is an upper bound: ints with
    /// more than 18 digits (sized from their bit length, at most one digit over) and the objects
    /// shown as `<call ...>`/`<new ...>`; around recursive references (`[...]`) it may be under.
    /// The writer's own limit stays the final check. Saturates just below `u64::MAX`. Nesting past the
    /// depth limit is `TooDeep`.
    pub(crate) fn repr_bound(&self, id: Id) -> Result<u64, ReprError> {
        self.sized(id).0
    }

    /// [`Decoded::repr_bound`], and whether an int in the repr has more digits than Python
    /// converts to text.
    fn sized(&self, id: Id) -> (Result<u64, ReprError>, bool) {
        let mut b = Bound {
            // Without sharing each object is reached once: nothing to remember, no cycles.
            memo: if self.shared {
                vec![UNKNOWN; self.objs.len()]
            } else {
                Vec::new()
            },
            too_deep: false,
            int_too_long: false,
            scratch: Vec::new(),
        };
        let n = self.bound_of(id, 0, &mut b);
        if b.too_deep {
            return (
                Err(ReprError::TooDeep(self.limits.max_depth)),
                b.int_too_long,
            );
        }
        (Ok(n), b.int_too_long)
    }

    fn bound_of(&self, id: Id, depth: usize, b: &mut Bound) -> u64 {
        let i = id as usize;
        match b.memo.get(i) {
            Some(&UNKNOWN) | None => {}
            // A recursive reference prints as `[...]`, at most `frozenset(...)`.
            Some(&ACTIVE) => return 14,
            Some(&n) => return n,
        }
        if depth > self.limits.max_depth || b.too_deep {
            b.too_deep = true;
            return u64::MAX;
        }
        // Items joined by ", ", or key: value pairs.
        let seq = |ids: &[Id], b: &mut Bound| -> u64 {
            ids.iter().fold(0u64, |n, &c| {
                n.saturating_add(self.bound_of(c, depth + 1, b))
                    .saturating_add(2)
            })
        };
        let scratch = |b: &mut Bound, f: &dyn Fn(&mut Vec<u8>)| -> u64 {
            b.scratch.clear();
            f(&mut b.scratch);
            b.scratch.len() as u64
        };
        let n = match &self.objs[i] {
            Obj::None => 4,
            Obj::Bool(true) => 4,
            Obj::Bool(false) => 5,
            Obj::Int(v) => scratch(b, &|o| write_int(*v, o)),
            Obj::Float(f) => scratch(b, &|o| write_float(*f, true, false, o)),
            Obj::Complex(re, im) => scratch(b, &|o| write_complex(*re, *im, o)),
            Obj::Big(big) => {
                if big.bits() > MAX_BIG_BITS {
                    b.int_too_long = true;
                }
                // Digits are at most bits * log10(2) + 1; and a sign.
                big.bits().saturating_mul(30_103) / 100_000 + 2
            }
            Obj::Str(s) => {
                let mut c = Count(0);
                str_lit(self.bytes(*s), &mut c);
                c.0
            }
            Obj::Bytes(s) => {
                let mut c = Count(0);
                bytes_lit(self.bytes(*s), false, &mut c);
                c.0
            }
            Obj::ByteArray(s) => {
                let mut c = Count(11);
                bytes_lit(self.bytes(*s), true, &mut c);
                c.0
            }
            Obj::Global { .. } | Obj::Object(_) if known(self, id).is_some() => {
                b.enter(i);
                let parts = known(self, id).unwrap_or_default();
                let n = parts.iter().fold(0u64, |n, p| match p {
                    Part::Text(t) => n.saturating_add(t.len() as u64),
                    Part::Obj(c) => n.saturating_add(self.bound_of(*c, depth + 1, b)),
                });
                b.leave(i);
                n
            }
            Obj::Global { module, name, .. } => {
                (self.bytes(*module).len() + self.bytes(*name).len()) as u64 + 10
            }
            Obj::List(v) | Obj::Tuple(v) | Obj::Dict(v) | Obj::Set(v) | Obj::FrozenSet(v) => {
                b.enter(i);
                // Each item but the first has ", " before it, each dict value ": " (the same 2
                // bytes per id); then the brackets, `(1,)`'s comma, `set()`, `frozenset({})`.
                let items = seq(v, b).saturating_sub(if v.is_empty() { 0 } else { 2 });
                b.leave(i);
                let around = match &self.objs[i] {
                    Obj::Tuple(v) if v.len() == 1 => 3,
                    Obj::Set(v) if v.is_empty() => 5,
                    Obj::FrozenSet(v) if v.is_empty() => 11,
                    Obj::FrozenSet(_) => 13,
                    _ => 2,
                };
                items.saturating_add(around)
            }
            Obj::Object(o) => {
                b.enter(i);
                let mut ids = vec![o.callable, o.args];
                ids.extend(o.kwargs);
                ids.extend(o.state);
                ids.extend_from_slice(&o.items);
                ids.extend_from_slice(&o.dict_items);
                // `<call `, `(`, `)`, `**`, ` state=`, ` items=[]`, ` dictitems={}`, `>`.
                let n = seq(&ids, b).saturating_add(48);
                b.leave(i);
                n
            }
        };
        let n = n.min(MAX_BOUND);
        if let Some(m) = b.memo.get_mut(i) {
            *m = n;
        }
        n
    }

    /// Python's repr of the value, or `<unshowable: REASON>` when it is too deep or too large.
    pub fn repr(&self) -> String {
        let mut out = Vec::new();
        match self.write_repr(&mut out) {
            Ok(()) => String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            Err(e) => format!("<unshowable: {e}>"),
        }
    }
}

/// The state of [`Decoded::repr_bound`]'s walk.
struct Bound {
    /// When objects are shared: each one's size once known, [`UNKNOWN`] before, [`ACTIVE`] while
    /// it is being sized (8 bytes an object: the arena of a big message is millions of objects).
    memo: Vec<u64>,
    too_deep: bool,
    int_too_long: bool,
    /// Where a number is written to learn its length.
    scratch: Vec<u8>,
}

const UNKNOWN: u64 = u64::MAX;
const ACTIVE: u64 = u64::MAX - 1;
/// Sizes saturate here, below the two marks.
const MAX_BOUND: u64 = u64::MAX - 2;

impl Bound {
    fn enter(&mut self, i: usize) {
        if let Some(m) = self.memo.get_mut(i) {
            *m = ACTIVE;
        }
    }

    fn leave(&mut self, i: usize) {
        if let Some(m) = self.memo.get_mut(i) {
            *m = UNKNOWN;
        }
    }
}

/// Where the str and bytes literal writers put their text: a buffer, or a [`Count`] of the bytes
/// (so [`Decoded::repr_bound`] sizes a literal with the writer's own code).
pub(crate) trait Sink {
    fn put(&mut self, b: &[u8]);
    fn put1(&mut self, c: u8) {
        self.put(&[c]);
    }
    fn reserve(&mut self, _n: usize) {}
}

impl Sink for Vec<u8> {
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
    fn put1(&mut self, c: u8) {
        self.push(c);
    }
    fn reserve(&mut self, n: usize) {
        Vec::reserve(self, n);
    }
}

/// A [`Sink`] that only counts.
struct Count(u64);

impl Sink for Count {
    fn put(&mut self, b: &[u8]) {
        self.0 += b.len() as u64;
    }
}

struct Writer<'a> {
    d: &'a Decoded,
    out: &'a mut Vec<u8>,
    limit: usize,
    /// Containers being printed (Python's Py_ReprEnter); empty when nothing is shared.
    active: Vec<bool>,
}

type W = Result<(), ReprError>;

impl Writer<'_> {
    /// Writes a standard-library value CPython's way (see [`super::stdlib`]); false if `id` is not
    /// one.
    fn known(&mut self, id: Id, depth: usize) -> Result<bool, ReprError> {
        let Some(parts) = known(self.d, id) else {
            return Ok(false);
        };
        for part in parts {
            match part {
                Part::Text(s) => self.out.extend_from_slice(s.as_bytes()),
                Part::Obj(sub) => self.obj(sub, depth)?,
            }
        }
        Ok(true)
    }

    fn check(&self) -> W {
        if self.out.len() > self.limit {
            Err(ReprError::TooLarge(self.d.limits.max_output))
        } else {
            Ok(())
        }
    }

    fn seq(&mut self, items: &[Id], depth: usize) -> W {
        for (i, &id) in items.iter().enumerate() {
            if i > 0 {
                self.out.extend_from_slice(b", ");
            }
            self.obj(id, depth)?;
        }
        Ok(())
    }

    fn pairs(&mut self, items: &[Id], depth: usize) -> W {
        for (i, kv) in items.chunks_exact(2).enumerate() {
            if i > 0 {
                self.out.extend_from_slice(b", ");
            }
            self.obj(kv[0], depth)?;
            self.out.extend_from_slice(b": ");
            self.obj(kv[1], depth)?;
        }
        Ok(())
    }

    fn obj(&mut self, id: Id, depth: usize) -> W {
        let d = self.d;
        let o = &d.objs[id as usize];
        match o {
            Obj::None => self.out.extend_from_slice(b"None"),
            Obj::Bool(true) => self.out.extend_from_slice(b"True"),
            Obj::Bool(false) => self.out.extend_from_slice(b"False"),
            Obj::Int(i) => write_int(*i, self.out),
            Obj::Big(b) => write_big(b, self.out)?,
            Obj::Float(f) => write_float(*f, true, false, self.out),
            Obj::Complex(re, im) => write_complex(*re, *im, self.out),
            Obj::Str(s) => write_str(d.bytes(*s), self.out),
            Obj::Bytes(s) => write_bytes(d.bytes(*s), self.out),
            Obj::ByteArray(s) => {
                self.out.extend_from_slice(b"bytearray(");
                write_bytes_as(d.bytes(*s), true, self.out);
                self.out.push(b')');
            }
            Obj::Global { .. } if self.known(id, depth)? => {}
            Obj::Global { module, name, .. } => {
                self.out.extend_from_slice(b"<global ");
                self.out.extend_from_slice(d.bytes(*module));
                self.out.push(b'.');
                self.out.extend_from_slice(d.bytes(*name));
                self.out.push(b'>');
            }
            _ => return self.container(id, o, depth),
        }
        self.check()
    }

    fn container(&mut self, id: Id, o: &Obj, depth: usize) -> W {
        if depth >= self.d.limits.max_depth {
            return Err(ReprError::TooDeep(self.d.limits.max_depth));
        }
        self.check()?;
        let depth = depth + 1;
        if !self.active.is_empty() {
            if self.active[id as usize] {
                let s: &[u8] = match o {
                    Obj::List(_) => b"[...]",
                    Obj::Tuple(_) => b"(...)",
                    Obj::Dict(_) => b"{...}",
                    Obj::Set(_) => b"set(...)",
                    Obj::FrozenSet(_) => b"frozenset(...)",
                    _ => b"<...>",
                };
                self.out.extend_from_slice(s);
                return Ok(());
            }
            self.active[id as usize] = true;
        }
        match o {
            Obj::Object(_) if self.known(id, depth)? => {}
            Obj::List(v) => {
                self.out.push(b'[');
                self.seq(v, depth)?;
                self.out.push(b']');
            }
            Obj::Tuple(v) => {
                self.out.push(b'(');
                self.seq(v, depth)?;
                if v.len() == 1 {
                    self.out.push(b',');
                }
                self.out.push(b')');
            }
            Obj::Dict(v) => {
                self.out.push(b'{');
                self.pairs(v, depth)?;
                self.out.push(b'}');
            }
            Obj::Set(v) if v.is_empty() => self.out.extend_from_slice(b"set()"),
            Obj::Set(v) => {
                self.out.push(b'{');
                self.seq(v, depth)?;
                self.out.push(b'}');
            }
            Obj::FrozenSet(v) if v.is_empty() => self.out.extend_from_slice(b"frozenset()"),
            Obj::FrozenSet(v) => {
                self.out.extend_from_slice(b"frozenset({");
                self.seq(v, depth)?;
                self.out.extend_from_slice(b"})");
            }
            Obj::Object(ob) => {
                self.out.extend_from_slice(match ob.kind {
                    MakeKind::Call => b"<call ",
                    MakeKind::New => b"<new ",
                });
                match &self.d.objs[ob.callable as usize] {
                    Obj::Global { module, name, .. } => {
                        self.out.extend_from_slice(self.d.bytes(*module));
                        self.out.push(b'.');
                        self.out.extend_from_slice(self.d.bytes(*name));
                    }
                    _ => self.obj(ob.callable, depth)?,
                }
                self.out.push(b'(');
                match &self.d.objs[ob.args as usize] {
                    Obj::Tuple(args) => self.seq(args, depth)?,
                    _ => {
                        self.out.push(b'*');
                        self.obj(ob.args, depth)?;
                    }
                }
                if let Some(kw) = ob.kwargs {
                    if !matches!(&self.d.objs[ob.args as usize], Obj::Tuple(a) if a.is_empty()) {
                        self.out.extend_from_slice(b", ");
                    }
                    self.out.extend_from_slice(b"**");
                    self.obj(kw, depth)?;
                }
                self.out.push(b')');
                if let Some(st) = ob.state {
                    self.out.extend_from_slice(b" state=");
                    self.obj(st, depth)?;
                }
                if !ob.items.is_empty() {
                    self.out.extend_from_slice(b" items=[");
                    self.seq(&ob.items, depth)?;
                    self.out.push(b']');
                }
                if !ob.dict_items.is_empty() {
                    self.out.extend_from_slice(b" dictitems={");
                    self.pairs(&ob.dict_items, depth)?;
                    self.out.push(b'}');
                }
                self.out.push(b'>');
            }
            _ => {}
        }
        if !self.active.is_empty() {
            self.active[id as usize] = false;
        }
        self.check()
    }
}

/// A decimal integer.
pub fn write_int(i: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut p = buf.len();
    loop {
        p -= 1;
        buf[p] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[p..]);
}

/// 10**4300 has 14,285 bits: an int longer has more than 4300 digits.
const MAX_BIG_BITS: u64 = 14_285;

/// An int of any size in decimal, or [`ReprError::IntTooLong`] when it has more digits than
/// CPython 3.11 converts (4300): the conversion is quadratic, so a hostile 4 MiB LONG4 would cost
/// minutes. Refused from its bit length before any conversion; at most ~14,300 bits are converted.
pub(crate) fn write_big(b: &BigInt, out: &mut Vec<u8>) -> Result<(), ReprError> {
    if b.bits() > MAX_BIG_BITS {
        return Err(ReprError::IntTooLong);
    }
    let s = b.to_string();
    let digits = s.len() - usize::from(s.starts_with('-'));
    if digits > MAX_INT_DIGITS {
        return Err(ReprError::IntTooLong);
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Python's `repr(float)` as a string: the text of protocol 0's FLOAT opcode.
pub fn float_repr(x: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_float(x, true, false, &mut out);
    String::from_utf8(out).expect("a float's repr is ASCII")
}

/// A float as Python's `repr` prints it: the shortest digits that round-trip, in fixed notation
/// when the decimal exponent is from -4 to 15, else as `1e+16`, `1.5e-07`. `add_dot_0` gives `1.0`
/// rather than `1` (false inside complex numbers); `sign` forces a leading `+`.
pub fn write_float(f: f64, add_dot_0: bool, sign: bool, out: &mut Vec<u8>) {
    if f.is_nan() {
        if sign {
            out.push(b'+');
        }
        out.extend_from_slice(b"nan");
        return;
    }
    if f.is_sign_negative() {
        out.push(b'-');
    } else if sign {
        out.push(b'+');
    }
    let a = f.abs();
    if a.is_infinite() {
        out.extend_from_slice(b"inf");
        return;
    }
    if a == 0.0 {
        out.extend_from_slice(if add_dot_0 { b"0.0" } else { b"0" });
        return;
    }
    let mut rb = ryu::Buffer::new();
    let s = rb.format_finite(a).as_bytes();
    // Split ryu's output into significant digits and the position of the decimal point.
    let (mant, exp) = match s.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (&s[..i], parse_exp(&s[i + 1..])),
        None => (s, 0),
    };
    let mut digits = [0u8; 40];
    let mut nd = 0;
    let mut int_len = 0i32;
    let mut seen_point = false;
    for &c in mant {
        if c == b'.' {
            seen_point = true;
            continue;
        }
        if nd == 0 && c == b'0' {
            // A leading zero: shifts the point left if after it.
            if seen_point {
                int_len -= 1;
            }
            continue;
        }
        if nd < digits.len() {
            digits[nd] = c;
            nd += 1;
        }
        if !seen_point {
            int_len += 1;
        }
    }
    while nd > 1 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    let digits = &digits[..nd];
    let decpt = int_len + exp;
    let x = decpt - 1;
    if (-4..16).contains(&x) {
        if decpt <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
            out.extend_from_slice(digits);
        } else if decpt as usize >= nd {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', decpt as usize - nd));
            if add_dot_0 {
                out.extend_from_slice(b".0");
            }
        } else {
            out.extend_from_slice(&digits[..decpt as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[decpt as usize..]);
        }
    } else {
        out.push(digits[0]);
        if nd > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if x < 0 { b'-' } else { b'+' });
        let e = x.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        write_int(e as i64, out);
    }
}

fn parse_exp(s: &[u8]) -> i32 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = digits.iter().fold(0i32, |v, &c| {
        v.saturating_mul(10).saturating_add((c - b'0') as i32)
    });
    if neg {
        -v
    } else {
        v
    }
}

/// A complex number as Python prints it: `2j`, `(1+2j)`, `(-0-1j)`.
pub fn write_complex(re: f64, im: f64, out: &mut Vec<u8>) {
    if re == 0.0 && re.is_sign_positive() {
        write_float(im, false, false, out);
        out.push(b'j');
    } else {
        out.push(b'(');
        write_float(re, false, false, out);
        write_float(im, false, true, out);
        out.extend_from_slice(b"j)");
    }
}

/// A byte as two lower-case hex digits: the crate's one hex formatter (Python's `\xNN` escapes, the
/// hex dump's table, the bytes shown for a bad pickle).
pub(crate) const fn hex_byte(b: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]]
}

/// A code point escaped as Python writes it: `\xNN` below 0x100, `\uNNNN` below 0x10000, else
/// `\UNNNNNNNN`.
pub(crate) fn push_code_escape<S: Sink + ?Sized>(cp: u32, out: &mut S) {
    let (lead, bytes): (&[u8], usize) = if cp < 0x100 {
        (b"\\x", 1)
    } else if cp < 0x10000 {
        (b"\\u", 2)
    } else {
        (b"\\U", 4)
    };
    out.put(lead);
    for b in &cp.to_be_bytes()[4 - bytes..] {
        out.put(&hex_byte(*b));
    }
}

fn quote_for(b: &[u8]) -> u8 {
    if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    }
}

fn escape_ascii<S: Sink + ?Sized>(c: u8, quote: u8, out: &mut S) {
    match c {
        b'\\' => out.put(b"\\\\"),
        b'\t' => out.put(b"\\t"),
        b'\n' => out.put(b"\\n"),
        b'\r' => out.put(b"\\r"),
        c if c == quote => out.put(&[b'\\', c]),
        0x20..=0x7e => out.put1(c),
        _ => push_code_escape(u32::from(c), out),
    }
}

/// Whether an ASCII byte is copied as is inside quotes `quote`.
#[inline]
fn plain(c: u8, quote: u8) -> bool {
    (0x20..0x7f).contains(&c) && c != b'\\' && c != quote
}

/// A bytes literal: `b'...'`.
pub fn write_bytes(b: &[u8], out: &mut Vec<u8>) {
    bytes_lit(b, false, out)
}

/// A bytes literal; `bytearray` escapes `'` even inside `"` quotes, as CPython's bytearray repr does.
fn write_bytes_as(b: &[u8], bytearray: bool, out: &mut Vec<u8>) {
    bytes_lit(b, bytearray, out)
}

fn bytes_lit<S: Sink + ?Sized>(b: &[u8], bytearray: bool, out: &mut S) {
    let q = quote_for(b);
    out.reserve(b.len() + 3);
    out.put(&[b'b', q]);
    let mut i = 0;
    while i < b.len() {
        let run = b[i..]
            .iter()
            .take_while(|&&c| plain(c, q) && !(bytearray && c == b'\''))
            .count();
        out.put(&b[i..i + run]);
        i += run;
        if i < b.len() {
            if bytearray && b[i] == b'\'' {
                out.put(b"\\'");
                i += 1;
                continue;
            }
            escape_ascii(b[i], q, out);
            i += 1;
        }
    }
    out.put1(q);
}

/// Whether Python's `str.isprintable()` holds for code point `c`.
pub fn is_printable(c: u32) -> bool {
    if c < 0x7f {
        return c >= 0x20;
    }
    NON_PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_err()
}

/// A str literal from WTF-8 text (lone surrogates allowed, shown as `\udXXX`).
pub fn write_str(b: &[u8], out: &mut Vec<u8>) {
    str_lit(b, out)
}

fn str_lit<S: Sink + ?Sized>(b: &[u8], out: &mut S) {
    let q = quote_for(b);
    out.reserve(b.len() + 2);
    out.put1(q);
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|&&c| plain(c, q)).count();
        out.put(&b[i..i + run]);
        i += run;
        let Some(&c) = b.get(i) else { break };
        if c < 0x80 {
            escape_ascii(c, q, out);
            i += 1;
            continue;
        }
        let (cp, len) = decode_char(b, i).unwrap_or((0xfffd, 1));
        if is_printable(cp) {
            out.put(&b[i..i + len]);
        } else {
            push_code_escape(cp, out);
        }
        i += len;
    }
    out.put1(q);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut o = Vec::new();
        write_float(x, true, false, &mut o);
        String::from_utf8(o).unwrap()
    }

    fn s(x: &str) -> String {
        let mut o = Vec::new();
        write_str(x.as_bytes(), &mut o);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn floats_match_python() {
        let cases = [
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (123.456, "123.456"),
            (1e100, "1e+100"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (2.5, "2.5"),
        ];
        for (x, want) in cases {
            assert_eq!(f(x), want, "{x:e}");
        }
    }

    #[test]
    fn float_repr_matches_python() {
        for (x, want) in [
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1.5e-7, "1.5e-07"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1e15, "1000000000000000.0"),
            (123456.789, "123456.789"),
            (1e-4, "0.0001"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::INFINITY, "inf"),
            (2225347021757170.3, "2225347021757170.2"),
        ] {
            assert_eq!(float_repr(x), want);
        }
        // And python3's repr() of many random floats.
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut floats = Vec::new();
        while floats.len() < 5000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let x = f64::from_bits(seed);
            let y = (seed % 1_000_000) as f64 / 1000.0 * 10f64.powi((seed % 40) as i32 - 20);
            for v in [x, y] {
                if v.is_finite() {
                    floats.push(v);
                }
            }
        }
        let input: String = floats
            .iter()
            .map(|x| format!("{:016x}\n", x.to_bits()))
            .collect();
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, struct\nfor l in sys.stdin.read().split():\n    print(repr(struct.unpack('>d', bytes.fromhex(l))[0]))",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            stdin.write_all(input.as_bytes())
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let wrong: Vec<String> = floats
            .iter()
            .zip(text.lines())
            .filter(|(x, py)| float_repr(**x) != *py)
            .map(|(x, py)| format!("{x:e}: python {py}, ours {}", float_repr(*x)))
            .collect();
        assert_eq!(text.lines().count(), floats.len());
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn strings_match_python() {
        assert_eq!(s("abc"), "'abc'");
        assert_eq!(s("it's"), "\"it's\"");
        assert_eq!(s("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(s("a\nb\t\\\x00\x7f"), "'a\\nb\\t\\\\\\x00\\x7f'");
        assert_eq!(s("é€\u{a0}\u{200b}\u{e000}😀"), "'é€\\xa0\\u200b\\ue000😀'");
        assert_eq!(s("\u{e0001}"), "'\\U000e0001'");
        let mut o = Vec::new();
        write_bytes(b"a'\x00\xff", &mut o);
        assert_eq!(o, b"b\"a'\\x00\\xff\"");
    }

    /// The size of a repr is known before it is written, to the byte for everything but big ints
    /// and `<call>`s, and a repr over `max_output` is refused without writing (nor reserving) any
    /// of it.
    #[test]
    fn repr_is_sized_exactly_before_it_is_written() {
        use crate::pickle::Framing;
        use crate::pickle::{Event, Limits, PickleStream};
        let script = r#"
import pickle, datetime, decimal, fractions, collections, uuid
values = [
    None, True, False, 0, -7, 2**62, -2**63, 1.5, -0.0, 1e16, 1.5e-07, float('inf'), float('nan'),
    1+2j, -0j, 2j, 'plain', "it's", 'both \'"', '\n\t\\ \x00 \x7f \xa0 é \u2028 \U0001f600',
    '\ud800 \udfff x', b'', b"it's", b'\x00\xff\\', bytearray(b"a'b"), bytearray(),
    [], [1], (), (1,), (1, 2), {}, {'a': [1, (2,)], 3: None}, set(), {1, 2, 3}, frozenset(),
    frozenset({1.5, (1, 2)}), [[[]]], {'k': {'k': {}}},
    datetime.datetime(2024, 2, 29, 23, 59, 1, 5), datetime.date(1, 1, 1), datetime.time(3, 4),
    datetime.timedelta(days=-1, seconds=5), datetime.timezone.utc, decimal.Decimal('-1.10'),
    fractions.Fraction(-3, 9), collections.OrderedDict([(1, 'a')]), collections.Counter('abca'),
    collections.defaultdict(list, {1: []}), collections.deque([1, 2], maxlen=5), range(1, 9, 2),
    slice(None, 3), uuid.UUID(int=7), ..., NotImplemented, int, complex,
]
for v in values:
    for p in range(6):
        b = pickle.dumps(v, p)
        print(b.hex(), repr(pickle.loads(b)), sep='\t')
"#;
        let out = crate::pickle::python(script);
        let mut n = 0;
        for line in out.lines() {
            let (h, want) = line.split_once('\t').unwrap();
            let mut s = PickleStream::new(Framing::Stop, Limits::default());
            s.push(&hex::decode(h).unwrap());
            let Some(Event::Message(m)) = s.next_event() else {
                panic!("{h} does not decode")
            };
            assert_eq!(m.repr(), want, "{h}");
            assert_eq!(m.repr_bound(m.root), Ok(want.len() as u64), "{want} ({h})");
            n += 1;
        }
        assert_eq!(n, 57 * 6);

        // [s, s, s, s] with s a shared 100-byte str: the repr is 4 * 102 + 2 * 3 + 2 = 416 bytes.
        let mut p = b"\x80\x04(\x8c\x64".to_vec();
        p.extend([b'x'; 100]);
        p.extend_from_slice(b"\x94h\x00h\x00h\x00l.");
        for (max, shown) in [(416, true), (415, false)] {
            let mut s = PickleStream::new(
                Framing::Stop,
                Limits {
                    max_output: max,
                    ..Limits::default()
                },
            );
            s.push(&p);
            let Some(Event::Message(m)) = s.next_event() else {
                panic!("does not decode")
            };
            let mut out = Vec::new();
            let r = m.write_repr(&mut out);
            if shown {
                assert_eq!((r, out.len()), (Ok(()), 416));
            } else {
                assert_eq!(r, Err(ReprError::TooLarge(max)));
                assert_eq!(out.capacity(), 0, "written before it was refused");
            }
        }
    }

    #[test]
    fn complex_matches_python() {
        let c = |re, im| {
            let mut o = Vec::new();
            write_complex(re, im, &mut o);
            String::from_utf8(o).unwrap()
        };
        assert_eq!(c(1.0, 2.0), "(1+2j)");
        assert_eq!(c(0.0, 2.0), "2j");
        assert_eq!(c(-0.0, -1.0), "(-0-1j)");
        assert_eq!(c(1.5, f64::NAN), "(1.5+nanj)");
    }

    /// Python is the oracle: random values, pickled by python3 at every protocol, must print here
    /// exactly as `repr(pickle.loads(...))` does there.
    mod oracle {
        use crate::pickle::stream::{Event, Framing, PickleStream};
        use crate::pickle::Limits;
        use proptest::prelude::*;
        use std::io::Write;
        use std::process::{Command, Stdio};

        /// A Python literal, as source text.
        fn literal() -> impl Strategy<Value = String> {
            let leaf = prop_oneof![
                Just("None".to_string()),
                any::<bool>().prop_map(|b| if b { "True" } else { "False" }.to_string()),
                any::<i64>().prop_map(|i| i.to_string()),
                "-?[1-9][0-9]{18,60}",
                any::<u64>().prop_map(|bits| {
                    let f = f64::from_bits(bits);
                    if f.is_nan() {
                        "float('nan')".to_string()
                    } else if f.is_infinite() {
                        if f > 0.0 {
                            "float('inf')"
                        } else {
                            "float('-inf')"
                        }
                        .to_string()
                    } else {
                        format!("{f:?}")
                    }
                }),
                prop_oneof![
                    Just(1.5e-7),
                    Just(1e16),
                    Just(0.1),
                    Just(-0.0),
                    Just(1e22),
                    Just(123456.789)
                ]
                .prop_map(|f: f64| format!("{f:?}")),
                proptest::collection::vec(
                    prop_oneof![
                        any::<char>().prop_map(|c| c as u32),
                        0xd800u32..0xe000,
                        0u32..0x80,
                        0x80u32..0x800
                    ],
                    0..12
                )
                .prop_map(|cs| {
                    let body: String = cs.iter().map(|c| format!("\\U{c:08x}")).collect();
                    format!("'{body}'")
                }),
                "[ -~]{0,12}".prop_map(|t| format!("{t:?}")),
                proptest::collection::vec(any::<u8>(), 0..12).prop_map(|b| {
                    let body: String = b.iter().map(|c| format!("\\x{c:02x}")).collect();
                    format!("b'{body}'")
                }),
                proptest::collection::vec(any::<u8>(), 0..6).prop_map(|b| {
                    let body: String = b.iter().map(|c| format!("\\x{c:02x}")).collect();
                    format!("bytearray(b'{body}')")
                }),
                proptest::collection::btree_set(0u8..8, 0..6).prop_map(|s| {
                    let items: Vec<String> = s.iter().map(|i| i.to_string()).collect();
                    if items.is_empty() {
                        "set()".into()
                    } else {
                        format!("{{{}}}", items.join(", "))
                    }
                }),
                proptest::collection::btree_set(0u8..8, 0..4).prop_map(|s| {
                    let items: Vec<String> = s.iter().map(|i| i.to_string()).collect();
                    format!("frozenset([{}])", items.join(", "))
                }),
                (any::<i32>(), any::<i32>()).prop_map(|(a, b)| format!("complex({a}, {b})")),
            ];
            leaf.prop_recursive(4, 40, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..6)
                        .prop_map(|v| format!("[{}]", v.join(", "))),
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(|v| {
                        if v.len() == 1 {
                            format!("({},)", v[0])
                        } else {
                            format!("({})", v.join(", "))
                        }
                    }),
                    proptest::collection::vec(("[a-z'\"]{0,5}", inner.clone()), 0..5).prop_map(
                        |kv| {
                            let items: Vec<String> =
                                kv.iter().map(|(k, v)| format!("{k:?}: {v}")).collect();
                            format!("{{{}}}", items.join(", "))
                        }
                    ),
                    inner
                        .clone()
                        .prop_map(|v| format!("(lambda d: [d, d, [d]])({v})")),
                    inner.prop_map(|v| format!(
                        "(lambda l: (l.append(l), l.append({v}), l)[2])([])"
                    )),
                ]
            })
        }

        /// For each literal, python3 prints one line per protocol: `HEX\tREPR`.
        fn python(lits: &[String]) -> Vec<(Vec<u8>, String)> {
            let script = "import pickle,sys\nfor line in sys.stdin:\n v = eval(line)\n for p in range(6):\n  b = pickle.dumps(v, p)\n  print(b.hex() + '\\t' + repr(pickle.loads(b)))\n";
            let mut child = Command::new("python3")
                .args(["-c", script])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("python3 is needed for the oracle tests");
            let mut input = lits.join("\n");
            input.push('\n');
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "python3 failed on {lits:?}");
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| {
                    let (h, r) = l.split_once('\t').unwrap();
                    (hex::decode(h).unwrap(), r.to_string())
                })
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]

            #[test]
            fn repr_equals_python(lits in proptest::collection::vec(literal(), 1..12)) {
                let cases = python(&lits);
                prop_assert_eq!(cases.len(), lits.len() * 6);
                // All pickles in one stream, split into awkward reads.
                let mut all = Vec::new();
                for (p, _) in &cases {
                    all.extend_from_slice(p);
                }
                let mut s = PickleStream::new(Framing::Stop, Limits::default());
                let mut got = Vec::new();
                for chunk in all.chunks(7) {
                    s.push(chunk);
                    while let Some(e) = s.next_event() {
                        got.push(e);
                    }
                }
                prop_assert!(s.finish().is_none());
                prop_assert_eq!(got.len(), cases.len());
                for (i, (e, (p, want))) in got.iter().zip(&cases).enumerate() {
                    match e {
                        Event::Message(m) => {
                            prop_assert_eq!(
                                &m.repr(), want, "literal {} protocol {} pickle {}", &lits[i / 6], i % 6, hex::encode(p)
                            );
                            let bound = m.repr_bound(m.root).unwrap();
                            prop_assert!(bound >= want.len() as u64, "bound {} for {}", bound, want);
                        }
                        other => prop_assert!(false, "{other:?} for {}", &lits[i / 6]),
                    }
                }
            }
        }
    }
}
