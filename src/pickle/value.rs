//! A Python object as a tree: what the literal parser produces, what the encoder writes, and what typed
//! consumers (the lab handshake) read out of a decoded pickle.

use std::fmt;

use num_bigint::BigInt;

/// A Python value. Dicts and sets keep the order their items were given in (Python's insertion order).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    /// An int that fits in 64 bits.
    Int(i64),
    /// An int that does not fit in 64 bits.
    BigInt(BigInt),
    Float(f64),
    Str(PyStr),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Set(Vec<Value>),
    FrozenSet(Vec<Value>),
    /// A reference to a global (`module.name`): shown, never imported.
    Global {
        module: String,
        name: String,
    },
    /// A call a pickle asks for (REDUCE, NEWOBJ, BUILD...): shown, never made.
    Call {
        callable: Box<Value>,
        args: Box<Value>,
    },
}

impl Value {
    /// A complex number: Python pickles it as the call `builtins.complex(re, im)`, and that is how
    /// it is represented here too.
    pub fn complex(re: f64, im: f64) -> Value {
        Value::Call {
            callable: Box::new(Value::Global {
                module: "builtins".into(),
                name: "complex".into(),
            }),
            args: Box::new(Value::Tuple(vec![Value::Float(re), Value::Float(im)])),
        }
    }

    /// The parts of a complex number made by [`Value::complex`].
    pub fn as_complex(&self) -> Option<(f64, f64)> {
        let Value::Call { callable, args } = self else {
            return None;
        };
        match (&**callable, &**args) {
            (Value::Global { module, name }, Value::Tuple(a))
                if module == "builtins" && name == "complex" =>
            {
                match a.as_slice() {
                    [Value::Float(re), Value::Float(im)] => Some((*re, *im)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `...` (Ellipsis), a global of `builtins`.
    pub fn ellipsis() -> Value {
        Value::Global {
            module: "builtins".into(),
            name: "Ellipsis".into(),
        }
    }

    /// The value of `key` in a dict whose keys are strings.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(items) => items.iter().find_map(|(k, v)| match k {
                Value::Str(s) if s == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }
}

/// A Python str. Python's str may hold lone surrogates (`'\ud800'`), which a Rust `String` cannot,
/// so this holds the bytes CPython's pickle writes for it: UTF-8, each surrogate encoded on its own
/// in three bytes (the `'surrogatepass'` error handler). Text without surrogates is plain UTF-8,
/// and `PyStr::from("...")` makes one from a `&str`.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct PyStr(Vec<u8>);

impl PyStr {
    /// The bytes, UTF-8 with lone surrogates encoded as `'surrogatepass'` does.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text, unless it holds a surrogate.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Bytes already checked to be UTF-8 with surrogates allowed (what the decoder's arena holds).
    pub(crate) fn from_surrogatepass(bytes: Vec<u8>) -> PyStr {
        PyStr(bytes)
    }

    pub fn push(&mut self, ch: char) {
        let mut b = [0u8; 4];
        self.0.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
    }

    /// Appends a code point, which may be a surrogate (as `'\ud800'` is); above U+10FFFF it
    /// returns false and appends nothing.
    pub fn push_code_point(&mut self, c: u32) -> bool {
        match char::from_u32(c) {
            Some(ch) => self.push(ch),
            None if (0xd800..=0xdfff).contains(&c) => self.0.extend_from_slice(&[
                0xe0 | (c >> 12) as u8,
                0x80 | ((c >> 6) & 0x3f) as u8,
                0x80 | (c & 0x3f) as u8,
            ]),
            None => return false,
        }
        true
    }

    /// The code points, surrogates included.
    pub fn code_points(&self) -> impl Iterator<Item = u32> + '_ {
        let mut i = 0;
        std::iter::from_fn(move || {
            let (c, n) = super::decode::decode_char(&self.0, i)?;
            i += n;
            Some(c)
        })
    }
}

impl From<&str> for PyStr {
    fn from(s: &str) -> PyStr {
        PyStr(s.as_bytes().to_vec())
    }
}

impl From<String> for PyStr {
    fn from(s: String) -> PyStr {
        PyStr(s.into_bytes())
    }
}

impl PartialEq<str> for PyStr {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// Python's repr: `'a\ud800'`.
impl fmt::Debug for PyStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        super::repr::write_str(&self.0, &mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

/// The text, a surrogate shown as U+FFFD.
impl fmt::Display for PyStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}
