//! Python's `repr()`, written straight into a byte buffer: str and bytes quoting and escapes, floats
//! (shortest round trip, Python's switch to exponent form), ints of any size, containers, and
//! recursion shown as `[...]`, exactly as CPython 3.11 prints them.
//!
//! What Python cannot print because nothing was imported or called is shown in angle brackets,
//! which no Python literal starts with:
//! - a global on its own: `<global os.system>`;
//! - a call (REDUCE, INST, OBJ): `<call os.system('echo hi')>`;
//! - an instance made by NEWOBJ / NEWOBJ_EX: `<new __main__.Point(1, 2)>`, with keyword arguments as
//!   `**{'k': v}`;
//! - then, when the pickle gives them, ` state=REPR` (BUILD), ` items=[...]` (APPEND on the object)
//!   and ` dictitems={...}` (SETITEM on the object), before the closing `>`.
//!
//! Sets print in the order their items were pickled (Python's own order depends on hashing).
//! Nesting is limited (`Limits::max_depth`) and so is the size of one repr (`Limits::max_output`),
//! because shared sub-objects are printed in full each time they appear, as Python does.

use std::fmt;

use super::decode::{decode_char, Decoded, Id, MakeKind, Obj};
use super::unicode_table::NON_PRINTABLE;

/// Why a decoded pickle cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReprError {
    /// Nested deeper than the limit (Python itself raises RecursionError at about this depth).
    TooDeep(usize),
    /// The repr would be larger than the limit (shared sub-objects repeated).
    TooLarge(usize),
}

impl fmt::Display for ReprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReprError::TooDeep(n) => write!(f, "nested deeper than {n} levels"),
            ReprError::TooLarge(n) => write!(
                f,
                "repr longer than {n} bytes (shared sub-objects are printed in full each time)"
            ),
        }
    }
}

impl std::error::Error for ReprError {}

impl Decoded {
    /// Appends Python's repr of the value to `out`. On error `out` is left as it was.
    pub fn write_repr(&self, out: &mut Vec<u8>) -> Result<(), ReprError> {
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

struct Writer<'a> {
    d: &'a Decoded,
    out: &'a mut Vec<u8>,
    limit: usize,
    /// Containers being printed (Python's Py_ReprEnter); empty when nothing is shared.
    active: Vec<bool>,
}

type W = Result<(), ReprError>;

impl Writer<'_> {
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
            Obj::Big(b) => self.out.extend_from_slice(b.to_string().as_bytes()),
            Obj::Float(f) => write_float(*f, true, false, self.out),
            Obj::Complex(re, im) => write_complex(*re, *im, self.out),
            Obj::Str(s) => write_str(d.bytes(*s), self.out),
            Obj::Bytes(s) => write_bytes(d.bytes(*s), self.out),
            Obj::ByteArray(s) => {
                self.out.extend_from_slice(b"bytearray(");
                write_bytes_as(d.bytes(*s), true, self.out);
                self.out.push(b')');
            }
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

const HEX: &[u8; 16] = b"0123456789abcdef";

fn quote_for(b: &[u8]) -> u8 {
    if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    }
}

fn escape_ascii(c: u8, quote: u8, out: &mut Vec<u8>) {
    match c {
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\t' => out.extend_from_slice(b"\\t"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        c if c == quote => {
            out.push(b'\\');
            out.push(c);
        }
        0x20..=0x7e => out.push(c),
        _ => out.extend_from_slice(&[b'\\', b'x', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]),
    }
}

/// Whether an ASCII byte is copied as is inside quotes `quote`.
#[inline]
fn plain(c: u8, quote: u8) -> bool {
    (0x20..0x7f).contains(&c) && c != b'\\' && c != quote
}

/// A bytes literal: `b'...'`.
pub fn write_bytes(b: &[u8], out: &mut Vec<u8>) {
    write_bytes_as(b, false, out)
}

/// A bytes literal; `bytearray` escapes `'` even inside `"` quotes, as CPython's bytearray repr does.
fn write_bytes_as(b: &[u8], bytearray: bool, out: &mut Vec<u8>) {
    let q = quote_for(b);
    out.reserve(b.len() + 3);
    out.push(b'b');
    out.push(q);
    let mut i = 0;
    while i < b.len() {
        let run = b[i..]
            .iter()
            .take_while(|&&c| plain(c, q) && !(bytearray && c == b'\''))
            .count();
        out.extend_from_slice(&b[i..i + run]);
        i += run;
        if i < b.len() {
            if bytearray && b[i] == b'\'' {
                out.extend_from_slice(b"\\'");
                i += 1;
                continue;
            }
            escape_ascii(b[i], q, out);
            i += 1;
        }
    }
    out.push(q);
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
    let q = quote_for(b);
    out.reserve(b.len() + 2);
    out.push(q);
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|&&c| plain(c, q)).count();
        out.extend_from_slice(&b[i..i + run]);
        i += run;
        let Some(&c) = b.get(i) else { break };
        if c < 0x80 {
            escape_ascii(c, q, out);
            i += 1;
            continue;
        }
        let (cp, len) = decode_char(b, i).unwrap_or((0xfffd, 1));
        if is_printable(cp) {
            out.extend_from_slice(&b[i..i + len]);
        } else if cp < 0x100 {
            out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[(cp >> 4) as usize],
                HEX[(cp & 15) as usize],
            ]);
        } else if cp < 0x10000 {
            out.extend_from_slice(b"\\u");
            for k in (0..4).rev() {
                out.push(HEX[((cp >> (4 * k)) & 15) as usize]);
            }
        } else {
            out.extend_from_slice(b"\\U");
            for k in (0..8).rev() {
                out.push(HEX[((cp >> (4 * k)) & 15) as usize]);
            }
        }
        i += len;
    }
    out.push(q);
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
        use crate::cli::Framing;
        use crate::pickle::stream::{Event, PickleStream};
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
                        Event::Message(m) => prop_assert_eq!(
                            &m.repr(), want, "literal {} protocol {} pickle {}", &lits[i / 6], i % 6, hex::encode(p)
                        ),
                        other => prop_assert!(false, "{other:?} for {}", &lits[i / 6]),
                    }
                }
            }
        }
    }
}
