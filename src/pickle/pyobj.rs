//! Python's `==` and `hash()` for hashable values, and CPython 3.11's set-table order: one
//! implementation for the literal parser (over [`Value`]) and the decoder (over its arena), so dict
//! keys and set items are merged the way Python merges them (`{1: 'a', True: 'b'}` is `{1: 'b'}`).
//!
//! Hashes of ints, floats, complex numbers, bools and tuples and frozensets of these are CPython's
//! own (the numeric hash modulo 2**61 - 1, 3.11's xxHash-based tuple hash, its frozenset hash): with them the iteration order
//! of a set can be computed by replaying CPython's set table ([`set_order`]). The hashes of str and
//! bytes depend on the process's hash seed, and those of None, NaN and objects on their addresses,
//! so sets holding them keep their stream order; for merging, any hash consistent with `==` does.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash as _, Hasher};

use num_bigint::{BigInt, Sign};
use num_traits::{FromPrimitive, ToPrimitive};

use super::Value;

/// A value as `==` and `hash()` see it.
pub(crate) enum View<'a, T> {
    None,
    Bool(bool),
    Int(i64),
    Big(&'a BigInt),
    Float(f64),
    Complex(f64, f64),
    Str(&'a [u8]),
    Bytes(&'a [u8]),
    Tuple(Vec<T>),
    FrozenSet(Vec<T>),
    /// Equal only to itself (a global, or an object a call would make): an identity.
    Opaque(u64),
    /// Cannot be hashed: the Python type name.
    Unhashable(&'static str),
}

/// Something that can be looked at as a Python value.
pub(crate) trait PyObj<'a>: Copy + 'a {
    fn view(self) -> View<'a, Self>;
    /// An identity for `is` and for caching hashes of containers (the arena's ids), if any.
    fn ident(self) -> Option<u64>;
}

impl<'a> PyObj<'a> for &'a Value {
    fn view(self) -> View<'a, Self> {
        match self {
            Value::None => View::None,
            Value::Bool(b) => View::Bool(*b),
            Value::Int(i) => View::Int(*i),
            Value::BigInt(b) => View::Big(b),
            Value::Float(f) => View::Float(*f),
            Value::Str(s) => View::Str(s.as_bytes()),
            Value::Bytes(b) => View::Bytes(b),
            Value::Tuple(items) => View::Tuple(items.iter().collect()),
            Value::FrozenSet(items) => View::FrozenSet(items.iter().collect()),
            Value::List(_) => View::Unhashable("list"),
            Value::Dict(_) => View::Unhashable("dict"),
            Value::Set(_) => View::Unhashable("set"),
            Value::ByteArray(_) => View::Unhashable("bytearray"),
            Value::Call { .. } => match self.as_complex() {
                Some((re, im)) => View::Complex(re, im),
                None => View::Opaque(self as *const Value as u64),
            },
            // The same global twice is the same object in Python (`...` is `...`).
            Value::Global { module, name } => {
                let mut h = DefaultHasher::new();
                (module, name).hash(&mut h);
                View::Opaque(h.finish() | 1 << 63)
            }
        }
    }

    fn ident(self) -> Option<u64> {
        None
    }
}

/// CPython's hash modulus, 2**61 - 1 (`_PyHASH_MODULUS`).
const MODULUS: u64 = (1 << 61) - 1;
const HASH_INF: i64 = 314_159;
const HASH_IMAG: u64 = 1_000_003;

/// A hash, and whether it is CPython's own (the same in every Python process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hash {
    pub value: i64,
    pub cpython: bool,
}

fn fix(h: i64) -> i64 {
    if h == -1 {
        -2
    } else {
        h
    }
}

/// `hash(i)` for an int.
pub(crate) fn hash_i64(i: i64) -> i64 {
    let a = (i.unsigned_abs() % MODULUS) as i64;
    fix(if i < 0 { -a } else { a })
}

fn hash_big(b: &BigInt) -> i64 {
    let m = BigInt::from(MODULUS);
    let a = (b.magnitude() % m.magnitude()).to_i64().unwrap_or(0);
    fix(if b.sign() == Sign::Minus { -a } else { a })
}

/// `hash(x)` for a float (`_Py_HashDouble`), or `None` for NaN (hashed by address since 3.10).
pub(crate) fn hash_f64(x: f64) -> Option<i64> {
    if x.is_nan() {
        return None;
    }
    if x.is_infinite() {
        return Some(if x > 0.0 { HASH_INF } else { -HASH_INF });
    }
    if x == 0.0 {
        return Some(0);
    }
    // |x| = mant * 2**exp exactly; hash is that rational modulo 2**61 - 1, where 2**61 is 1.
    let bits = x.abs().to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    let (mant, exp) = if raw_exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), raw_exp - 1075)
    };
    let e = exp.rem_euclid(61) as u32;
    let h = ((mant as u128 % MODULUS as u128) << e) % MODULUS as u128;
    let h = h as i64;
    Some(fix(if x < 0.0 { -h } else { h }))
}

/// Limits on the work of comparing and hashing, so hostile keys cannot make merging quadratic.
pub(crate) struct Cx {
    /// Hashes of containers already computed, by identity.
    cache: HashMap<u64, Hash>,
    /// Steps left (each item hashed or compared is one).
    work: usize,
    /// Deepest nesting followed.
    max_depth: usize,
}

impl Cx {
    pub(crate) fn new(work: usize, max_depth: usize) -> Cx {
        Cx {
            cache: HashMap::new(),
            work,
            max_depth,
        }
    }

    fn step(&mut self, depth: usize) -> Result<(), String> {
        if depth > self.max_depth {
            return Err(format!(
                "a key nested deeper than {} levels cannot be hashed",
                self.max_depth
            ));
        }
        match self.work.checked_sub(1) {
            Some(w) => {
                self.work = w;
                Ok(())
            }
            None => Err("dict keys or set items too costly to compare (hash collisions)".into()),
        }
    }
}

/// `hash(v)`, or `unhashable type: 'list'` as Python says it.
pub(crate) fn hash<'a, T: PyObj<'a>>(v: T, cx: &mut Cx) -> Result<Hash, String> {
    hash_at(v, cx, 0)
}

fn hash_at<'a, T: PyObj<'a>>(v: T, cx: &mut Cx, depth: usize) -> Result<Hash, String> {
    cx.step(depth)?;
    let cp = |value| Hash {
        value,
        cpython: true,
    };
    let other = |bytes: &[u8], tag: u8| {
        let mut h = DefaultHasher::new();
        tag.hash(&mut h);
        bytes.hash(&mut h);
        Hash {
            value: h.finish() as i64,
            cpython: false,
        }
    };
    Ok(match v.view() {
        View::None => other(b"", 0),
        View::Bool(b) => cp(i64::from(b)),
        View::Int(i) => cp(hash_i64(i)),
        View::Big(b) => cp(hash_big(b)),
        View::Float(f) => match hash_f64(f) {
            Some(h) => cp(h),
            None => other(b"nan", 1),
        },
        View::Complex(re, im) => match (hash_f64(re), hash_f64(im)) {
            (Some(r), Some(i)) => {
                let h = (r as u64).wrapping_add(HASH_IMAG.wrapping_mul(i as u64));
                cp(fix(h as i64))
            }
            _ => other(b"nan", 1),
        },
        View::Str(s) => other(s, 2),
        View::Bytes(b) => other(b, 3),
        View::Opaque(id) => other(&id.to_le_bytes(), 4),
        View::Unhashable(t) => return Err(format!("unhashable type: '{t}'")),
        View::Tuple(items) => {
            if let Some(h) = v.ident().and_then(|id| cx.cache.get(&id)) {
                return Ok(*h);
            }
            const P1: u64 = 11400714785074694791;
            const P2: u64 = 14029467366897019727;
            const P5: u64 = 2870177450012600261;
            let mut acc = P5;
            let mut cpython = true;
            for &item in &items {
                let h = hash_at(item, cx, depth + 1)?;
                cpython &= h.cpython;
                acc = acc.wrapping_add((h.value as u64).wrapping_mul(P2));
                acc = acc.rotate_left(31);
                acc = acc.wrapping_mul(P1);
            }
            acc = acc.wrapping_add(items.len() as u64 ^ (P5 ^ 3527539));
            let value = if acc == u64::MAX {
                1546275796
            } else {
                acc as i64
            };
            let h = Hash { value, cpython };
            if let Some(id) = v.ident() {
                cx.cache.insert(id, h);
            }
            h
        }
        View::FrozenSet(items) => {
            if let Some(h) = v.ident().and_then(|id| cx.cache.get(&id)) {
                return Ok(*h);
            }
            // CPython's frozenset_hash: order-free, over distinct items.
            let shuffle = |h: u64| ((h ^ 89869747) ^ (h << 16)).wrapping_mul(3644798167);
            let mut acc = 0u64;
            let mut cpython = true;
            for &item in &items {
                let h = hash_at(item, cx, depth + 1)?;
                cpython &= h.cpython;
                acc ^= shuffle(h.value as u64);
            }
            acc ^= (items.len() as u64 + 1).wrapping_mul(1927868237);
            acc ^= (acc >> 11) ^ (acc >> 25);
            acc = acc.wrapping_mul(69069).wrapping_add(907133923);
            let value = if acc == u64::MAX {
                590923713
            } else {
                acc as i64
            };
            let h = Hash { value, cpython };
            if let Some(id) = v.ident() {
                cx.cache.insert(id, h);
            }
            h
        }
    })
}

/// A number as Python compares it.
enum Num {
    Int(BigInt),
    Float(f64),
    Complex(f64, f64),
}

fn num<'a, T: PyObj<'a>>(v: &View<'a, T>) -> Option<Num> {
    Some(match v {
        View::Bool(b) => Num::Int(BigInt::from(u8::from(*b))),
        View::Int(i) => Num::Int(BigInt::from(*i)),
        View::Big(b) => Num::Int((*b).clone()),
        View::Float(x) if x.is_finite() && x.fract() == 0.0 => {
            Num::Int(BigInt::from_f64(*x).unwrap_or_default())
        }
        View::Float(x) => Num::Float(*x),
        View::Complex(re, im) if *im == 0.0 => {
            return num::<T>(&View::Float(*re));
        }
        View::Complex(re, im) => Num::Complex(*re, *im),
        _ => return None,
    })
}

/// Python's `a == b` for hashable values (`a is b` first, as CPython's dicts and sets do).
pub(crate) fn eq<'a, T: PyObj<'a>>(a: T, b: T, cx: &mut Cx) -> Result<bool, String> {
    eq_at(a, b, cx, 0)
}

fn eq_at<'a, T: PyObj<'a>>(a: T, b: T, cx: &mut Cx, depth: usize) -> Result<bool, String> {
    cx.step(depth)?;
    if let (Some(x), Some(y)) = (a.ident(), b.ident()) {
        if x == y {
            return Ok(true);
        }
    }
    let (va, vb) = (a.view(), b.view());
    if let (Some(x), Some(y)) = (num(&va), num(&vb)) {
        return Ok(match (x, y) {
            (Num::Int(x), Num::Int(y)) => x == y,
            (Num::Float(x), Num::Float(y)) => x == y,
            (Num::Complex(a, b), Num::Complex(c, d)) => a == c && b == d,
            _ => false,
        });
    }
    Ok(match (va, vb) {
        (View::None, View::None) => true,
        (View::Str(x), View::Str(y)) | (View::Bytes(x), View::Bytes(y)) => x == y,
        (View::Opaque(x), View::Opaque(y)) => x == y,
        (View::Tuple(x), View::Tuple(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (p, q) in x.into_iter().zip(y) {
                if !eq_at(p, q, cx, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        (View::FrozenSet(x), View::FrozenSet(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            // Both hold distinct items: equal when every item of x is in y.
            let mut by_hash: HashMap<i64, Vec<T>> = HashMap::new();
            for q in y {
                by_hash
                    .entry(hash_at(q, cx, depth + 1)?.value)
                    .or_default()
                    .push(q);
            }
            for p in x {
                let h = hash_at(p, cx, depth + 1)?.value;
                let mut found = false;
                for &q in by_hash.get(&h).map(Vec::as_slice).unwrap_or(&[]) {
                    if eq_at(p, q, cx, depth + 1)? {
                        found = true;
                        break;
                    }
                }
                if !found {
                    return Ok(false);
                }
            }
            true
        }
        _ => false,
    })
}

/// Distinct keys under Python's `==`, in first-seen order, as a dict or set keeps them.
///
/// Compact, because a dict of a million keys must fit in the decoder's memory budget: the keys,
/// their hashes, and (past [`SMALL`] keys) an open-addressing table of key numbers, at most half
/// full: 32 to 40 bytes a key for the decoder's keys. Every probe counts as work, so keys whose hashes crowd one part of the table cannot make
/// it quadratic unnoticed.
pub(crate) struct Distinct<'a, T> {
    keys: Vec<T>,
    hashes: Vec<i64>,
    all_cpython: bool,
    /// Key numbers, [`EMPTY`] where free; empty while there are at most [`SMALL`] keys.
    table: Vec<u32>,
    _life: std::marker::PhantomData<&'a ()>,
}

/// Memory [`Distinct`] uses per key, at most, for callers that budget it.
pub(crate) const DISTINCT_BYTES_PER_KEY: usize = 40;

const EMPTY: u32 = u32::MAX;

/// Up to this many keys are found by a scan; the table is built when the next one comes.
const SMALL: usize = 16;

/// Where a hash starts probing in a table of `1 << bits` slots (Fibonacci hashing: every bit
/// of the hash counts, so hashes that differ only in high bits still spread).
fn slot(h: i64, bits: u32) -> usize {
    ((h as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize
}

impl<'a, T: PyObj<'a>> Distinct<'a, T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Distinct {
            keys: Vec::with_capacity(n),
            hashes: Vec::with_capacity(n),
            all_cpython: true,
            table: Vec::new(),
            _life: std::marker::PhantomData,
        }
    }

    /// Adds `key`: `Ok(None)` if it is new, `Ok(Some(i))` if it equals key number `i` (in
    /// first-seen order) already there.
    pub(crate) fn insert(&mut self, key: T, cx: &mut Cx) -> Result<Option<usize>, String> {
        let h = hash(key, cx)?;
        if self.table.is_empty() {
            // A few keys (most dicts): a scan is cheaper than a table.
            for (i, &kh) in self.hashes.iter().enumerate() {
                if kh == h.value && eq(self.keys[i], key, cx)? {
                    return Ok(Some(i));
                }
            }
        } else {
            let bits = self.table.len().trailing_zeros();
            let mask = self.table.len() - 1;
            let mut i = slot(h.value, bits);
            loop {
                cx.step(0)?;
                let k = self.table[i];
                if k == EMPTY {
                    break;
                }
                if self.hashes[k as usize] == h.value && eq(self.keys[k as usize], key, cx)? {
                    return Ok(Some(k as usize));
                }
                i = (i + 1) & mask;
            }
        }
        let n = u32::try_from(self.keys.len()).map_err(|_| "too many keys".to_string())?;
        self.keys.push(key);
        self.hashes.push(h.value);
        self.all_cpython &= h.cpython;
        if self.keys.len() > SMALL && self.keys.len() * 2 > self.table.len() {
            self.grow();
        } else if !self.table.is_empty() {
            self.place(n);
        }
        Ok(None)
    }

    /// Puts key number `n` in the table.
    fn place(&mut self, n: u32) {
        let bits = self.table.len().trailing_zeros();
        let mask = self.table.len() - 1;
        let mut i = slot(self.hashes[n as usize], bits);
        while self.table[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.table[i] = n;
    }

    /// A table of more than two slots a key (so at most half full), every key placed again.
    fn grow(&mut self) {
        let size = (self.keys.len() * 2 + 1).next_power_of_two();
        self.table = vec![EMPTY; size];
        for n in 0..self.keys.len() as u32 {
            self.place(n);
        }
    }

    /// The hashes of the keys, in order, if every one is CPython's own.
    pub(crate) fn cpython_hashes(&self) -> Option<Vec<i64>> {
        self.all_cpython.then(|| self.hashes.clone())
    }
}

/// The order CPython 3.11 iterates a set built by adding distinct items with these hashes, in this
/// order, to an empty set (what `pickle.loads` does): indexes into `hashes`.
pub(crate) fn set_order(hashes: &[i64]) -> Vec<usize> {
    let mut t = SetTable::new();
    for (i, &h) in hashes.iter().enumerate() {
        t.add(i, h);
    }
    t.order()
}

/// CPython 3.11's set table (`Objects/setobject.c`) for a set that never lost an item: which item
/// (a number the caller gives) sits in which slot, with its hash. 8 slots to start, linear probing
/// over 9 slots then perturbation, growth when 3/5 full. The decoder replays `pickle.loads` with it
/// ([`set_order`]); the literal parser replays what `eval` does to a set display and to `set(...)`
/// and `frozenset(...)` ([`SetTable::add`], [`SetTable::merged`]).
#[derive(Clone, Debug)]
pub(crate) struct SetTable {
    slots: Vec<Option<(usize, i64)>>,
    used: usize,
}

const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;
const SET_MINSIZE: usize = 8;

impl SetTable {
    pub(crate) fn new() -> SetTable {
        SetTable {
            slots: vec![None; SET_MINSIZE],
            used: 0,
        }
    }

    /// `set_insert_clean`: into the first free slot of the probe sequence.
    fn insert_clean(slots: &mut [Option<(usize, i64)>], item: usize, hash: i64) {
        let mask = slots.len() - 1;
        let mut perturb = hash as u64;
        let mut i = (hash as usize) & mask;
        loop {
            if i + LINEAR_PROBES <= mask {
                if let Some(slot) = slots[i..=i + LINEAR_PROBES]
                    .iter_mut()
                    .find(|s| s.is_none())
                {
                    *slot = Some((item, hash));
                    return;
                }
            } else if slots[i].is_none() {
                slots[i] = Some((item, hash));
                return;
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    /// `set_table_resize`: the smallest power of two above `minused`, items placed again in slot
    /// order.
    fn resize(&mut self, minused: usize) {
        let mut size = SET_MINSIZE;
        while size <= minused {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.slots, vec![None; size]);
        for (item, hash) in old.into_iter().flatten() {
            Self::insert_clean(&mut self.slots, item, hash);
        }
    }

    /// `set.add` of an item not yet in the set.
    pub(crate) fn add(&mut self, item: usize, hash: i64) {
        Self::insert_clean(&mut self.slots, item, hash);
        self.used += 1;
        // No item is ever removed, so fill == used.
        if self.used * 5 >= (self.slots.len() - 1) * 3 {
            self.resize(if self.used > 50_000 {
                self.used * 2
            } else {
                self.used * 4
            });
        }
    }

    /// The items in iteration order.
    pub(crate) fn order(&self) -> Vec<usize> {
        self.slots.iter().flatten().map(|&(item, _)| item).collect()
    }

    /// A new set updated from this one, as `set(s)`, `frozenset(s)` and a set display's
    /// `SET_UPDATE` make it (`set_merge` into an empty set): the same table copied when the sizes
    /// agree, else the items placed again in this one's iteration order. Items of the result are
    /// numbered by their place in this set's iteration order.
    pub(crate) fn merged(&self) -> SetTable {
        let mut t = SetTable::new();
        if self.used * 5 >= (SET_MINSIZE - 1) * 3 {
            t.resize(self.used * 2);
        }
        let numbered = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(slot, e)| e.map(|(_, h)| (slot, h)))
            .enumerate();
        if t.slots.len() == self.slots.len() {
            for (k, (slot, h)) in numbered {
                t.slots[slot] = Some((k, h));
            }
        } else {
            for (k, (_, h)) in numbered {
                Self::insert_clean(&mut t.slots, k, h);
            }
        }
        t.used = self.used;
        t
    }

    /// The same table, its items numbered by their place in iteration order.
    pub(crate) fn renumbered(&self) -> SetTable {
        let mut t = self.clone();
        for (k, e) in t.slots.iter_mut().flatten().enumerate() {
            e.0 = k;
        }
        t
    }

    /// The hashes, in iteration order.
    pub(crate) fn hashes(&self) -> Vec<i64> {
        self.slots.iter().flatten().map(|&(_, h)| h).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so the cases are the same every run.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn numeric_and_tuple_hashes_are_cpythons() {
        let mut seed = 0x9e3779b97f4a7c15;
        let mut floats = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1e300,
            -2.5e-310,
            5e-324,
            1.5,
            2f64.powi(61),
        ];
        let mut ints: Vec<i64> = vec![0, 1, -1, -2, i64::MAX, i64::MIN, (1 << 61) - 1, 1 << 61];
        for _ in 0..300 {
            floats.push(f64::from_bits(rng(&mut seed)));
            ints.push(rng(&mut seed) as i64);
        }
        floats.retain(|f| f.is_finite());
        let code = format!(
            "fs = [{}]\nis_ = [{}]\nprint(*[hash(f) for f in fs])\nprint(*[hash(i) for i in is_])\n\
             print(*[hash((i, f, (i,), True)) for i, f in zip(is_, fs)])\nprint(hash(2**100), hash(-3**90))",
            floats.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", "),
            ints.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
        );
        let out = crate::pickle::python(&code);
        let lines: Vec<Vec<i64>> = out
            .lines()
            .map(|l| l.split(' ').map(|x| x.parse().unwrap()).collect())
            .collect();
        let ours: Vec<i64> = floats.iter().map(|&f| hash_f64(f).unwrap()).collect();
        assert_eq!(ours, lines[0]);
        assert_eq!(
            ints.iter().map(|&i| hash_i64(i)).collect::<Vec<_>>(),
            lines[1]
        );
        let mut cx = Cx::new(usize::MAX, 100);
        for (k, (&i, &f)) in ints.iter().zip(&floats).enumerate() {
            let t = Value::Tuple(vec![
                Value::Int(i),
                Value::Float(f),
                Value::Tuple(vec![Value::Int(i)]),
                Value::Bool(true),
            ]);
            let h = hash(&t, &mut cx).unwrap();
            assert!(h.cpython);
            assert_eq!(h.value, lines[2][k], "tuple {k}");
        }
        let big = |s: &str| Value::BigInt(s.parse().unwrap());
        let h1 = hash(&big("1267650600228229401496703205376"), &mut cx).unwrap();
        let h2 = hash(
            &big("-8727963568087712425891397479476727340041449"),
            &mut cx,
        )
        .unwrap();
        assert_eq!([h1.value, h2.value], [lines[3][0], lines[3][1]]);
    }

    #[test]
    fn equality_merges_as_python_does() {
        let mut cx = Cx::new(usize::MAX, 100);
        let mut d = Distinct::with_capacity(0);
        let vals = [
            Value::Int(1),
            Value::Bool(true),
            Value::Float(1.0),
            Value::Int(0),
            Value::Float(-0.0),
            Value::Str("a".into()),
            Value::Bytes(b"a".to_vec()),
            Value::Str("a".into()),
            Value::Tuple(vec![Value::Int(1), Value::Float(2.0)]),
            Value::Tuple(vec![Value::Bool(true), Value::Int(2)]),
            Value::Float(f64::NAN),
        ];
        let got: Vec<Option<usize>> = vals.iter().map(|v| d.insert(v, &mut cx).unwrap()).collect();
        assert_eq!(
            got,
            vec![
                None,
                Some(0),
                Some(0),
                None,
                Some(1),
                None,
                None,
                Some(2),
                None,
                Some(4),
                None
            ]
        );
        let e = d
            .insert(&Value::Tuple(vec![Value::List(vec![])]), &mut cx)
            .unwrap_err();
        assert_eq!(e, "unhashable type: 'list'");
    }

    /// Thousands of random int, float and tuple sets, some shrunk before pickling: the order is
    /// CPython's. The items are given in the order the pickle holds them (the sender's iteration
    /// order), as `pickle.loads` adds them to a fresh set.
    #[test]
    fn set_order_is_cpythons() {
        let script = r#"
import random
random.seed(16)
out = []
for n in range(3000):
    k = random.choice([1, 2, 3, 5, 8, 13, 30, 100, 400])
    kind = n % 4
    def item():
        if kind == 0: return random.randrange(-50, 200)
        if kind == 1: return random.choice([random.random() * 100, float(random.randrange(-9, 9)), random.randrange(0, 2**70)])
        if kind == 2: return (random.randrange(5), random.choice([1.5, -2.0, 7]))
        return random.randrange(-2**63, 2**63)
    s = {item() for _ in range(k)}
    if n % 3 == 0:
        for x in list(s)[: len(s) // 2]:
            s.discard(x)
    sent = list(s)
    loaded = list(set(sent))
    out.append(repr(sent) + '\t' + ' '.join(str(hash(x)) for x in sent) + '\t' + ' '.join(str(sent.index(x)) for x in loaded))
print('\n'.join(out))
"#;
        let out = crate::pickle::python(script);
        let mut differ_from_stream = 0;
        for line in out.lines() {
            let mut parts = line.split('\t');
            let (sent, hashes, want) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            let hashes: Vec<i64> = hashes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(|h| h.parse().unwrap())
                .collect();
            let want: Vec<usize> = want
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(|h| h.parse().unwrap())
                .collect();
            let got = set_order(&hashes);
            assert_eq!(got, want, "set {sent}");
            if want.iter().enumerate().any(|(i, &w)| i != w) {
                differ_from_stream += 1;
            }
        }
        assert!(
            differ_from_stream > 100,
            "only {differ_from_stream} sets reorder"
        );
    }
}
