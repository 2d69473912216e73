//! Writes [`Value`]s as pickles of protocols 0 to 5, byte for byte as CPython 3.11's `pickle.dumps`
//! writes the same value: memo entries where the C pickler makes them, FRAME at protocol 4+ (only for
//! frames of 4 bytes or more, split at 64 KiB), the smallest int and str opcodes, `set`/`frozenset` and
//! `bytes` through their reduce forms at the protocols that lack opcodes for them.
//!
//! Equal str, bytes and constant tuples are written once and referenced from the memo afterwards, as
//! happens in Python when the value comes from one literal (the compiler merges equal constants).
//! Set elements are written in the order given (Python's own order depends on hashing, so only the
//! loaded value is comparable). serde-pickle writes protocols 2 and 3 only and sorts dict keys, so it
//! cannot produce the lab's protocol-4 messages: hence this encoder.

use std::collections::HashMap;

use num_bigint::BigInt;

use super::Value;

/// Why a value cannot be pickled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const FRAME_SIZE_MIN: usize = 4;
const FRAME_SIZE_TARGET: usize = 64 * 1024;
const BATCHSIZE: usize = 1000;

/// Pickles `value` with `protocol` (0 to 5).
pub fn encode(value: &Value, protocol: u8) -> Result<Vec<u8>, EncodeError> {
    if protocol > 5 {
        return Err(EncodeError(format!(
            "pickle protocol {protocol} does not exist (0 to 5)"
        )));
    }
    let mut p = Pickler {
        proto: protocol,
        out: Vec::with_capacity(64),
        frame_start: None,
        memo: HashMap::new(),
        memo_len: 0,
        depth: 0,
    };
    if protocol >= 2 {
        p.out.extend_from_slice(&[0x80, protocol]);
    }
    if protocol >= 4 {
        p.start_frame();
    }
    p.save(value)?;
    p.out.push(b'.');
    p.commit_frame();
    Ok(p.out)
}

/// The memo key of a value written once and referenced afterwards.
#[derive(Hash, PartialEq, Eq)]
enum MemoKey {
    Str(String),
    Bytes(Vec<u8>),
    /// A constant tuple, by its protocol-independent text form.
    Tuple(String),
    Global(String),
}

struct Pickler {
    proto: u8,
    out: Vec<u8>,
    frame_start: Option<usize>,
    memo: HashMap<MemoKey, u32>,
    memo_len: u32,
    depth: usize,
}

/// Deepest value accepted (the literal parser stops well before this).
const MAX_DEPTH: usize = 1000;

impl Pickler {
    fn start_frame(&mut self) {
        self.frame_start = Some(self.out.len());
        self.out.extend_from_slice(&[0x95, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    fn commit_frame(&mut self) {
        let Some(start) = self.frame_start.take() else {
            return;
        };
        let len = self.out.len() - start - 9;
        if len >= FRAME_SIZE_MIN {
            self.out[start + 1..start + 9].copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.out.drain(start..start + 9);
        }
    }

    /// After each opcode: a frame that reached its target size is closed and a new one opened.
    fn boundary(&mut self) {
        if let Some(start) = self.frame_start {
            if self.out.len() - start - 9 >= FRAME_SIZE_TARGET {
                self.commit_frame();
                self.start_frame();
            }
        }
    }

    /// Writes an opcode with a large payload: big payloads go outside frames, as CPython does.
    fn write_payload(&mut self, header: &[u8], payload: &[u8]) {
        if self.frame_start.is_some() && payload.len() >= FRAME_SIZE_TARGET {
            self.commit_frame();
            self.out.extend_from_slice(header);
            self.out.extend_from_slice(payload);
            self.start_frame();
        } else {
            self.out.extend_from_slice(header);
            self.out.extend_from_slice(payload);
        }
    }

    fn memoize(&mut self, key: Option<MemoKey>) {
        let idx = self.memo_len;
        self.memo_len += 1;
        if let Some(k) = key {
            self.memo.insert(k, idx);
        }
        if self.proto >= 4 {
            self.out.push(0x94);
        } else if self.proto >= 1 {
            if idx < 256 {
                self.out.extend_from_slice(&[b'q', idx as u8]);
            } else {
                self.out.push(b'r');
                self.out.extend_from_slice(&idx.to_le_bytes());
            }
        } else {
            self.out.extend_from_slice(format!("p{idx}\n").as_bytes());
        }
        self.boundary();
    }

    /// Writes a memo reference if `key` was written before; returns whether it did.
    fn memo_get(&mut self, key: &MemoKey) -> bool {
        let Some(&idx) = self.memo.get(key) else {
            return false;
        };
        if self.proto >= 1 {
            if idx < 256 {
                self.out.extend_from_slice(&[b'h', idx as u8]);
            } else {
                self.out.push(b'j');
                self.out.extend_from_slice(&idx.to_le_bytes());
            }
        } else {
            self.out.extend_from_slice(format!("g{idx}\n").as_bytes());
        }
        self.boundary();
        true
    }

    fn op(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        self.boundary();
    }

    fn save(&mut self, v: &Value) -> Result<(), EncodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(EncodeError(format!(
                "nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let r = self.save_inner(v);
        self.depth -= 1;
        r
    }

    fn save_inner(&mut self, v: &Value) -> Result<(), EncodeError> {
        match v {
            Value::None => self.op(b"N"),
            Value::Bool(b) => {
                if self.proto >= 2 {
                    self.op(if *b { &[0x88] } else { &[0x89] });
                } else {
                    self.op(if *b { b"I01\n" } else { b"I00\n" });
                }
            }
            Value::Int(i) => self.save_int(*i),
            Value::BigInt(i) => self.save_bigint(i),
            Value::Float(f) => {
                if self.proto >= 1 {
                    let mut b = vec![b'G'];
                    b.extend_from_slice(&f.to_be_bytes());
                    self.op(&b);
                } else {
                    let mut text = Vec::new();
                    super::repr::push_float(&mut text, *f);
                    let mut b = vec![b'F'];
                    b.extend_from_slice(&text);
                    b.push(b'\n');
                    self.op(&b);
                }
            }
            Value::Str(s) => self.save_str(s),
            Value::Bytes(b) => self.save_bytes(b)?,
            Value::ByteArray(b) => {
                if self.proto >= 5 {
                    let mut h = vec![0x96];
                    h.extend_from_slice(&(b.len() as u64).to_le_bytes());
                    self.write_payload(&h, b);
                    self.boundary();
                    self.memoize(None);
                } else {
                    return Err(EncodeError("bytearray needs pickle protocol 5 here".into()));
                }
            }
            Value::Tuple(items) => self.save_tuple(v, items)?,
            Value::List(items) => {
                self.op(if self.proto >= 1 { b"]" } else { b"(l" });
                self.memoize(None);
                self.batch_appends(items)?;
            }
            Value::Dict(entries) => {
                self.op(if self.proto >= 1 { b"}" } else { b"(d" });
                self.memoize(None);
                self.batch_setitems(entries)?;
            }
            Value::Set(items) => {
                if self.proto >= 4 {
                    self.op(&[0x8f]);
                    self.memoize(None);
                    for chunk in items.chunks(BATCHSIZE) {
                        self.op(b"(");
                        for item in chunk {
                            self.save(item)?;
                        }
                        self.op(&[0x90]);
                    }
                } else {
                    self.save_reduce_collection("set", items)?;
                }
            }
            Value::FrozenSet(items) => {
                if self.proto >= 4 {
                    self.op(b"(");
                    for item in items {
                        self.save(item)?;
                    }
                    self.op(&[0x91]);
                    self.memoize(None);
                } else {
                    self.save_reduce_collection("frozenset", items)?;
                }
            }
            Value::Global { .. } | Value::Call { .. } => {
                return Err(EncodeError(
                    "globals and calls cannot be sent as values".into(),
                ))
            }
        }
        Ok(())
    }

    fn save_int(&mut self, i: i64) {
        if i32::try_from(i).is_ok() {
            if self.proto >= 1 {
                if (0..256).contains(&i) {
                    self.op(&[b'K', i as u8]);
                } else if (0..65536).contains(&i) {
                    self.op(&[b'M', i as u8, (i >> 8) as u8]);
                } else {
                    let mut b = vec![b'J'];
                    b.extend_from_slice(&(i as i32).to_le_bytes());
                    self.op(&b);
                }
            } else {
                self.op(format!("I{i}\n").as_bytes());
            }
            return;
        }
        self.save_bigint(&BigInt::from(i));
    }

    fn save_bigint(&mut self, i: &BigInt) {
        if let Ok(small) = i32::try_from(i) {
            return self.save_int(i64::from(small));
        }
        if self.proto >= 2 {
            let bytes = i.to_signed_bytes_le();
            let mut b = Vec::with_capacity(bytes.len() + 5);
            if bytes.len() < 256 {
                b.extend_from_slice(&[0x8a, bytes.len() as u8]);
            } else {
                b.push(0x8b);
                b.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            }
            b.extend_from_slice(&bytes);
            self.op(&b);
        } else {
            self.op(format!("L{i}L\n").as_bytes());
        }
    }

    fn save_str(&mut self, s: &str) {
        let key = MemoKey::Str(s.to_string());
        if self.memo_get(&key) {
            return;
        }
        if self.proto >= 1 {
            let b = s.as_bytes();
            let header = if b.len() < 256 && self.proto >= 4 {
                vec![0x8c, b.len() as u8]
            } else if b.len() <= u32::MAX as usize {
                let mut h = vec![b'X'];
                h.extend_from_slice(&(b.len() as u32).to_le_bytes());
                h
            } else {
                let mut h = vec![0x8d];
                h.extend_from_slice(&(b.len() as u64).to_le_bytes());
                h
            };
            self.write_payload(&header, b);
            self.boundary();
        } else {
            let mut b = vec![b'V'];
            for c in s.chars() {
                let v = c as u32;
                if v >= 0x10000 {
                    b.extend_from_slice(format!("\\U{v:08x}").as_bytes());
                } else if v >= 256 || matches!(v, 0x5c | 0 | 0x0a | 0x0d | 0x1a) {
                    b.extend_from_slice(format!("\\u{v:04x}").as_bytes());
                } else {
                    b.push(v as u8);
                }
            }
            b.push(b'\n');
            self.op(&b);
        }
        self.memoize(Some(key));
    }

    fn save_bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        let key = MemoKey::Bytes(b.to_vec());
        if self.memo_get(&key) {
            return Ok(());
        }
        if self.proto >= 3 {
            let header = if b.len() < 256 {
                vec![b'C', b.len() as u8]
            } else if b.len() <= u32::MAX as usize {
                let mut h = vec![b'B'];
                h.extend_from_slice(&(b.len() as u32).to_le_bytes());
                h
            } else {
                let mut h = vec![0x8e];
                h.extend_from_slice(&(b.len() as u64).to_le_bytes());
                h
            };
            self.write_payload(&header, b);
            self.boundary();
            self.memoize(Some(key));
            return Ok(());
        }
        // Protocols 0 to 2 have no bytes opcode: Python writes _codecs.encode(latin-1 text, 'latin1'),
        // or bytes() for b''.
        if b.is_empty() {
            self.save_global("__builtin__", "bytes");
            self.op(if self.proto >= 1 { b")" } else { b"(t" });
        } else {
            self.save_global("_codecs", "encode");
            let text: String = b.iter().map(|&x| char::from(x)).collect();
            let args = Value::Tuple(vec![Value::Str(text), Value::Str("latin1".into())]);
            // The args tuple is built fresh, not a shared constant.
            self.save_tuple_items(&args)?;
        }
        self.op(b"R");
        self.memoize(Some(key));
        Ok(())
    }

    fn save_global(&mut self, module: &str, name: &str) {
        let (module, name) = if self.proto < 3 {
            (module.replace("builtins", "__builtin__"), name.to_string())
        } else {
            (module.replace("__builtin__", "builtins"), name.to_string())
        };
        let key = MemoKey::Global(format!("{module}.{name}"));
        if self.memo_get(&key) {
            return;
        }
        if self.proto >= 4 {
            self.save_str(&module);
            self.save_str(&name);
            self.op(&[0x93]);
        } else {
            self.op(format!("c{module}\n{name}\n").as_bytes());
        }
        self.memoize(Some(key));
    }

    /// `set(...)`/`frozenset(...)` before protocol 4: `builtins.set` REDUCE `([items],)`.
    fn save_reduce_collection(&mut self, name: &str, items: &[Value]) -> Result<(), EncodeError> {
        self.save_global("builtins", name);
        let list = Value::List(items.to_vec());
        if self.proto >= 2 {
            self.save(&list)?;
            self.op(&[0x85]);
        } else {
            self.op(b"(");
            self.save(&list)?;
            self.op(b"t");
        }
        self.memoize(None);
        self.op(b"R");
        self.memoize(None);
        Ok(())
    }

    fn save_tuple(&mut self, whole: &Value, items: &[Value]) -> Result<(), EncodeError> {
        if items.is_empty() {
            self.op(if self.proto >= 1 { b")" } else { b"(t" });
            return Ok(());
        }
        let key = constant_text(whole).map(MemoKey::Tuple);
        if let Some(k) = &key {
            if self.memo_get(k) {
                return Ok(());
            }
        }
        self.save_tuple_body(items)?;
        self.memoize(key);
        Ok(())
    }

    /// Writes a tuple's items and its closing opcode, memoizing it (not shared).
    fn save_tuple_items(&mut self, tuple: &Value) -> Result<(), EncodeError> {
        let Value::Tuple(items) = tuple else {
            return Err(EncodeError("not a tuple".into()));
        };
        self.save_tuple_body(items)?;
        self.memoize(None);
        Ok(())
    }

    fn save_tuple_body(&mut self, items: &[Value]) -> Result<(), EncodeError> {
        if items.len() <= 3 && self.proto >= 2 {
            for item in items {
                self.save(item)?;
            }
            self.op(&[0x84 + items.len() as u8]);
        } else {
            self.op(b"(");
            for item in items {
                self.save(item)?;
            }
            self.op(b"t");
        }
        Ok(())
    }

    fn batch_appends(&mut self, items: &[Value]) -> Result<(), EncodeError> {
        if self.proto == 0 {
            for item in items {
                self.save(item)?;
                self.op(b"a");
            }
            return Ok(());
        }
        for chunk in items.chunks(BATCHSIZE) {
            if chunk.len() == 1 {
                self.save(&chunk[0])?;
                self.op(b"a");
            } else {
                self.op(b"(");
                for item in chunk {
                    self.save(item)?;
                }
                self.op(b"e");
            }
        }
        Ok(())
    }

    fn batch_setitems(&mut self, entries: &[(Value, Value)]) -> Result<(), EncodeError> {
        if self.proto == 0 {
            for (k, v) in entries {
                self.save(k)?;
                self.save(v)?;
                self.op(b"s");
            }
            return Ok(());
        }
        for chunk in entries.chunks(BATCHSIZE) {
            if chunk.len() == 1 {
                self.save(&chunk[0].0)?;
                self.save(&chunk[0].1)?;
                self.op(b"s");
            } else {
                self.op(b"(");
                for (k, v) in chunk {
                    self.save(k)?;
                    self.save(v)?;
                }
                self.op(b"u");
            }
        }
        Ok(())
    }
}

/// A text key for a tuple made only of constants (what Python's compiler merges), else `None`.
fn constant_text(v: &Value) -> Option<String> {
    fn walk(v: &Value, out: &mut String) -> bool {
        match v {
            Value::None => out.push('N'),
            Value::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
            Value::Int(i) => out.push_str(&format!("i{i};")),
            Value::BigInt(i) => out.push_str(&format!("i{i};")),
            Value::Float(f) => out.push_str(&format!("f{};", f.to_bits())),
            Value::Str(s) => out.push_str(&format!("s{}:{s}", s.len())),
            Value::Bytes(b) => out.push_str(&format!("b{}:{}", b.len(), hex::encode(b))),
            Value::Tuple(items) => {
                out.push('(');
                for i in items {
                    if !walk(i, out) {
                        return false;
                    }
                }
                out.push(')');
            }
            _ => return false,
        }
        true
    }
    let mut s = String::new();
    walk(v, &mut s).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    #[test]
    fn lab_messages_are_byte_identical() {
        let welcome = Value::Dict(vec![(s("clientid"), Value::Int(60644))]);
        assert_eq!(
            hex::encode(encode(&welcome, 4).unwrap()),
            "80049512000000000000007d948c08636c69656e746964944de4ec732e"
        );
        assert_eq!(
            encode(&Value::Int(1), 4).unwrap(),
            [0x80, 0x04, 0x4b, 0x01, 0x2e]
        );
        let alice = Value::Dict(vec![
            (s("student_name"), s("Alice Brown")),
            (s("github_username"), s("abrown")),
            (s("sid"), Value::Int(123456789)),
        ]);
        let b = encode(&alice, 4).unwrap();
        assert_eq!(b.len(), 83);
        assert_eq!(
            hex::encode(&b),
            "80049548000000000000007d94288c0c73747564656e745f6e616d65948c0b416c6963652042726f776e94\
             8c0f6769746875625f757365726e616d65948c066162726f776e948c03736964944a15cd5b07752e"
        );
    }
}
