//! Standard-library values as CPython 3.11's `repr` prints them, without importing anything.
//!
//! Pickles carry `datetime`, `Decimal`, `Fraction`, `UUID`, the `collections` types, `range`,
//! `slice`, `Ellipsis` and `NotImplemented` as calls of their class (REDUCE, NEWOBJ, BUILD) or as
//! bare globals. The decoder records those calls; this module recognises the ones whose arguments
//! have the shape CPython's own `__reduce__` gives them, and describes their repr as [`Part`]s for
//! the repr writer. Anything else (another class, an argument of an unexpected type, a value the
//! class itself would refuse) is not recognised and stays `<call ...>` / `<new ...>`.

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

use super::decode::{Decoded, Id, MakeKind, Obj, Object};

/// One piece of a repr.
pub(crate) enum Part {
    Text(String),
    /// The repr of an object of the arena.
    Obj(Id),
}

use Part::{Obj as O, Text as T};

fn t(s: impl Into<String>) -> Part {
    T(s.into())
}

/// The builtin types whose repr is `<class 'NAME'>`.
const BUILTIN_TYPES: &[&[u8]] = &[
    b"bool",
    b"bytearray",
    b"bytes",
    b"complex",
    b"dict",
    b"float",
    b"frozenset",
    b"int",
    b"list",
    b"object",
    b"set",
    b"str",
    b"tuple",
    b"type",
];

fn global(d: &Decoded, id: Id) -> Option<(&[u8], &[u8])> {
    match &d.objs[id as usize] {
        Obj::Global { module, name, .. } => Some((d.bytes(*module), d.bytes(*name))),
        _ => None,
    }
}

fn int(d: &Decoded, id: Id) -> Option<BigInt> {
    match &d.objs[id as usize] {
        Obj::Int(i) => Some(BigInt::from(*i)),
        Obj::Big(b) => Some((**b).clone()),
        _ => None,
    }
}

fn small(d: &Decoded, id: Id) -> Option<i64> {
    match &d.objs[id as usize] {
        Obj::Int(i) => Some(*i),
        _ => None,
    }
}

fn bytes(d: &Decoded, id: Id) -> Option<&[u8]> {
    match &d.objs[id as usize] {
        Obj::Bytes(s) => Some(d.bytes(*s)),
        _ => None,
    }
}

fn is_none(d: &Decoded, id: Id) -> bool {
    matches!(d.objs[id as usize], Obj::None)
}

/// An int as CPython prints it, if it has at most 4300 digits (else CPython's repr fails).
fn dec(b: &BigInt) -> Option<String> {
    let mut out = Vec::new();
    super::repr::write_big(b, &mut out).ok()?;
    String::from_utf8(out).ok()
}

/// The repr of a recognised value, as parts; `None` when `id` is not one.
pub(crate) fn known(d: &Decoded, id: Id) -> Option<Vec<Part>> {
    match &d.objs[id as usize] {
        Obj::Global { module, name, .. } => {
            let (m, n) = (d.bytes(*module), d.bytes(*name));
            if m != b"builtins" {
                return None;
            }
            match n {
                b"Ellipsis" | b"NotImplemented" => Some(vec![T(String::from_utf8_lossy(n).into())]),
                _ if BUILTIN_TYPES.contains(&n) => {
                    Some(vec![t(format!("<class '{}'>", String::from_utf8_lossy(n)))])
                }
                _ => None,
            }
        }
        Obj::Object(o) => object(d, o),
        _ => None,
    }
}

/// Whether `id` is recognised: its globals then need no warning.
pub(crate) fn is_known(d: &Decoded, id: Id) -> bool {
    known(d, id).is_some()
}

/// Whether `o` is a recognised dict subclass (`OrderedDict`, `defaultdict`) whose SETITEMs are a
/// dict's `d[k] = v`: the decoder then merges their keys as it merges a dict's.
pub(crate) fn is_dict_like(d: &Decoded, o: &Object) -> bool {
    matches!(
        global(d, o.callable),
        Some((b"collections", b"OrderedDict" | b"defaultdict"))
    ) && !o.dict_items.is_empty()
        && object(d, o).is_some()
}

fn object(d: &Decoded, o: &Object) -> Option<Vec<Part>> {
    let (m, n) = global(d, o.callable)?;
    let Obj::Tuple(a) = &d.objs[o.args as usize] else {
        return None;
    };
    if o.kwargs.is_some() {
        return None;
    }
    let plain = o.state.is_none() && o.items.is_empty() && o.dict_items.is_empty();
    match (o.kind, m, n) {
        (MakeKind::Call, b"datetime", b"datetime") if plain => datetime(d, a),
        (MakeKind::Call, b"datetime", b"date") if plain => date(d, a),
        (MakeKind::Call, b"datetime", b"time") if plain => time(d, a),
        (MakeKind::Call, b"datetime", b"timedelta") if plain => timedelta(d, a).map(|s| vec![T(s)]),
        (MakeKind::Call, b"datetime", b"timezone") if plain => timezone(d, a),
        (MakeKind::Call, b"decimal", b"Decimal") if plain => decimal(d, a),
        (MakeKind::Call, b"fractions", b"Fraction") if plain => fraction(d, a),
        (MakeKind::Call, b"builtins", b"range") if plain => range(d, a),
        (MakeKind::Call, b"builtins", b"slice") if plain => slice(a),
        (MakeKind::New, b"uuid", b"UUID") if a.is_empty() => uuid(d, o),
        (MakeKind::Call, b"copyreg", b"_reconstructor") => {
            // Protocols 0 and 1: copyreg._reconstructor(uuid.UUID, object, None), then BUILD.
            let [cls, base, none] = a.as_slice() else {
                return None;
            };
            let ok = global(d, *cls) == Some((b"uuid", b"UUID"))
                && global(d, *base) == Some((b"builtins", b"object"))
                && is_none(d, *none);
            if ok {
                uuid(d, o)
            } else {
                None
            }
        }
        (MakeKind::Call, b"collections", b"OrderedDict")
            if a.is_empty() && o.state.is_none() && o.items.is_empty() =>
        {
            if o.dict_items.is_empty() {
                return Some(vec![t("OrderedDict()")]);
            }
            let mut p = vec![t("OrderedDict([")];
            for (i, kv) in o.dict_items.chunks_exact(2).enumerate() {
                p.push(t(if i == 0 { "(" } else { ", (" }));
                p.extend([O(kv[0]), t(", "), O(kv[1]), t(")")]);
            }
            p.push(t("])"));
            Some(p)
        }
        (MakeKind::Call, b"collections", b"defaultdict")
            if a.len() <= 1 && o.state.is_none() && o.items.is_empty() =>
        {
            let mut p = vec![t("defaultdict(")];
            match a.first() {
                None => p.push(t("None")),
                Some(&f) if is_none(d, f) => p.push(t("None")),
                Some(&f) => match global(d, f) {
                    Some((b"builtins", name)) if BUILTIN_TYPES.contains(&name) => p.push(O(f)),
                    _ => return None,
                },
            }
            p.push(t(", {"));
            pairs(&mut p, &o.dict_items);
            p.push(t("})"));
            Some(p)
        }
        (MakeKind::Call, b"collections", b"deque")
            if o.state.is_none() && o.dict_items.is_empty() =>
        {
            // deque(), deque((), maxlen) and their items appended: what deque.__reduce__ gives.
            if a.len() > 2 {
                return None;
            }
            if let Some(&init) = a.first() {
                if !matches!(&d.objs[init as usize], Obj::Tuple(v) | Obj::List(v) if v.is_empty()) {
                    return None;
                }
            }
            let maxlen = match a.get(1) {
                Some(&m) if !is_none(d, m) => Some(small(d, m).filter(|&m| m >= 0)?),
                _ => None,
            };
            let mut items: &[Id] = &o.items;
            if let Some(m) = maxlen {
                // A bounded deque keeps the last `maxlen` items appended.
                items = &items[items.len().saturating_sub(m as usize)..];
            }
            let mut p = vec![t("deque([")];
            for (i, &id) in items.iter().enumerate() {
                if i > 0 {
                    p.push(t(", "));
                }
                p.push(O(id));
            }
            p.push(t(match maxlen {
                Some(m) => format!("], maxlen={m})"),
                None => "])".into(),
            }));
            Some(p)
        }
        (MakeKind::Call, b"collections", b"Counter") if plain && a.len() == 1 => counter(d, a[0]),
        _ => None,
    }
}

fn pairs(p: &mut Vec<Part>, items: &[Id]) {
    for (i, kv) in items.chunks_exact(2).enumerate() {
        if i > 0 {
            p.push(t(", "));
        }
        p.extend([O(kv[0]), t(": "), O(kv[1])]);
    }
}

/// `, tzinfo=...` and `, fold=1`, then `)`: the end of a datetime or time repr.
fn tz_and_fold(d: &Decoded, tz: Option<&Id>, fold: bool, p: &mut Vec<Part>) -> Option<()> {
    if let Some(&tz) = tz {
        if !is_none(d, tz) {
            // Only a timezone we can print; zoneinfo and others stay calls.
            let Obj::Object(o) = &d.objs[tz as usize] else {
                return None;
            };
            if global(d, o.callable) != Some((b"datetime", b"timezone")) || !is_known(d, tz) {
                return None;
            }
            p.push(t(", tzinfo="));
            p.push(O(tz));
        }
    }
    p.push(t(if fold { ", fold=1)" } else { ")" }));
    Some(())
}

fn datetime(d: &Decoded, a: &[Id]) -> Option<Vec<Part>> {
    if a.is_empty() || a.len() > 2 {
        return None;
    }
    let b = bytes(d, a[0]).filter(|b| b.len() == 10)?;
    let month = b[2] & 0x7f;
    if !(1..=12).contains(&month) {
        return None;
    }
    let year = u32::from(b[0]) << 8 | u32::from(b[1]);
    let us = u32::from(b[7]) << 16 | u32::from(b[8]) << 8 | u32::from(b[9]);
    let mut s = format!(
        "datetime.datetime({year}, {month}, {}, {}, {}",
        b[3], b[4], b[5]
    );
    if us != 0 {
        s += &format!(", {}, {us}", b[6]);
    } else if b[6] != 0 {
        s += &format!(", {}", b[6]);
    }
    let mut p = vec![T(s)];
    tz_and_fold(d, a.get(1), b[2] & 0x80 != 0, &mut p)?;
    Some(p)
}

fn date(d: &Decoded, a: &[Id]) -> Option<Vec<Part>> {
    let [state] = a else { return None };
    let b = bytes(d, *state).filter(|b| b.len() == 4)?;
    if !(1..=12).contains(&b[2]) {
        return None;
    }
    let year = u32::from(b[0]) << 8 | u32::from(b[1]);
    Some(vec![t(format!(
        "datetime.date({year}, {}, {})",
        b[2], b[3]
    ))])
}

fn time(d: &Decoded, a: &[Id]) -> Option<Vec<Part>> {
    if a.is_empty() || a.len() > 2 {
        return None;
    }
    let b = bytes(d, a[0]).filter(|b| b.len() == 6)?;
    let hour = b[0] & 0x7f;
    if hour >= 24 {
        return None;
    }
    let us = u32::from(b[3]) << 16 | u32::from(b[4]) << 8 | u32::from(b[5]);
    let mut s = format!("datetime.time({hour}, {}", b[1]);
    if us != 0 {
        s += &format!(", {}, {us}", b[2]);
    } else if b[2] != 0 {
        s += &format!(", {}", b[2]);
    }
    let mut p = vec![T(s)];
    tz_and_fold(d, a.get(1), b[0] & 0x80 != 0, &mut p)?;
    Some(p)
}

/// `timedelta(days, seconds, microseconds)` normalised as CPython does; `None` past its range.
fn timedelta_parts(d: &Decoded, a: &[Id]) -> Option<(i64, i64, i64)> {
    if a.len() > 3 {
        return None;
    }
    let get = |i: usize| a.get(i).map_or(Some(0), |&id| small(d, id));
    let (days, secs, us) = (get(0)? as i128, get(1)? as i128, get(2)? as i128);
    let total = (days * 86_400 + secs) * 1_000_000 + us;
    let days = total.div_euclid(86_400_000_000);
    let rest = total.rem_euclid(86_400_000_000);
    if days.abs() > 999_999_999 {
        return None;
    }
    Some((
        days as i64,
        (rest / 1_000_000) as i64,
        (rest % 1_000_000) as i64,
    ))
}

fn timedelta(d: &Decoded, a: &[Id]) -> Option<String> {
    let (days, secs, us) = timedelta_parts(d, a)?;
    let mut fields = Vec::new();
    if days != 0 {
        fields.push(format!("days={days}"));
    }
    if secs != 0 {
        fields.push(format!("seconds={secs}"));
    }
    if us != 0 {
        fields.push(format!("microseconds={us}"));
    }
    if fields.is_empty() {
        fields.push("0".into());
    }
    Some(format!("datetime.timedelta({})", fields.join(", ")))
}

fn timezone(d: &Decoded, a: &[Id]) -> Option<Vec<Part>> {
    let (&offset, name) = a.split_first()?;
    if name.len() > 1 {
        return None;
    }
    let Obj::Object(td) = &d.objs[offset as usize] else {
        return None;
    };
    if global(d, td.callable) != Some((b"datetime", b"timedelta")) {
        return None;
    }
    let Obj::Tuple(ta) = &d.objs[td.args as usize] else {
        return None;
    };
    let (days, secs, us) = timedelta_parts(d, ta)?;
    // CPython accepts offsets strictly between -24 and 24 hours.
    let total = (i128::from(days) * 86_400 + i128::from(secs)) * 1_000_000 + i128::from(us);
    if total.abs() >= 86_400_000_000 {
        return None;
    }
    let delta = timedelta(d, ta)?;
    match name.first() {
        None if total == 0 => Some(vec![t("datetime.timezone.utc")]),
        None => Some(vec![t(format!("datetime.timezone({delta})"))]),
        Some(&n) => match &d.objs[n as usize] {
            Obj::Str(_) => Some(vec![
                t(format!("datetime.timezone({delta}, ")),
                O(n),
                t(")"),
            ]),
            Obj::None if total == 0 => Some(vec![t("datetime.timezone.utc")]),
            Obj::None => Some(vec![t(format!("datetime.timezone({delta})"))]),
            _ => None,
        },
    }
}

fn decimal(d: &Decoded, a: &[Id]) -> Option<Vec<Part>> {
    let [s] = a else { return None };
    let Obj::Str(span) = &d.objs[*s as usize] else {
        return None;
    };
    let text = std::str::from_utf8(d.bytes(*span)).ok()?;
    Some(vec![t(format!("Decimal('{}')", decimal_str(text)?))])
}

/// `str(Decimal(text))`: the canonical "to-scientific-string" form, or `None` if `text` is not a
/// number Decimal accepts (ASCII forms only).
fn decimal_str(text: &str) -> Option<String> {
    let s = text.trim();
    let (sign, body) = match s.as_bytes().first()? {
        b'-' => ("-", &s[1..]),
        b'+' => ("", &s[1..]),
        _ => ("", s),
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(format!("{sign}Infinity"));
    }
    for (prefix, shown) in [("snan", "sNaN"), ("nan", "NaN")] {
        if let Some(payload) = lower.strip_prefix(prefix) {
            if !payload.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let digits = payload.trim_start_matches('0');
            return Some(format!("{sign}{shown}{digits}"));
        }
    }
    let (mant, exp) = match lower.find('e') {
        Some(i) => (&lower[..i], lower[i + 1..].parse::<i64>().ok()?),
        None => (lower.as_str(), 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let all = format!("{int}{frac}");
    let coeff = all.trim_start_matches('0');
    let coeff = if coeff.is_empty() { "0" } else { coeff };
    let exp = exp.checked_sub(frac.len() as i64)?;
    let n = coeff.len() as i64;
    let left = exp.checked_add(n)?;
    let dot = if exp <= 0 && left > -6 { left } else { 1 };
    let (ip, fp) = if dot <= 0 {
        (
            "0".to_string(),
            format!(".{}{coeff}", "0".repeat((-dot) as usize)),
        )
    } else if dot >= n {
        (
            format!("{coeff}{}", "0".repeat((dot - n) as usize)),
            String::new(),
        )
    } else {
        (
            coeff[..dot as usize].to_string(),
            format!(".{}", &coeff[dot as usize..]),
        )
    };
    let e = if left == dot {
        String::new()
    } else {
        format!("E{:+}", left.checked_sub(dot)?)
    };
    Some(format!("{sign}{ip}{fp}{e}"))
}

fn fraction(d: &Decoded, a: &[Id]) -> Option<Vec<Part>> {
    let [n, m] = a else { return None };
    let (mut n, mut m) = (int(d, *n)?, int(d, *m)?);
    if m.is_zero() || n.bits() > 14_285 || m.bits() > 14_285 {
        return None;
    }
    let (mut x, mut y) = (n.abs(), m.abs());
    while !y.is_zero() {
        let r = &x % &y;
        x = y;
        y = r;
    }
    if m.is_negative() {
        x = -x;
    }
    n /= &x;
    m /= &x;
    Some(vec![t(format!("Fraction({}, {})", dec(&n)?, dec(&m)?))])
}

fn range(d: &Decoded, a: &[Id]) -> Option<Vec<Part>> {
    let get = |id: Id| match &d.objs[id as usize] {
        Obj::Bool(b) => Some(BigInt::from(u8::from(*b))),
        _ => int(d, id),
    };
    let (start, stop, step) = match a {
        [stop] => (BigInt::zero(), get(*stop)?, BigInt::from(1)),
        [start, stop] => (get(*start)?, get(*stop)?, BigInt::from(1)),
        [start, stop, step] => (get(*start)?, get(*stop)?, get(*step)?),
        _ => return None,
    };
    if step.is_zero() {
        return None;
    }
    let s = if step == BigInt::from(1) {
        format!("range({}, {})", dec(&start)?, dec(&stop)?)
    } else {
        format!("range({}, {}, {})", dec(&start)?, dec(&stop)?, dec(&step)?)
    };
    Some(vec![T(s)])
}

fn slice(a: &[Id]) -> Option<Vec<Part>> {
    let none = || t("None");
    let (start, stop, step) = match a {
        [stop] => (none(), O(*stop), none()),
        [start, stop] => (O(*start), O(*stop), none()),
        [start, stop, step] => (O(*start), O(*stop), O(*step)),
        _ => return None,
    };
    Some(vec![
        t("slice("),
        start,
        t(", "),
        stop,
        t(", "),
        step,
        t(")"),
    ])
}

fn uuid(d: &Decoded, o: &Object) -> Option<Vec<Part>> {
    if !o.items.is_empty() || !o.dict_items.is_empty() {
        return None;
    }
    let Obj::Dict(state) = &d.objs[o.state? as usize] else {
        return None;
    };
    let mut value = None;
    for kv in state.chunks_exact(2) {
        let Obj::Str(k) = &d.objs[kv[0] as usize] else {
            return None;
        };
        match d.bytes(*k) {
            b"int" => value = int(d, kv[1]),
            b"is_safe" => {}
            _ => return None,
        }
    }
    let v = value?;
    if v.is_negative() || v.bits() > 128 {
        return None;
    }
    let h = format!("{:032x}", v.to_u128()?);
    Some(vec![t(format!(
        "UUID('{}-{}-{}-{}-{}')",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))])
}

fn counter(d: &Decoded, arg: Id) -> Option<Vec<Part>> {
    let Obj::Dict(items) = &d.objs[arg as usize] else {
        return None;
    };
    if items.is_empty() {
        return Some(vec![t("Counter()")]);
    }
    // most_common(): a stable sort by count, largest first; counts must be numbers.
    let mut pairs: Vec<(f64, Option<BigInt>, Id, Id)> = Vec::new();
    for kv in items.chunks_exact(2) {
        let (f, big) = match &d.objs[kv[1] as usize] {
            Obj::Int(i) => (*i as f64, Some(BigInt::from(*i))),
            Obj::Bool(b) => (f64::from(u8::from(*b)), Some(BigInt::from(u8::from(*b)))),
            Obj::Float(f) if !f.is_nan() => (*f, None),
            _ => return None,
        };
        pairs.push((f, big, kv[0], kv[1]));
    }
    pairs.sort_by(|a, b| match (&a.1, &b.1) {
        (Some(x), Some(y)) => y.cmp(x),
        _ => b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal),
    });
    let mut p = vec![t("Counter({")];
    for (i, (_, _, k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            p.push(t(", "));
        }
        p.extend([O(*k), t(": "), O(*v)]);
    }
    p.push(t("})"));
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::decimal_str;

    #[test]
    fn decimal_strings_are_canonical() {
        let cases = [
            ("1.10", "1.10"),
            ("1e3", "1E+3"),
            ("-0", "-0"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1E-7"),
            ("007", "7"),
            ("inf", "Infinity"),
            ("-NaN012", "-NaN12"),
            ("123.456e-10", "1.23456E-8"),
            (".5", "0.5"),
            ("5.", "5"),
        ];
        for (text, want) in cases {
            assert_eq!(decimal_str(text).as_deref(), Some(want), "{text}");
        }
        assert_eq!(decimal_str("x"), None);
        // Exponents at the ends of i64: no overflow, whatever the answer.
        let _ = decimal_str("1E-9223372036854775808");
        let _ = decimal_str("0.1E-9223372036854775808");
        let _ = decimal_str("123E9223372036854775807");
        assert_eq!(decimal_str("."), None);
    }
}
