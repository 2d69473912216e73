//! A Python object as a tree: what the literal parser produces, what the encoder writes, and what typed
//! consumers (the lab handshake) read out of a decoded pickle.

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
    Str(String),
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
