//! The socket-lab handshake messages (PROTOCOL.md section 1), read and written as the Python
//! originals read and write them.
//!
//! 1. the server sends `{'clientid': <the client's source port>}`;
//! 2. the client sends a dict with `'student_name'`, `'github_username'` and `'sid'`;
//! 3. the server acknowledges with `1`, and does so again for every further dict.
//!
//! Compatibility is the originals' semantics, not the README's example: the Python server only does
//! `student['student_name']` and friends inside an f-string, so it takes any dict holding the three
//! keys, with values of any type (`'sid': '920652002'` is common), and ignores extra keys; the Python
//! client prints whatever welcome it gets and tests `ack == 1`. [`Record`] and [`is_ack`] follow that.
//! Everything a peer chose is escaped ([`crate::escape`]) before it is printed anywhere.

use crate::escape::escape_into;
use crate::pickle::decode::{Decoded, Id, Obj};
use crate::pickle::repr::ReprError;
use crate::pickle::Value;

/// The pickle protocol the Python originals write (3.8 to 3.13 default).
pub const PROTOCOL: u8 = 4;

/// The acknowledgement: `pickle.dumps(1)` at protocol 4; loads as `1` in every Python 3.
pub const ACK: &[u8] = &[0x80, 0x04, 0x4b, 0x01, 0x2e];

/// The keys the server reads, in the order it prints them.
const KEYS: [&str; 3] = ["student_name", "github_username", "sid"];

/// The server's first message, `{'clientid': id}`.
pub fn welcome(id: i64) -> Value {
    Value::Dict(vec![(Value::Str("clientid".into()), Value::Int(id))])
}

/// The dict a Python student client sends, keys in its order.
pub fn student_dict(name: &str, github: &str, sid: i64) -> Value {
    Value::Dict(vec![
        (Value::Str(KEYS[0].into()), Value::Str(name.into())),
        (Value::Str(KEYS[1].into()), Value::Str(github.into())),
        (Value::Str(KEYS[2].into()), Value::Int(sid)),
    ])
}

/// Whether a reply counts as the acknowledgement for a Python client, which tests `ack == 1`:
/// `1`, `True`, `1.0` and `(1+0j)` do.
pub fn is_ack(d: &Decoded) -> bool {
    match &d.objs[d.root as usize] {
        Obj::Int(n) => *n == 1,
        Obj::Bool(b) => *b,
        Obj::Float(f) => *f == 1.0,
        Obj::Complex(re, im) => *re == 1.0 && *im == 0.0,
        _ => false,
    }
}

/// How strictly the server reads a record.
#[derive(Debug, Clone, Copy)]
pub struct RecordRules {
    /// `--strict`: exactly the three keys, the name and user name str, the id an int.
    pub strict: bool,
    /// Longest `str()` of one value, in bytes (a budget: a pickle whose values would print longer,
    /// typically shared sub-objects doubled over and over, is refused before it is expanded).
    pub max_value: usize,
}

/// A student record as the original server prints it: `str()` of each of the three values, with
/// every unprintable character escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub github: String,
    pub sid: String,
}

impl Record {
    /// Reads a received pickle as the original server does (see the module docs); the error says
    /// why the original would have failed on it, or which `--strict` rule it breaks.
    pub fn from_decoded(d: &Decoded, rules: &RecordRules) -> Result<Record, String> {
        let Some(items) = dict_items(d) else {
            return Err(format!(
                "expected a dict with the keys {}, got {}",
                KEYS.join(", "),
                type_name(&d.objs[d.root as usize])
            ));
        };
        if rules.strict {
            check_strict(d, items)?;
        }
        let mut text = [String::new(), String::new(), String::new()];
        for (k, key) in KEYS.iter().enumerate() {
            let id = lookup(d, items, key).ok_or_else(|| format!("missing key '{key}'"))?;
            text[k] = str_of(d, id, rules.max_value).map_err(|e| format!("'{key}': {e}"))?;
        }
        let [name, github, sid] = text;
        Ok(Record { name, github, sid })
    }

    /// The line the Python server prints.
    pub fn connected_line(&self) -> String {
        format!(
            "Connected: Student: {}, Github Username: {}, sid: {}",
            self.name, self.github, self.sid
        )
    }
}

/// The keys and values (interleaved) of a received dict, or of one of the dict subclasses a
/// student may send and the original server takes as well: `collections.OrderedDict`,
/// `defaultdict` (their items come by SETITEMS on the object) and `Counter` (a dict argument).
fn dict_items(d: &Decoded) -> Option<&[Id]> {
    let o = match &d.objs[d.root as usize] {
        Obj::Dict(items) => return Some(items),
        Obj::Object(o) => o,
        _ => return None,
    };
    let Obj::Global { module, name, .. } = &d.objs[o.callable as usize] else {
        return None;
    };
    if d.bytes(*module) != b"collections" {
        return None;
    }
    match d.bytes(*name) {
        b"OrderedDict" | b"defaultdict" => Some(&o.dict_items),
        b"Counter" => match &d.objs[o.args as usize] {
            Obj::Tuple(args) if args.len() == 1 => match &d.objs[args[0] as usize] {
                Obj::Dict(items) => Some(items),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// `d[key]` for a str key, as Python looks it up: only a str equal to `key` matches, and when a
/// pickle sets the key twice the later value is the one the dict holds.
fn lookup(d: &Decoded, items: &[Id], key: &str) -> Option<Id> {
    items
        .chunks_exact(2)
        .filter(
            |kv| matches!(&d.objs[kv[0] as usize], Obj::Str(s) if d.bytes(*s) == key.as_bytes()),
        )
        .map(|kv| kv[1])
        .next_back()
}

fn check_strict(d: &Decoded, items: &[Id]) -> Result<(), String> {
    for kv in items.chunks_exact(2) {
        let known = match &d.objs[kv[0] as usize] {
            Obj::Str(s) => KEYS.iter().any(|k| d.bytes(*s) == k.as_bytes()),
            _ => false,
        };
        if !known {
            let mut key = Vec::new();
            let shown = d.write_str_of(kv[0], 200, &mut key).is_ok();
            let key = if shown {
                escaped(&key)
            } else {
                type_name(&d.objs[kv[0] as usize]).to_string()
            };
            return Err(format!(
                "unexpected key {key} (--strict: only {})",
                KEYS.join(", ")
            ));
        }
    }
    for (key, want) in KEYS.iter().zip(["str", "str", "int"]) {
        let Some(id) = lookup(d, items, key) else {
            return Err(format!("missing key '{key}'"));
        };
        let o = &d.objs[id as usize];
        let ok = match want {
            "str" => matches!(o, Obj::Str(_)),
            _ => matches!(o, Obj::Int(_) | Obj::Big(_)),
        };
        if !ok {
            return Err(format!(
                "'{key}' must be {} (--strict), got {}",
                if want == "str" { "a str" } else { "an int" },
                type_name(o)
            ));
        }
    }
    Ok(())
}

/// Python's `str()` of object `id`, escaped, within `max` bytes.
fn str_of(d: &Decoded, id: Id, max: usize) -> Result<String, String> {
    let kind = type_name(&d.objs[id as usize]);
    let too_large =
        |n| format!("{kind} too large to print (over {n} bytes once shared parts are expanded)");
    if !matches!(d.objs[id as usize], Obj::Str(_)) {
        match d.repr_bound(id) {
            Ok(n) if n > max as u64 => return Err(too_large(max)),
            Ok(_) => {}
            Err(e) => return Err(format!("{kind} {e}")), // only TooDeep
        }
    }
    let mut text = Vec::new();
    d.write_str_of(id, max, &mut text).map_err(|e| match e {
        ReprError::TooLarge(n) => too_large(n),
        ReprError::TooDeep(_) => format!("{kind} {e}"),
        other => other.to_string(),
    })?;
    Ok(escaped(&text))
}

/// WTF-8 text with its unprintable characters escaped.
fn escaped(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len());
    escape_into(b, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Python's name for the type of a decoded object.
fn type_name(o: &Obj) -> &'static str {
    match o {
        Obj::None => "None",
        Obj::Bool(_) => "a bool",
        Obj::Int(_) | Obj::Big(_) => "an int",
        Obj::Float(_) => "a float",
        Obj::Complex(..) => "a complex",
        Obj::Str(_) => "a str",
        Obj::Bytes(_) => "bytes",
        Obj::ByteArray(_) => "a bytearray",
        Obj::List(_) => "a list",
        Obj::Tuple(_) => "a tuple",
        Obj::Dict(_) => "a dict",
        Obj::Set(_) => "a set",
        Obj::FrozenSet(_) => "a frozenset",
        Obj::Global { .. } => "a global reference",
        Obj::Object(_) => "an object construction",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::encode::encode;
    use crate::pickle::literal::parse as parse_literal;
    use crate::pickle::{Event, Limits, PickleStream};

    fn decoded(pickle: &[u8]) -> Decoded {
        let mut s = PickleStream::new(crate::pickle::Framing::Stop, Limits::default());
        s.push(pickle);
        match s.next_event() {
            Some(Event::Message(d)) => d,
            other => panic!("{other:?}"),
        }
    }

    fn from_literal(text: &str) -> Decoded {
        let value = parse_literal(text).unwrap();
        decoded(&encode(&value, 4).unwrap())
    }

    const LOOSE: RecordRules = RecordRules {
        strict: false,
        max_value: 1 << 20,
    };
    const STRICT: RecordRules = RecordRules {
        strict: true,
        max_value: 1 << 20,
    };

    fn record(text: &str, rules: &RecordRules) -> Result<String, String> {
        Record::from_decoded(&from_literal(text), rules).map(|r| r.connected_line())
    }

    #[test]
    fn prints_str_of_each_value_as_the_original_f_string_does() {
        let alice =
            "{'student_name': 'Alice Brown', 'github_username': 'abrown', 'sid': 123456789}";
        let line = "Connected: Student: Alice Brown, Github Username: abrown, sid: 123456789";
        assert_eq!(record(alice, &LOOSE).as_deref(), Ok(line));
        assert_eq!(record(alice, &STRICT).as_deref(), Ok(line));
        assert_eq!(
            record(
                "{'sid': 'SID: 920652002', 'student_name': b'Bob', 'github_username': None, 'extra': [1]}",
                &LOOSE
            )
            .as_deref(),
            Ok("Connected: Student: b'Bob', Github Username: None, sid: SID: 920652002")
        );
        assert_eq!(
            record(
                "{'student_name': ['A', 1.5], 'github_username': True, 'sid': {'n': (1,)}}",
                &LOOSE
            )
            .as_deref(),
            Ok("Connected: Student: ['A', 1.5], Github Username: True, sid: {'n': (1,)}")
        );
    }

    #[test]
    fn dict_subclasses_are_records_too() {
        // What Python 3.11 writes for OrderedDict, defaultdict(int, ...) and Counter at protocol 4.
        let ordered = b"\x80\x04\x95V\x00\x00\x00\x00\x00\x00\x00\x8c\x0bcollections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94(\x8c\x0cstudent_name\x94\x8c\x02Od\x94\x8c\x0fgithub_username\x94\x8c\x01g\x94\x8c\x03sid\x94K\x01u.";
        let r = Record::from_decoded(&decoded(ordered), &LOOSE).unwrap();
        assert_eq!((r.name.as_str(), r.sid.as_str()), ("Od", "1"));
        let counter = b"\x80\x04\x95U\x00\x00\x00\x00\x00\x00\x00\x8c\x0bcollections\x94\x8c\x07Counter\x94\x93\x94}\x94(\x8c\x0cstudent_name\x94\x8c\x02Co\x94\x8c\x0fgithub_username\x94\x8c\x01g\x94\x8c\x03sid\x94K\x01u\x85\x94R\x94.";
        let r = Record::from_decoded(&decoded(counter), &LOOSE).unwrap();
        assert_eq!(r.name, "Co");
    }

    #[test]
    fn strict_restores_the_type_checks() {
        let str_sid = "{'student_name': 'A', 'github_username': 'a', 'sid': '1'}";
        assert!(record(str_sid, &LOOSE).is_ok());
        assert_eq!(
            record(str_sid, &STRICT),
            Err("'sid' must be an int (--strict), got a str".into())
        );
        let extra = "{'student_name': 'A', 'github_username': 'a', 'sid': 1, 'x\\n': 2}";
        assert!(record(extra, &LOOSE).is_ok());
        assert_eq!(
            record(extra, &STRICT),
            Err("unexpected key x\\n (--strict: only student_name, github_username, sid)".into())
        );
    }

    #[test]
    fn what_the_original_fails_on_is_refused_with_its_reason() {
        assert_eq!(
            record("{'student_name': 'A', 'sid': 1}", &LOOSE),
            Err("missing key 'github_username'".into())
        );
        assert_eq!(
            record("[1, 2]", &LOOSE),
            Err(
                "expected a dict with the keys student_name, github_username, sid, got a list"
                    .into()
            )
        );
        // The old client's keys.
        assert_eq!(
            record("{'name': 'A', 'email': 'a@b'}", &LOOSE),
            Err("missing key 'student_name'".into())
        );
        // b'sid' is not 'sid' in Python.
        assert_eq!(
            record(
                "{'student_name': 'A', 'github_username': 'a', b'sid': 1}",
                &LOOSE
            ),
            Err("missing key 'sid'".into())
        );
    }

    #[test]
    fn an_int_python_cannot_print_is_refused_with_python_s_reason() {
        let big = num_traits::pow(num_bigint::BigInt::from(10), 5000);
        let mut value = student_dict("A", "g", 1);
        if let Value::Dict(items) = &mut value {
            items[2].1 = Value::BigInt(big);
        }
        let err = Record::from_decoded(&decoded(&encode(&value, 4).unwrap()), &LOOSE).unwrap_err();
        assert!(
            err.starts_with("'sid': an int has more than 4300 digits"),
            "{err}"
        );
    }

    #[test]
    fn a_key_set_twice_holds_the_later_value() {
        // pickle: {'student_name': 'A', 'github_username': 'g', 'sid': 1}, then SETITEM 'sid' = 2.
        let mut p = encode(
            &parse_literal("{'student_name': 'A', 'github_username': 'g', 'sid': 1}").unwrap(),
            2,
        )
        .unwrap();
        p.pop(); // STOP
        p.extend_from_slice(b"X\x03\x00\x00\x00sidK\x02s.");
        let r = Record::from_decoded(&decoded(&p), &LOOSE).unwrap();
        assert_eq!(r.sid, "2");
    }

    #[test]
    fn control_characters_are_escaped() {
        let evil =
            "{'student_name': 'Mallory\\nConnected: Student: Forged Person\\x1b[2J\\u202e', \
                    'github_username': '\\x9b31m', 'sid': 'x'}";
        assert_eq!(
            record(evil, &LOOSE).unwrap(),
            "Connected: Student: Mallory\\nConnected: Student: Forged Person\\x1b[2J\\u202e, \
             Github Username: \\x9b31m, sid: x"
        );
        // A lone surrogate, as Python pickles it (BINUNICODE, 'surrogatepass').
        let mut p = b"\x80\x04}\x94(\x8c\x0cstudent_name\x8c\x01A\x8c\x0fgithub_username".to_vec();
        p.extend_from_slice(b"X\x04\x00\x00\x00x\xed\xa0\x80\x8c\x03sidK\x01u.");
        let r = Record::from_decoded(&decoded(&p), &LOOSE).unwrap();
        assert_eq!(r.github, "x\\ud800");
    }

    #[test]
    fn doubled_shared_values_are_refused_before_they_are_expanded() {
        // {'student_name': t40, ...} where t0 = [] and t(i+1) = (ti, ti), shared through the memo:
        // 330 bytes whose repr would be 2^40 times longer.
        let mut fixed = b"\x80\x04}\x94(\x8c\x0cstudent_name\x94]\x940".to_vec();
        for i in 0..40u8 {
            // GET ti, GET ti, TUPLE2, MEMOIZE as t(i+1), POP.
            fixed.extend_from_slice(&[b'h', i + 2, b'h', i + 2, 0x86, 0x94, b'0']);
        }
        fixed.extend_from_slice(b"h\x2a\x8c\x0fgithub_username\x94\x8c\x01g\x8c\x03sid\x94K\x01u.");
        assert!(fixed.len() < 400);
        let d = decoded(&fixed);
        let err = Record::from_decoded(&d, &LOOSE).unwrap_err();
        assert!(
            err.starts_with("'student_name': a tuple too large to print"),
            "{err}"
        );
    }

    #[test]
    fn acknowledgements_equal_to_one_in_python() {
        for (text, ok) in [
            ("1", true),
            ("True", true),
            ("1.0", true),
            ("0", false),
            ("2", false),
            ("'1'", false),
            ("[1]", false),
            ("None", false),
        ] {
            assert_eq!(is_ack(&from_literal(text)), ok, "{text}");
        }
    }
}
