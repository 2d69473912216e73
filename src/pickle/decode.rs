//! A safe pickle decoder: runs the pickle machine (protocols 0 to 5) into an arena of objects, never
//! importing or calling anything.
//!
//! Objects live in an arena and refer to each other by index, so the memo shares objects the way
//! Python does: a dict memoized while empty and filled afterwards (`[d, d]`) is one object seen twice,
//! and self-referencing lists work. Nothing here recurses on the input, so no input can overflow the
//! stack; the mark stack, the stack and the arena are bounded by [`Limits`].
//!
//! Globals (GLOBAL, STACK_GLOBAL, INST, OBJ) become [`Obj::Global`]; calls (REDUCE, NEWOBJ, BUILD) become
//! [`Obj::Call`] records shown, never made, and a warning names each global. The few constructors
//! Python itself uses to pickle built-in types at old protocols (`set`, `frozenset`, `bytearray`,
//! `bytes` via `_codecs.encode`) are recognised and turned into those types.

use std::collections::HashMap;

use num_bigint::BigInt;

/// Limits enforced while decoding (and, for size, by the scanner before it).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest message, in bytes.
    pub max_message: usize,
    /// Deepest nesting shown or converted (Python's own repr gives up near 1000).
    pub max_depth: usize,
    /// Most objects (and open marks) one message may create.
    pub max_objects: usize,
    /// Longest repr of one message, in bytes (shared sub-objects can expand exponentially).
    pub max_repr: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 16 << 20,
            max_depth: 1000,
            max_objects: 4 << 20,
            max_repr: 64 << 20,
        }
    }
}

/// Index of an object in the arena.
pub type Id = u32;

/// An object built by a pickle.
#[derive(Debug, Clone)]
pub enum Obj {
    None,
    Bool(bool),
    Int(i64),
    BigInt(BigInt),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    Set(Vec<Id>),
    FrozenSet(Vec<Id>),
    /// `module.name`, named but never imported.
    Global {
        module: String,
        name: String,
    },
    /// `callable(*args)` asked for by REDUCE/NEWOBJ/INST/OBJ, never made; BUILD adds `state`.
    Call {
        callable: Id,
        args: Id,
        state: Option<Id>,
    },
}

/// A decoded pickle: its objects and the one at the top.
#[derive(Debug, Clone)]
pub struct Arena {
    pub objs: Vec<Obj>,
    pub root: Id,
    /// Globals the pickle named (`os.system`), for a warning.
    pub globals: Vec<String>,
}

/// Why a pickle could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(msg.into()))
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    objs: Vec<Obj>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    /// Memo entries with small keys (MEMOIZE numbers them 0, 1, 2...): indexed directly.
    memo_vec: Vec<Option<Id>>,
    /// Memo entries with large keys (PUT may use any number).
    memo: HashMap<u32, Id>,
    memo_count: usize,
    globals: Vec<String>,
    limits: Limits,
    /// For dicts and sets past [`INDEX_FROM`] entries: key hash to positions, so building a big one
    /// stays linear.
    index: HashMap<Id, HashMap<u64, Vec<u32>>>,
}

/// Containers smaller than this are searched linearly (cheaper than hashing for the usual small dict).
const INDEX_FROM: usize = 16;

/// Decodes one whole pickle (as delimited by the scanner).
pub fn decode(data: &[u8], limits: &Limits) -> Result<Arena, DecodeError> {
    let mut m = Machine {
        data,
        pos: 0,
        objs: Vec::with_capacity(16),
        stack: Vec::with_capacity(16),
        marks: Vec::new(),
        memo_vec: Vec::new(),
        memo: HashMap::new(),
        memo_count: 0,
        globals: Vec::new(),
        limits: *limits,
        index: HashMap::new(),
    };
    let root = m.run()?;
    Ok(Arena {
        objs: m.objs,
        root,
        globals: m.globals,
    })
}

impl Machine<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => err("truncated pickle"),
        }
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, n: usize) -> Result<u64, DecodeError> {
        let b = self.take(n)?;
        let mut v = 0u64;
        for (i, x) in b.iter().enumerate() {
            v |= u64::from(*x) << (8 * i);
        }
        Ok(v)
    }

    fn line(&mut self) -> Result<&[u8], DecodeError> {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => err("truncated pickle (a line without its newline)"),
        }
    }

    fn counted(&mut self, width: usize) -> Result<&[u8], DecodeError> {
        let len = self.uint(width)?;
        let len = usize::try_from(len).map_err(|_| DecodeError("length too large".into()))?;
        self.take(len)
    }

    fn new_obj(&mut self, obj: Obj) -> Result<Id, DecodeError> {
        if self.objs.len() >= self.limits.max_objects {
            return err(format!("more than {} objects", self.limits.max_objects));
        }
        self.objs.push(obj);
        Ok((self.objs.len() - 1) as Id)
    }

    fn push(&mut self, obj: Obj) -> Result<(), DecodeError> {
        let id = self.new_obj(obj)?;
        self.stack.push(id);
        Ok(())
    }

    fn pop(&mut self) -> Result<Id, DecodeError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return err("stack underflow (an opcode found too few values)");
        }
        Ok(self.stack.pop().expect("checked above"))
    }

    fn top(&self) -> Result<Id, DecodeError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return err("stack underflow (an opcode found too few values)");
        }
        Ok(*self.stack.last().expect("checked above"))
    }

    /// Pops everything above the last MARK, and the mark.
    fn pop_mark(&mut self) -> Result<Vec<Id>, DecodeError> {
        let Some(mark) = self.marks.pop() else {
            return err("a MARK-delimited opcode without MARK");
        };
        Ok(self.stack.split_off(mark))
    }

    fn memo_put(&mut self, key: u32) -> Result<(), DecodeError> {
        let top = self.top()?;
        if self.memo_count >= self.limits.max_objects {
            return err("memo too large");
        }
        let k = key as usize;
        if k < self.memo_vec.len() + 1024 {
            if k >= self.memo_vec.len() {
                self.memo_vec.resize(k + 1, None);
            }
            if self.memo_vec[k].replace(top).is_none() {
                self.memo_count += 1;
            }
        } else if self.memo.insert(key, top).is_none() {
            self.memo_count += 1;
        }
        Ok(())
    }

    fn memo_get(&mut self, key: u32) -> Result<(), DecodeError> {
        let found = match self.memo_vec.get(key as usize) {
            Some(Some(id)) => Some(*id),
            _ => self.memo.get(&key).copied(),
        };
        match found.as_ref() {
            Some(&id) => {
                self.stack.push(id);
                Ok(())
            }
            None => err(format!("memo key {key} was never stored")),
        }
    }

    fn run(&mut self) -> Result<Id, DecodeError> {
        loop {
            let op = self.byte()?;
            match op {
                0x80 => {
                    let proto = self.byte()?;
                    if proto > 5 {
                        return err(format!("unsupported pickle protocol {proto}"));
                    }
                }
                0x95 => {
                    // FRAME: only a hint for buffering; the opcodes follow inline.
                    self.uint(8)?;
                }
                b'.' => {
                    let root = self.pop()?;
                    if !self.stack.is_empty() || !self.marks.is_empty() {
                        return err("values left on the stack at STOP");
                    }
                    return Ok(root);
                }
                b'(' => {
                    if self.marks.len() >= self.limits.max_depth {
                        return err(format!(
                            "nesting deeper than {} levels",
                            self.limits.max_depth
                        ));
                    }
                    self.marks.push(self.stack.len());
                }
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let top = self.top()?;
                    self.stack.push(top);
                }
                b'N' => self.push(Obj::None)?,
                0x88 => self.push(Obj::Bool(true))?,
                0x89 => self.push(Obj::Bool(false))?,
                b'I' => {
                    let line = self.line()?.to_vec();
                    let obj = match &line[..] {
                        b"01" => Obj::Bool(true),
                        b"00" => Obj::Bool(false),
                        text => parse_int(text)?,
                    };
                    self.push(obj)?;
                }
                b'L' => {
                    let line = self.line()?.to_vec();
                    let text = line.strip_suffix(b"L").unwrap_or(&line);
                    let obj = parse_int(text)?;
                    self.push(obj)?;
                }
                b'J' => {
                    let v = self.uint(4)? as u32 as i32;
                    self.push(Obj::Int(i64::from(v)))?;
                }
                b'K' => {
                    let v = self.byte()?;
                    self.push(Obj::Int(i64::from(v)))?;
                }
                b'M' => {
                    let v = self.uint(2)?;
                    self.push(Obj::Int(v as i64))?;
                }
                0x8a | 0x8b => {
                    let width = if op == 0x8a { 1 } else { 4 };
                    let bytes = self.counted(width)?.to_vec();
                    self.push(long_from_le(&bytes))?;
                }
                b'F' => {
                    let line = self.line()?;
                    let text =
                        std::str::from_utf8(line).map_err(|_| DecodeError("bad FLOAT".into()))?;
                    let v = parse_py_float(text.trim())
                        .ok_or_else(|| DecodeError(format!("bad FLOAT {text:?}")))?;
                    self.push(Obj::Float(v))?;
                }
                b'G' => {
                    let b = self.take(8)?;
                    let v = f64::from_be_bytes(b.try_into().expect("8 bytes"));
                    self.push(Obj::Float(v))?;
                }
                b'S' => {
                    let line = self.line()?.to_vec();
                    let bytes = parse_py2_string(&line)?;
                    // Python 3 loads protocol-0 str as str, decoded as ASCII by default.
                    let s = String::from_utf8(bytes)
                        .map_err(|_| DecodeError("non-ASCII STRING".into()))?;
                    self.push(Obj::Str(s))?;
                }
                b'T' | b'U' => {
                    let width = if op == b'T' { 4 } else { 1 };
                    let bytes = self.counted(width)?.to_vec();
                    let s = String::from_utf8(bytes)
                        .map_err(|_| DecodeError("non-ASCII BINSTRING".into()))?;
                    self.push(Obj::Str(s))?;
                }
                b'V' => {
                    let line = self.line()?.to_vec();
                    let s = raw_unicode_unescape(&line)?;
                    self.push(Obj::Str(s))?;
                }
                b'X' | 0x8c | 0x8d => {
                    let width = match op {
                        b'X' => 4,
                        0x8c => 1,
                        _ => 8,
                    };
                    let bytes = self.counted(width)?;
                    let s = std::str::from_utf8(bytes)
                        .map_err(|_| DecodeError("a str that is not valid UTF-8".into()))?
                        .to_string();
                    self.push(Obj::Str(s))?;
                }
                b'B' | b'C' | 0x8e => {
                    let width = match op {
                        b'B' => 4,
                        b'C' => 1,
                        _ => 8,
                    };
                    let bytes = self.counted(width)?.to_vec();
                    self.push(Obj::Bytes(bytes))?;
                }
                0x96 => {
                    let bytes = self.counted(8)?.to_vec();
                    self.push(Obj::ByteArray(bytes))?;
                }
                b')' => self.push(Obj::Tuple(Vec::new()))?,
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Tuple(items))?;
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let floor = self.marks.last().copied().unwrap_or(0);
                    if self.stack.len() < floor + n {
                        return err("stack underflow (TUPLE1/2/3)");
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push(Obj::Tuple(items))?;
                }
                b']' => self.push(Obj::List(Vec::new()))?,
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::List(items))?;
                }
                b'}' => self.push(Obj::Dict(Vec::new()))?,
                b'd' => {
                    let items = self.pop_mark()?;
                    let id = self.new_obj(Obj::Dict(Vec::new()))?;
                    self.set_items(id, &items)?;
                    self.stack.push(id);
                }
                0x8f => self.push(Obj::Set(Vec::new()))?,
                0x91 => {
                    let items = self.pop_mark()?;
                    let id = self.new_obj(Obj::FrozenSet(Vec::new()))?;
                    self.add_items(id, &items)?;
                    self.stack.push(id);
                }
                b'a' => {
                    let item = self.pop()?;
                    let list = self.top()?;
                    self.append(list, &[item])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    let list = self.top()?;
                    self.append(list, &items)?;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let dict = self.top()?;
                    self.set_items(dict, &[k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let dict = self.top()?;
                    self.set_items(dict, &items)?;
                }
                0x90 => {
                    let items = self.pop_mark()?;
                    let set = self.top()?;
                    self.add_items(set, &items)?;
                }
                b'g' => {
                    let line = self.line()?;
                    let key = parse_memo_key(line)?;
                    self.memo_get(key)?;
                }
                b'h' => {
                    let key = u32::from(self.byte()?);
                    self.memo_get(key)?;
                }
                b'j' => {
                    let key = self.uint(4)? as u32;
                    self.memo_get(key)?;
                }
                b'p' => {
                    let line = self.line()?;
                    let key = parse_memo_key(line)?;
                    self.memo_put(key)?;
                }
                b'q' => {
                    let key = u32::from(self.byte()?);
                    self.memo_put(key)?;
                }
                b'r' => {
                    let key = self.uint(4)? as u32;
                    self.memo_put(key)?;
                }
                0x94 => {
                    let key = self.memo_count as u32;
                    self.memo_put(key)?;
                }
                b'c' => {
                    let module = text(self.line()?)?;
                    let name = text(self.line()?)?;
                    self.push_global(module, name)?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Obj::Str(module), Obj::Str(name)) =
                        (&self.objs[module as usize], &self.objs[name as usize])
                    else {
                        return err("STACK_GLOBAL needs two str");
                    };
                    let (module, name) = (module.clone(), name.clone());
                    self.push_global(module, name)?;
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let obj = self.call(callable, args)?;
                    self.stack.push(obj);
                }
                0x81 => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let obj = self.call(cls, args)?;
                    self.stack.push(obj);
                }
                0x92 => {
                    let kwargs = self.pop()?;
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let both = self.new_obj(Obj::Tuple(vec![args, kwargs]))?;
                    let obj = self.new_obj(Obj::Call {
                        callable: cls,
                        args: both,
                        state: None,
                    })?;
                    self.stack.push(obj);
                }
                b'b' => {
                    let state = self.pop()?;
                    let obj = self.top()?;
                    match &mut self.objs[obj as usize] {
                        Obj::Call { state: slot, .. } => *slot = Some(state),
                        _ => return err("BUILD on an object that is not a constructed instance"),
                    }
                }
                b'i' => {
                    let module = text(self.line()?)?;
                    let name = text(self.line()?)?;
                    let args = self.pop_mark()?;
                    self.push_global(module, name)?;
                    let cls = self.pop()?;
                    let args = self.new_obj(Obj::Tuple(args))?;
                    let obj = self.new_obj(Obj::Call {
                        callable: cls,
                        args,
                        state: None,
                    })?;
                    self.stack.push(obj);
                }
                b'o' => {
                    let mut items = self.pop_mark()?;
                    if items.is_empty() {
                        return err("OBJ without a class");
                    }
                    let cls = items.remove(0);
                    let args = self.new_obj(Obj::Tuple(items))?;
                    let obj = self.new_obj(Obj::Call {
                        callable: cls,
                        args,
                        state: None,
                    })?;
                    self.stack.push(obj);
                }
                b'P' | b'Q' => return err("persistent IDs are not supported"),
                0x82..=0x84 => return err("the extension registry (EXT1/2/4) is not supported"),
                0x97 | 0x98 => return err("out-of-band buffers are not supported"),
                other => return err(format!("unknown opcode 0x{other:02x}")),
            }
            if self.stack.len() > self.limits.max_objects {
                return err("stack too large");
            }
        }
    }

    fn push_global(&mut self, module: String, name: String) -> Result<(), DecodeError> {
        let full = format!("{module}.{name}");
        if !SAFE_CONSTRUCTORS.contains(&full.as_str()) && !self.globals.contains(&full) {
            self.globals.push(full);
        }
        self.push(Obj::Global { module, name })
    }

    /// REDUCE/NEWOBJ: builds the few built-in types Python pickles this way; records anything else.
    fn call(&mut self, callable: Id, args: Id) -> Result<Id, DecodeError> {
        if let Obj::Global { module, name } = &self.objs[callable as usize] {
            let full = format!("{module}.{name}");
            let args_v: Vec<Id> = match &self.objs[args as usize] {
                Obj::Tuple(items) => items.clone(),
                _ => Vec::new(),
            };
            let arg = |i: usize| args_v.get(i).map(|&id| &self.objs[id as usize]);
            let built = match (full.as_str(), args_v.len()) {
                ("builtins.set" | "__builtin__.set", 0) => Some(Obj::Set(Vec::new())),
                ("builtins.frozenset" | "__builtin__.frozenset", 0) => {
                    Some(Obj::FrozenSet(Vec::new()))
                }
                (
                    "builtins.set"
                    | "__builtin__.set"
                    | "builtins.frozenset"
                    | "__builtin__.frozenset",
                    1,
                ) => match arg(0) {
                    Some(Obj::List(items)) | Some(Obj::Tuple(items)) => {
                        let items = items.clone();
                        let frozen = full.ends_with("frozenset");
                        let id = self.new_obj(if frozen {
                            Obj::FrozenSet(Vec::new())
                        } else {
                            Obj::Set(Vec::new())
                        })?;
                        self.add_items(id, &items)?;
                        return Ok(id);
                    }
                    _ => None,
                },
                ("builtins.bytes" | "__builtin__.bytes", 0) => Some(Obj::Bytes(Vec::new())),
                ("builtins.bytearray" | "__builtin__.bytearray", 0) => {
                    Some(Obj::ByteArray(Vec::new()))
                }
                ("builtins.bytearray" | "__builtin__.bytearray", 1) => match arg(0) {
                    Some(Obj::Bytes(b)) => Some(Obj::ByteArray(b.clone())),
                    _ => None,
                },
                ("_codecs.encode", 2) | ("builtins.bytearray" | "__builtin__.bytearray", 2) => {
                    match (arg(0), arg(1)) {
                        (Some(Obj::Str(s)), Some(Obj::Str(enc))) if is_latin1(enc) => {
                            match latin1_bytes(s) {
                                Some(b) if full == "_codecs.encode" => Some(Obj::Bytes(b)),
                                Some(b) => Some(Obj::ByteArray(b)),
                                None => None,
                            }
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            if let Some(obj) = built {
                return self.new_obj(obj);
            }
        }
        self.new_obj(Obj::Call {
            callable,
            args,
            state: None,
        })
    }

    fn append(&mut self, list: Id, items: &[Id]) -> Result<(), DecodeError> {
        match &mut self.objs[list as usize] {
            Obj::List(v) => {
                v.extend_from_slice(items);
                Ok(())
            }
            // list subclasses pickled via NEWOBJ get APPENDS; keep the items visible as a call record.
            Obj::Call { .. } => Ok(()),
            _ => err("APPEND to something that is not a list"),
        }
    }

    fn set_items(&mut self, dict: Id, items: &[Id]) -> Result<(), DecodeError> {
        if items.len() % 2 != 0 {
            return err("SETITEMS with an odd number of values");
        }
        match &self.objs[dict as usize] {
            Obj::Dict(_) => {}
            // dict subclasses pickled via NEWOBJ get SETITEMS; the call record shows the class.
            Obj::Call { .. } => return Ok(()),
            _ => return err("SETITEM on something that is not a dict"),
        }
        for pair in items.chunks(2) {
            match self.find(dict, pair[0])? {
                // Python keeps the first key and its position, with the last value.
                Some(i) => {
                    if let Obj::Dict(entries) = &mut self.objs[dict as usize] {
                        entries[i].1 = pair[1];
                    }
                }
                None => {
                    if let Obj::Dict(entries) = &mut self.objs[dict as usize] {
                        entries.push((pair[0], pair[1]));
                    }
                    self.indexed(dict, pair[0])?;
                }
            }
        }
        Ok(())
    }

    fn add_items(&mut self, set: Id, items: &[Id]) -> Result<(), DecodeError> {
        if !matches!(self.objs[set as usize], Obj::Set(_) | Obj::FrozenSet(_)) {
            return err("ADDITEMS on something that is not a set");
        }
        for &item in items {
            if self.find(set, item)?.is_none() {
                if let Obj::Set(v) | Obj::FrozenSet(v) = &mut self.objs[set as usize] {
                    v.push(item);
                }
                self.indexed(set, item)?;
            }
        }
        Ok(())
    }

    /// The keys (dict) or elements (set) of a container.
    fn keys_of(&self, container: Id) -> Vec<Id> {
        match &self.objs[container as usize] {
            Obj::Dict(entries) => entries.iter().map(|(k, _)| *k).collect(),
            Obj::Set(v) | Obj::FrozenSet(v) => v.clone(),
            _ => Vec::new(),
        }
    }

    fn len_of(&self, container: Id) -> usize {
        match &self.objs[container as usize] {
            Obj::Dict(entries) => entries.len(),
            Obj::Set(v) | Obj::FrozenSet(v) => v.len(),
            _ => 0,
        }
    }

    fn key_at(&self, container: Id, i: usize) -> Id {
        match &self.objs[container as usize] {
            Obj::Dict(entries) => entries[i].0,
            Obj::Set(v) | Obj::FrozenSet(v) => v[i],
            _ => unreachable!("only dicts and sets are searched"),
        }
    }

    /// Where a key equal to `key` sits in the container, if anywhere.
    fn find(&mut self, container: Id, key: Id) -> Result<Option<usize>, DecodeError> {
        let len = self.len_of(container);
        if len < INDEX_FROM {
            // The usual small dict of str keys: compare in place, build a `Key` only when needed.
            let mut slow: Option<Key> = None;
            for i in 0..len {
                let other = self.key_at(container, i);
                let equal = match fast_eq(&self.objs, other, key) {
                    Some(eq) => eq,
                    None => {
                        if slow.is_none() {
                            slow = Some(hash_key(&self.objs, key)?);
                        }
                        key_eq(&self.objs, other, key, slow.as_ref().expect("just set"))
                    }
                };
                if equal {
                    return Ok(Some(i));
                }
            }
            // Refuse unhashable keys even when nothing was there to compare with.
            if slow.is_none() && !matches!(self.objs[key as usize], Obj::Str(_) | Obj::Int(_)) {
                hash_key(&self.objs, key)?;
            }
            return Ok(None);
        }
        let k = hash_key(&self.objs, key)?;
        if !self.index.contains_key(&container) {
            let mut table: HashMap<u64, Vec<u32>> = HashMap::new();
            for (i, id) in self.keys_of(container).into_iter().enumerate() {
                table
                    .entry(key_hash(&self.objs, id)?)
                    .or_default()
                    .push(i as u32);
            }
            self.index.insert(container, table);
        }
        let h = key_hash(&self.objs, key)?;
        let candidates = self.index[&container].get(&h).cloned().unwrap_or_default();
        Ok(candidates
            .into_iter()
            .map(|i| i as usize)
            .find(|&i| key_eq(&self.objs, self.key_at(container, i), key, &k)))
    }

    /// Records a key just added at the end of an indexed container.
    fn indexed(&mut self, container: Id, key: Id) -> Result<(), DecodeError> {
        if self.index.contains_key(&container) {
            let h = key_hash(&self.objs, key)?;
            let pos = (self.len_of(container) - 1) as u32;
            if let Some(table) = self.index.get_mut(&container) {
                table.entry(h).or_default().push(pos);
            }
        }
        Ok(())
    }
}

/// Equality of two keys when it can be told without building a [`Key`]: both str, both small ints,
/// both bytes, or a str against any non-str (never equal in Python).
fn fast_eq(objs: &[Obj], a: Id, b: Id) -> Option<bool> {
    match (&objs[a as usize], &objs[b as usize]) {
        (Obj::Str(x), Obj::Str(y)) => Some(x == y),
        (Obj::Int(x), Obj::Int(y)) => Some(x == y),
        (Obj::Bytes(x), Obj::Bytes(y)) => Some(x == y),
        (Obj::Str(_), Obj::Int(_) | Obj::Bytes(_) | Obj::None | Obj::Bool(_) | Obj::Float(_)) => {
            Some(false)
        }
        (Obj::Int(_) | Obj::Bytes(_) | Obj::None | Obj::Bool(_) | Obj::Float(_), Obj::Str(_)) => {
            Some(false)
        }
        _ => None,
    }
}

/// A hash consistent with [`key_eq`]: tuples hash their elements one level deep.
fn key_hash(objs: &[Obj], id: Id) -> Result<u64, DecodeError> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match hash_key(objs, id)? {
        Key::Tuple => {
            if let Obj::Tuple(items) | Obj::FrozenSet(items) = &objs[id as usize] {
                items.len().hash(&mut h);
                for &item in items {
                    match hash_key(objs, item) {
                        Ok(Key::Tuple) => item.hash(&mut h),
                        Ok(k) => k.hash(&mut h),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        k => k.hash(&mut h),
    }
    Ok(h.finish())
}

/// Built-in constructors whose use is not worth a warning.
const SAFE_CONSTRUCTORS: &[&str] = &[
    "builtins.set",
    "__builtin__.set",
    "builtins.frozenset",
    "__builtin__.frozenset",
    "builtins.bytearray",
    "__builtin__.bytearray",
    "builtins.bytes",
    "__builtin__.bytes",
    "_codecs.encode",
];

/// What a dict key or set element is, for Python's equality: numbers compare by value across int,
/// bool and float; strings, bytes and tuples by content. Unhashable types are refused as Python does.
#[derive(Debug, PartialEq, Hash)]
enum Key {
    None,
    Int(BigInt),
    Float(u64),
    Str(String),
    Bytes(Vec<u8>),
    /// Compared structurally by `key_eq`.
    Tuple,
    /// Compared by identity (globals, calls).
    Identity(Id),
}

fn hash_key(objs: &[Obj], id: Id) -> Result<Key, DecodeError> {
    Ok(match &objs[id as usize] {
        Obj::None => Key::None,
        Obj::Bool(b) => Key::Int(BigInt::from(*b as i64)),
        Obj::Int(i) => Key::Int(BigInt::from(*i)),
        Obj::BigInt(i) => Key::Int(i.clone()),
        Obj::Float(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 1e300 => {
            Key::Int(BigInt::from(*f as i128))
        }
        Obj::Float(f) => Key::Float(f.to_bits()),
        Obj::Str(s) => Key::Str(s.clone()),
        Obj::Bytes(b) => Key::Bytes(b.clone()),
        Obj::Tuple(_) | Obj::FrozenSet(_) => Key::Tuple,
        Obj::Global { .. } | Obj::Call { .. } => Key::Identity(id),
        Obj::List(_) => return err("unhashable type: 'list' used as a dict key or set element"),
        Obj::Dict(_) => return err("unhashable type: 'dict' used as a dict key or set element"),
        Obj::Set(_) => return err("unhashable type: 'set' used as a dict key or set element"),
        Obj::ByteArray(_) => {
            return err("unhashable type: 'bytearray' used as a dict key or set element")
        }
    })
}

/// Whether the existing key `a` equals the new key `b` (whose [`Key`] is `kb`).
fn key_eq(objs: &[Obj], a: Id, b: Id, kb: &Key) -> bool {
    if a == b {
        return true;
    }
    let Ok(ka) = hash_key(objs, a) else {
        return false;
    };
    match (&ka, kb) {
        (Key::Tuple, Key::Tuple) => match (&objs[a as usize], &objs[b as usize]) {
            (Obj::Tuple(x), Obj::Tuple(y)) | (Obj::FrozenSet(x), Obj::FrozenSet(y)) => {
                x.len() == y.len()
                    && x.iter().zip(y).all(|(&p, &q)| match hash_key(objs, q) {
                        // Shallow: nested tuples compare by identity, enough for keys Python writes.
                        Ok(Key::Tuple) => p == q,
                        Ok(kq) => key_eq(objs, p, q, &kq),
                        Err(_) => false,
                    })
            }
            _ => false,
        },
        _ => ka == *kb,
    }
}

fn text(line: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(line.to_vec()).map_err(|_| DecodeError("a name that is not UTF-8".into()))
}

fn parse_int(text: &[u8]) -> Result<Obj, DecodeError> {
    let s = std::str::from_utf8(text)
        .map_err(|_| DecodeError("bad INT".into()))?
        .trim();
    if let Ok(v) = s.parse::<i64>() {
        return Ok(Obj::Int(v));
    }
    s.parse::<BigInt>()
        .map(Obj::BigInt)
        .map_err(|_| DecodeError(format!("bad INT {s:?}")))
}

fn long_from_le(bytes: &[u8]) -> Obj {
    if bytes.is_empty() {
        return Obj::Int(0);
    }
    let v = BigInt::from_signed_bytes_le(bytes);
    match i64::try_from(&v) {
        Ok(small) => Obj::Int(small),
        Err(_) => Obj::BigInt(v),
    }
}

fn parse_memo_key(line: &[u8]) -> Result<u32, DecodeError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .ok_or_else(|| DecodeError("bad memo key".into()))
}

/// Python's float() of a protocol-0 FLOAT line (`1.5`, `inf`, `nan`, `1e+16`).
fn parse_py_float(s: &str) -> Option<f64> {
    match s {
        "inf" | "Infinity" => Some(f64::INFINITY),
        "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        "nan" | "-nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// The quoted Python 2 string literal of a STRING opcode, unescaped.
fn parse_py2_string(line: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let inner = match line {
        [b'\'', mid @ .., b'\''] | [b'"', mid @ .., b'"'] if line.len() >= 2 => mid,
        _ => return err("STRING without quotes"),
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let b = inner[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&e) = inner.get(i) else {
            return err("bad escape in STRING");
        };
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\\' | b'\'' | b'"' => out.push(e),
            b'x' => {
                let h = inner
                    .get(i..i + 2)
                    .ok_or_else(|| DecodeError("bad \\x escape".into()))?;
                let v = u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16)
                    .map_err(|_| DecodeError("bad \\x escape".into()))?;
                out.push(v);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match inner.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// The UNICODE opcode's raw-unicode-escape: bytes are Latin-1, except `\uXXXX` and `\UXXXXXXXX`.
fn raw_unicode_unescape(line: &[u8]) -> Result<String, DecodeError> {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b == b'\\' && matches!(line.get(i + 1), Some(b'u') | Some(b'U')) {
            let width = if line[i + 1] == b'u' { 4 } else { 8 };
            let hex = line
                .get(i + 2..i + 2 + width)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
                .ok_or_else(|| DecodeError("bad \\u escape in UNICODE".into()))?;
            out.push(hex);
            i += 2 + width;
        } else {
            out.push(char::from(b));
            i += 1;
        }
    }
    Ok(out)
}

fn is_latin1(enc: &str) -> bool {
    matches!(
        enc,
        "latin1" | "latin-1" | "latin_1" | "iso-8859-1" | "iso8859-1"
    )
}

fn latin1_bytes(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}
