//! The socket-lab handshake messages (PROTOCOL.md section 1), as typed Rust values read from and
//! written as Python objects.
//!
//! 1. the server sends `{'clientid': <the client's source port>}` (older servers: a bare int);
//! 2. the client sends `{'student_name': str, 'github_username': str, 'sid': int}`;
//! 3. the server acknowledges with `1`, and does so again for every further dict.
//!
//! Each message is one pickle; the server writes protocol 4, as the Python 3.8+ originals do.

use std::fmt;

use crate::pickle::Value;

/// The pickle protocol the Python originals write (3.8 to 3.13 default).
pub const PROTOCOL: u8 = 4;

/// The acknowledgement: `pickle.dumps(1)` at protocol 4; loads as `1` in every Python 3.
pub const ACK: &[u8] = &[0x80, 0x04, 0x4b, 0x01, 0x2e];

/// The server's first message.
#[derive(Debug, Clone, PartialEq)]
pub enum Welcome {
    /// `{'clientid': id}` (the current course version).
    Dict(i64),
    /// A bare int id (an older course version).
    Bare(i64),
}

impl Welcome {
    /// Reads the server's first message; `None` when it is neither form.
    pub fn from_value(value: &Value) -> Option<Welcome> {
        match value {
            Value::Int(id) => Some(Welcome::Bare(*id)),
            Value::Dict(items) if items.len() == 1 => match value.get("clientid") {
                Some(Value::Int(id)) => Some(Welcome::Dict(*id)),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn id(&self) -> i64 {
        match self {
            Welcome::Dict(id) | Welcome::Bare(id) => *id,
        }
    }

    /// `{'clientid': 60644}`.
    pub fn dict(id: i64) -> Value {
        Value::Dict(vec![(Value::Str("clientid".into()), Value::Int(id))])
    }
}

/// What a student sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    pub name: String,
    pub github: String,
    pub sid: i64,
}

/// Why a client's message is not a valid student record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadStudent(pub String);

impl fmt::Display for BadStudent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const KEYS: [&str; 3] = ["student_name", "github_username", "sid"];

impl Student {
    /// The dict the Python client sends, keys in its order.
    pub fn to_value(&self) -> Value {
        Value::Dict(vec![
            (
                Value::Str("student_name".into()),
                Value::Str(self.name.clone()),
            ),
            (
                Value::Str("github_username".into()),
                Value::Str(self.github.clone()),
            ),
            (Value::Str("sid".into()), Value::Int(self.sid)),
        ])
    }

    /// Checks a received value is a student dict: exactly the three keys, with the right types.
    pub fn from_value(value: &Value) -> Result<Student, BadStudent> {
        let Value::Dict(items) = value else {
            return Err(BadStudent(format!(
                "expected a dict with keys {}, got {}",
                KEYS.join(", "),
                type_name(value)
            )));
        };
        let mut keys = Vec::new();
        for (k, _) in items {
            match k {
                Value::Str(s) if KEYS.contains(&s.as_str()) => keys.push(s.as_str()),
                other => {
                    return Err(BadStudent(format!(
                        "unexpected key {} (expected only {})",
                        short_repr(other),
                        KEYS.join(", ")
                    )))
                }
            }
        }
        for key in KEYS {
            if !keys.contains(&key) {
                return Err(BadStudent(format!("missing key '{key}'")));
            }
        }
        let name = match value.get("student_name") {
            Some(Value::Str(s)) => s.clone(),
            Some(v) => {
                return Err(BadStudent(format!(
                    "'student_name' must be a str, got {}",
                    type_name(v)
                )))
            }
            None => unreachable!("checked above"),
        };
        let github = match value.get("github_username") {
            Some(Value::Str(s)) => s.clone(),
            Some(v) => {
                return Err(BadStudent(format!(
                    "'github_username' must be a str, got {}",
                    type_name(v)
                )))
            }
            None => unreachable!("checked above"),
        };
        let sid = match value.get("sid") {
            Some(Value::Int(n)) => *n,
            Some(Value::BigInt(_)) => return Err(BadStudent("'sid' is too large".into())),
            Some(v) => {
                return Err(BadStudent(format!(
                    "'sid' must be an int, got {}",
                    type_name(v)
                )))
            }
            None => unreachable!("checked above"),
        };
        Ok(Student { name, github, sid })
    }

    /// The line the Python server prints.
    pub fn connected_line(&self) -> String {
        format!(
            "Connected: Student: {}, Github Username: {}, sid: {}",
            self.name, self.github, self.sid
        )
    }
}

/// Python's name for the type of a value.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::None => "None",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::BigInt(_) => "int",
        Value::Float(_) => "float",
        Value::Str(_) => "str",
        Value::Bytes(_) => "bytes",
        Value::ByteArray(_) => "bytearray",
        Value::List(_) => "list",
        Value::Tuple(_) => "tuple",
        Value::Dict(_) => "dict",
        Value::Set(_) => "set",
        Value::FrozenSet(_) => "frozenset",
        Value::Global { .. } => "a global reference",
        Value::Call { .. } => "an object construction",
    }
}

fn short_repr(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("'{}'", s.chars().take(40).collect::<String>()),
        other => type_name(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    #[test]
    fn student_round_trip() {
        let st = Student {
            name: "Alice Brown".into(),
            github: "abrown".into(),
            sid: 123456789,
        };
        assert_eq!(Student::from_value(&st.to_value()), Ok(st.clone()));
        assert_eq!(
            st.connected_line(),
            "Connected: Student: Alice Brown, Github Username: abrown, sid: 123456789"
        );
    }

    #[test]
    fn bad_students_say_why() {
        let missing = Value::Dict(vec![(s("student_name"), s("A")), (s("sid"), Value::Int(1))]);
        assert_eq!(
            Student::from_value(&missing).unwrap_err().0,
            "missing key 'github_username'"
        );
        let old = Value::Dict(vec![(s("name"), s("A")), (s("email"), s("a@b"))]);
        assert!(Student::from_value(&old)
            .unwrap_err()
            .0
            .contains("unexpected key 'name'"));
        let wrong = Value::Dict(vec![
            (s("student_name"), Value::Int(5)),
            (s("github_username"), s("g")),
            (s("sid"), Value::Int(1)),
        ]);
        assert_eq!(
            Student::from_value(&wrong).unwrap_err().0,
            "'student_name' must be a str, got int"
        );
        assert!(Student::from_value(&Value::List(vec![])).is_err());
    }

    #[test]
    fn welcome_forms() {
        assert_eq!(
            Welcome::from_value(&Welcome::dict(60644)),
            Some(Welcome::Dict(60644))
        );
        assert_eq!(Welcome::from_value(&Value::Int(7)), Some(Welcome::Bare(7)));
        assert_eq!(Welcome::from_value(&s("hi")), None);
    }
}
