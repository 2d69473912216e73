//! The opcode scanner: finds where one pickle ends, tells "wait for more bytes" from "this is not a
//! pickle", and enforces the size and MARK limits, all before anything is decoded.
//!
//! It walks opcodes and their arguments without building objects, keeping only a count of the
//! items on the unpickling stack and the stack height at each open MARK, so stack underflows, odd
//! SETITEMS and runaway MARKs are caught here. It is resumable: a pickle that arrives over many reads
//! is scanned once, from where the last call stopped, so scanning is linear in the bytes received.

/// Limits applied to every message, so hostile input cannot exhaust memory, stack or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message, in bytes (the `--max-message` flag; 16 MiB by default). A declared length
    /// (BINUNICODE8, FRAME, a len32 prefix...) beyond it is rejected without waiting for the bytes.
    pub max_message: usize,
    /// Deepest nesting shown by repr or converted by `to_value` (1000, Python's own recursion limit:
    /// CPython can neither pickle nor repr anything deeper).
    pub max_depth: usize,
    /// Most MARKs open at once (10,000).
    pub max_marks: usize,
    /// Largest repr of one message, in bytes (16 MiB). Shared sub-objects are printed in full each
    /// time, as Python does, so a small pickle can ask for an exponentially large repr.
    pub max_output: usize,
    /// Most nodes `to_value` builds for one message (1,000,000), for the same reason.
    pub max_nodes: usize,
    /// Most memory decoding one message may use, in bytes: objects, the stack, the memo, text and
    /// container items all count (6 times `max_message`, so 96 MiB by default: a 16 MiB list of
    /// floats needs 70). A pickle can ask for far more memory than its size (one byte of `]` is a
    /// whole list; one byte of MEMOIZE a memo entry); past this budget it is refused as invalid
    /// rather than built.
    pub max_memory: usize,
}

/// How many times `max_message` one message may use while it is decoded (see `Limits::max_memory`).
pub const MEMORY_PER_MESSAGE_BYTE: usize = 6;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 16 * 1024 * 1024,
            max_depth: 1000,
            max_marks: 10_000,
            max_output: 16 * 1024 * 1024,
            max_nodes: 1_000_000,
            max_memory: MEMORY_PER_MESSAGE_BYTE * 16 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The default limits with another largest message size.
    pub fn with_max_message(max_message: usize) -> Limits {
        // Decoded offsets are 32-bit; a message over 1 GiB is refused rather than mis-decoded.
        let max_message = max_message.min(1 << 30);
        Limits {
            max_message,
            // At least 1 MiB, so a small --max-message still decodes ordinary pickles.
            max_memory: max_message
                .saturating_mul(MEMORY_PER_MESSAGE_BYTE)
                .max(1 << 20),
            ..Limits::default()
        }
    }
}

/// What scanning the start of a buffer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// A whole pickle: its length in bytes, STOP included.
    Complete(usize),
    /// The bytes so far are a valid start; more are needed.
    Incomplete,
    /// Not a pickle: the opcode at offset `at` is bad (or the message grew past the size limit).
    Invalid {
        at: usize,
        reason: String,
        too_large: bool,
    },
}

/// Pickle opcodes (see CPython's `Lib/pickletools.py`).
pub(crate) mod op {
    pub const MARK: u8 = b'(';
    pub const STOP: u8 = b'.';
    pub const POP: u8 = b'0';
    pub const POP_MARK: u8 = b'1';
    pub const DUP: u8 = b'2';
    pub const FLOAT: u8 = b'F';
    pub const INT: u8 = b'I';
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const LONG: u8 = b'L';
    pub const BININT2: u8 = b'M';
    pub const NONE: u8 = b'N';
    pub const PERSID: u8 = b'P';
    pub const BINPERSID: u8 = b'Q';
    pub const REDUCE: u8 = b'R';
    pub const STRING: u8 = b'S';
    pub const BINSTRING: u8 = b'T';
    pub const SHORT_BINSTRING: u8 = b'U';
    pub const UNICODE: u8 = b'V';
    pub const BINUNICODE: u8 = b'X';
    pub const APPEND: u8 = b'a';
    pub const BUILD: u8 = b'b';
    pub const GLOBAL: u8 = b'c';
    pub const DICT: u8 = b'd';
    pub const EMPTY_DICT: u8 = b'}';
    pub const APPENDS: u8 = b'e';
    pub const GET: u8 = b'g';
    pub const BINGET: u8 = b'h';
    pub const INST: u8 = b'i';
    pub const LONG_BINGET: u8 = b'j';
    pub const LIST: u8 = b'l';
    pub const EMPTY_LIST: u8 = b']';
    pub const OBJ: u8 = b'o';
    pub const PUT: u8 = b'p';
    pub const BINPUT: u8 = b'q';
    pub const LONG_BINPUT: u8 = b'r';
    pub const SETITEM: u8 = b's';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const SETITEMS: u8 = b'u';
    pub const BINFLOAT: u8 = b'G';
    pub const PROTO: u8 = 0x80;
    pub const NEWOBJ: u8 = 0x81;
    pub const EXT1: u8 = 0x82;
    pub const EXT2: u8 = 0x83;
    pub const EXT4: u8 = 0x84;
    pub const TUPLE1: u8 = 0x85;
    pub const TUPLE2: u8 = 0x86;
    pub const TUPLE3: u8 = 0x87;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const LONG1: u8 = 0x8a;
    pub const LONG4: u8 = 0x8b;
    pub const BINBYTES: u8 = b'B';
    pub const SHORT_BINBYTES: u8 = b'C';
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const BINUNICODE8: u8 = 0x8d;
    pub const BINBYTES8: u8 = 0x8e;
    pub const EMPTY_SET: u8 = 0x8f;
    pub const ADDITEMS: u8 = 0x90;
    pub const FROZENSET: u8 = 0x91;
    pub const NEWOBJ_EX: u8 = 0x92;
    pub const STACK_GLOBAL: u8 = 0x93;
    pub const MEMOIZE: u8 = 0x94;
    pub const FRAME: u8 = 0x95;
    pub const BYTEARRAY8: u8 = 0x96;
    pub const NEXT_BUFFER: u8 = 0x97;
    pub const READONLY_BUFFER: u8 = 0x98;
}

/// How an opcode's argument is laid out.
#[derive(Clone, Copy)]
enum Arg {
    /// Not an opcode.
    Bad,
    /// A fixed number of bytes (possibly 0).
    Fixed(u8),
    /// A length of 1, 4 or 8 little-endian bytes, then that many bytes.
    Counted(u8),
    /// `n` newline-terminated text lines.
    Lines(u8),
}

const fn arg_table() -> [Arg; 256] {
    use op::*;
    let mut t = [Arg::Bad; 256];
    let fixed0 = [
        MARK,
        STOP,
        POP,
        POP_MARK,
        DUP,
        NONE,
        BINPERSID,
        REDUCE,
        APPEND,
        BUILD,
        DICT,
        EMPTY_DICT,
        APPENDS,
        LIST,
        EMPTY_LIST,
        OBJ,
        SETITEM,
        TUPLE,
        EMPTY_TUPLE,
        SETITEMS,
        NEWOBJ,
        TUPLE1,
        TUPLE2,
        TUPLE3,
        NEWTRUE,
        NEWFALSE,
        EMPTY_SET,
        ADDITEMS,
        FROZENSET,
        NEWOBJ_EX,
        STACK_GLOBAL,
        MEMOIZE,
        NEXT_BUFFER,
        READONLY_BUFFER,
    ];
    let mut i = 0;
    while i < fixed0.len() {
        t[fixed0[i] as usize] = Arg::Fixed(0);
        i += 1;
    }
    t[BININT as usize] = Arg::Fixed(4);
    t[BININT1 as usize] = Arg::Fixed(1);
    t[BININT2 as usize] = Arg::Fixed(2);
    t[BINGET as usize] = Arg::Fixed(1);
    t[LONG_BINGET as usize] = Arg::Fixed(4);
    t[BINPUT as usize] = Arg::Fixed(1);
    t[LONG_BINPUT as usize] = Arg::Fixed(4);
    t[BINFLOAT as usize] = Arg::Fixed(8);
    t[PROTO as usize] = Arg::Fixed(1);
    t[EXT1 as usize] = Arg::Fixed(1);
    t[EXT2 as usize] = Arg::Fixed(2);
    t[EXT4 as usize] = Arg::Fixed(4);
    t[FRAME as usize] = Arg::Fixed(8);
    t[SHORT_BINSTRING as usize] = Arg::Counted(1);
    t[SHORT_BINBYTES as usize] = Arg::Counted(1);
    t[SHORT_BINUNICODE as usize] = Arg::Counted(1);
    t[LONG1 as usize] = Arg::Counted(1);
    t[BINSTRING as usize] = Arg::Counted(4);
    t[BINUNICODE as usize] = Arg::Counted(4);
    t[BINBYTES as usize] = Arg::Counted(4);
    t[LONG4 as usize] = Arg::Counted(4);
    t[BINUNICODE8 as usize] = Arg::Counted(8);
    t[BINBYTES8 as usize] = Arg::Counted(8);
    t[BYTEARRAY8 as usize] = Arg::Counted(8);
    let lines1 = [FLOAT, INT, LONG, PERSID, STRING, UNICODE, GET, PUT];
    i = 0;
    while i < lines1.len() {
        t[lines1[i] as usize] = Arg::Lines(1);
        i += 1;
    }
    t[GLOBAL as usize] = Arg::Lines(2);
    t[INST as usize] = Arg::Lines(2);
    t
}

static ARGS: [Arg; 256] = arg_table();

/// The name of an opcode that works on the stack or reads a text argument, for error messages;
/// other opcodes are named by their byte (`opcode 0x8c`). Length-prefixed opcodes are named by
/// [`sized_family_name`].
pub(crate) fn opcode_name(code: u8) -> String {
    use op::*;
    let name = match code {
        MARK => "MARK",
        STOP => "STOP",
        POP => "POP",
        POP_MARK => "POP_MARK",
        DUP => "DUP",
        APPEND => "APPEND",
        APPENDS => "APPENDS",
        SETITEM => "SETITEM",
        SETITEMS => "SETITEMS",
        ADDITEMS => "ADDITEMS",
        BUILD => "BUILD",
        REDUCE => "REDUCE",
        NEWOBJ => "NEWOBJ",
        NEWOBJ_EX => "NEWOBJ_EX",
        STACK_GLOBAL => "STACK_GLOBAL",
        TUPLE => "TUPLE",
        TUPLE1 => "TUPLE1",
        TUPLE2 => "TUPLE2",
        TUPLE3 => "TUPLE3",
        LIST => "LIST",
        DICT => "DICT",
        FROZENSET => "FROZENSET",
        INST => "INST",
        OBJ => "OBJ",
        PUT | BINPUT | LONG_BINPUT => "PUT",
        GET => "GET",
        INT => "INT",
        LONG => "LONG",
        FLOAT => "FLOAT",
        GLOBAL => "GLOBAL",
        STRING => "STRING",
        MEMOIZE => "MEMOIZE",
        PROTO => "PROTO",
        FRAME => "FRAME",
        BINPERSID => "BINPERSID",
        READONLY_BUFFER => "READONLY_BUFFER",
        _ => return format!("opcode 0x{code:02x}"),
    };
    name.to_string()
}

/// A resumable scan of one message. Call [`Scanner::scan`] with the buffered bytes of the message
/// (always starting at its first byte) each time more arrive; [`Scanner::reset`] before the next one.
#[derive(Debug, Default)]
pub struct Scanner {
    /// Offset of the next opcode to look at.
    pos: usize,
    /// Where to resume the search for a newline inside a text argument.
    line_from: usize,
    /// Items on the stack (the simulated unpickler's).
    stack: usize,
    /// Stack height at each open MARK.
    marks: Vec<usize>,
}

type Step = Result<(), String>;

impl Scanner {
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// Forgets the current message; the next scan starts a new one.
    pub fn reset(&mut self) {
        self.pos = 0;
        self.line_from = 0;
        self.stack = 0;
        self.marks.clear();
    }

    /// Scans `buf`, the bytes of one message buffered so far, from where the last call stopped.
    pub fn scan(&mut self, buf: &[u8], limits: &Limits) -> Scan {
        let max = limits.max_message;
        loop {
            let p = self.pos;
            let Some(&code) = buf.get(p) else {
                return self.incomplete(buf.len(), max);
            };
            let end = match ARGS[code as usize] {
                Arg::Bad => return invalid(p, format!("0x{code:02x} is not a pickle opcode")),
                Arg::Fixed(n) => p + 1 + n as usize,
                Arg::Counted(w) => {
                    let w = w as usize;
                    let Some(len_bytes) = buf.get(p + 1..p + 1 + w) else {
                        return self.incomplete(buf.len(), max);
                    };
                    let mut le = [0u8; 8];
                    le[..w].copy_from_slice(len_bytes);
                    let len = u64::from_le_bytes(le);
                    if code == op::BINSTRING && len > i32::MAX as u64 {
                        return invalid(p, "BINSTRING has a negative length".into());
                    }
                    // Checked before waiting for the bytes, so a 4 GB claim fails at once.
                    let end = (p as u64 + 1 + w as u64).saturating_add(len);
                    if end > max as u64 {
                        return too_large(
                            p,
                            format!(
                                "{} declares {len} bytes, over the {max}-byte limit",
                                sized_family_name(code)
                            ),
                        );
                    }
                    end as usize
                }
                Arg::Lines(n) => {
                    let mut from = self.line_from.max(p + 1);
                    let mut found = 0;
                    let mut end = None;
                    let ok = line_byte_check(code);
                    while let Some(i) = buf[from.min(buf.len())..]
                        .iter()
                        .position(|&b| b == b'\n' || !ok(b))
                    {
                        if buf[from + i] != b'\n' {
                            return invalid(
                                p,
                                format!(
                                    "{} argument holds byte 0x{:02x}",
                                    opcode_name(code),
                                    buf[from + i]
                                ),
                            );
                        }
                        if code == op::STRING && !matches!(buf.get(p + 1), Some(b'\'' | b'"')) {
                            return invalid(p, "STRING argument is not quoted".into());
                        }
                        found += 1;
                        from += i + 1;
                        if found == n {
                            end = Some(from);
                            break;
                        }
                    }
                    match end {
                        Some(e) => e,
                        None => {
                            // Remember how far we looked only when no line was found yet, so a
                            // two-line argument is re-counted from its start (cheap: names are short).
                            if found == 0 {
                                self.line_from = buf.len();
                            }
                            return self.incomplete(buf.len(), max);
                        }
                    }
                }
            };
            if end > max {
                return too_large(p, format!("message larger than the {max}-byte limit"));
            }
            if end > buf.len() {
                return self.incomplete(buf.len(), max);
            }
            if code == op::FRAME {
                let len = u64::from_le_bytes(buf[p + 1..end].try_into().unwrap_or([0xff; 8]));
                if (end as u64).saturating_add(len) > max as u64 {
                    return too_large(
                        p,
                        format!("FRAME declares {len} bytes, over the {max}-byte limit"),
                    );
                }
            }
            if code == op::PROTO {
                if p != 0 {
                    return invalid(p, "PROTO opcode inside a pickle".into());
                }
                if buf[p + 1] > 5 {
                    return invalid(p, format!("unsupported pickle protocol {}", buf[p + 1]));
                }
            }
            if let Err(reason) = self.effect(code, limits) {
                return invalid(p, reason);
            }
            self.pos = end;
            self.line_from = end;
            if code == op::STOP {
                return Scan::Complete(end);
            }
        }
    }

    fn incomplete(&self, have: usize, max: usize) -> Scan {
        if have > max {
            too_large(
                self.pos,
                format!("message larger than the {max}-byte limit"),
            )
        } else {
            Scan::Incomplete
        }
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    /// Requires `n` items above the innermost MARK.
    fn need(&self, n: usize, code: u8) -> Step {
        if self.stack - self.fence() < n {
            Err(format!(
                "{} on a stack with too few items",
                opcode_name(code)
            ))
        } else {
            Ok(())
        }
    }

    fn pop_mark(&mut self, code: u8) -> Result<usize, String> {
        let Some(m) = self.marks.pop() else {
            return Err(format!("{} without a MARK", opcode_name(code)));
        };
        let items = self.stack - m;
        self.stack = m;
        Ok(items)
    }

    /// Applies one opcode's effect on the simulated stack.
    fn effect(&mut self, code: u8, limits: &Limits) -> Step {
        use op::*;
        match code {
            MARK => {
                if self.marks.len() >= limits.max_marks {
                    return Err(format!("more than {} MARKs open at once", limits.max_marks));
                }
                self.marks.push(self.stack);
            }
            STOP => self.need(1, code)?,
            POP => {
                if self.marks.last() == Some(&self.stack) {
                    self.marks.pop();
                } else {
                    self.need(1, code)?;
                    self.stack -= 1;
                }
            }
            POP_MARK => {
                self.pop_mark(code)?;
            }
            DUP => {
                self.need(1, code)?;
                self.stack += 1;
            }
            FLOAT | INT | BININT | BININT1 | LONG | BININT2 | NONE | PERSID | STRING
            | BINSTRING | SHORT_BINSTRING | UNICODE | BINUNICODE | EMPTY_DICT | GET | BINGET
            | LONG_BINGET | EMPTY_LIST | EMPTY_TUPLE | BINFLOAT | EXT1 | EXT2 | EXT4 | NEWTRUE
            | NEWFALSE | LONG1 | LONG4 | BINBYTES | SHORT_BINBYTES | SHORT_BINUNICODE
            | BINUNICODE8 | BINBYTES8 | EMPTY_SET | BYTEARRAY8 | NEXT_BUFFER | GLOBAL => {
                self.stack += 1
            }
            BINPERSID | TUPLE1 | PUT | BINPUT | LONG_BINPUT | MEMOIZE | READONLY_BUFFER => {
                self.need(1, code)?
            }
            APPEND | BUILD | REDUCE | NEWOBJ | STACK_GLOBAL | TUPLE2 => {
                self.need(2, code)?;
                self.stack -= 1;
            }
            SETITEM | NEWOBJ_EX | TUPLE3 => {
                self.need(3, code)?;
                self.stack -= 2;
            }
            APPENDS | SETITEMS | ADDITEMS => {
                let items = self.pop_mark(code)?;
                if code == SETITEMS && items % 2 != 0 {
                    return Err("odd number of items for SETITEMS".into());
                }
                self.need(1, code)?;
            }
            TUPLE | LIST | DICT | FROZENSET | INST => {
                let items = self.pop_mark(code)?;
                if code == DICT && items % 2 != 0 {
                    return Err("odd number of items for DICT".into());
                }
                self.stack += 1;
            }
            OBJ => {
                if self.pop_mark(code)? == 0 {
                    return Err("OBJ without a class".into());
                }
                self.stack += 1;
            }
            PROTO | FRAME => {}
            _ => return Err(format!("0x{code:02x} is not a pickle opcode")),
        }
        Ok(())
    }
}

/// Which bytes may appear in an opcode's text argument: digits for numbers, printable text for
/// names. A stray text opcode in binary garbage then fails at the first binary byte instead of
/// swallowing the stream while it waits for a newline.
fn line_byte_check(code: u8) -> fn(u8) -> bool {
    match code {
        op::INT | op::LONG | op::FLOAT | op::GET | op::PUT => {
            |b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'_' | b' ' | b'\r')
        }
        op::GLOBAL | op::INST => |b| b >= 0x20 && b != 0x7f || b == b'\r',
        _ => |_| true,
    }
}

/// The family name of a length-prefixed opcode, for "declares N bytes" errors: every width of
/// BINBYTES is `BINBYTES`, as a person reading the limit error knows it.
fn sized_family_name(code: u8) -> &'static str {
    use op::*;
    match code {
        SHORT_BINSTRING | BINSTRING => "BINSTRING",
        SHORT_BINBYTES | BINBYTES | BINBYTES8 => "BINBYTES",
        SHORT_BINUNICODE | BINUNICODE | BINUNICODE8 => "BINUNICODE",
        LONG1 | LONG4 => "LONG",
        BYTEARRAY8 => "BYTEARRAY8",
        _ => "an opcode",
    }
}

fn invalid(at: usize, reason: String) -> Scan {
    Scan::Invalid {
        at,
        reason,
        too_large: false,
    }
}

fn too_large(at: usize, reason: String) -> Scan {
    Scan::Invalid {
        at,
        reason,
        too_large: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(buf: &[u8]) -> Scan {
        Scanner::new().scan(buf, &Limits::default())
    }

    #[test]
    fn finds_the_end_of_a_protocol_4_pickle() {
        // pickle.dumps({'clientid': 60644}) (PROTOCOL.md section 1).
        let p = hex::decode(
            "80049512000000000000007d948c08636c69656e74696494".to_owned() + "4de4ec732e",
        )
        .unwrap();
        assert_eq!(scan_all(&p), Scan::Complete(29));
        let mut two = p.clone();
        two.extend_from_slice(&p);
        assert_eq!(scan_all(&two), Scan::Complete(29));
    }

    #[test]
    fn every_prefix_is_incomplete_and_resumes() {
        let p = b"(lp0\nI1\naVab\\u20ac\np1\na(I1\nI2\ntp2\na.";
        let limits = Limits::default();
        for cut in 0..p.len() {
            assert_eq!(scan_all(&p[..cut]), Scan::Incomplete, "cut at {cut}");
            let mut s = Scanner::new();
            assert_eq!(s.scan(&p[..cut], &limits), Scan::Incomplete);
            assert_eq!(s.scan(p, &limits), Scan::Complete(p.len()));
        }
    }

    #[test]
    fn huge_declared_length_fails_at_once() {
        let mut p = b"\x80\x04\x8d".to_vec();
        p.extend_from_slice(&(4u64 << 30).to_le_bytes());
        match scan_all(&p) {
            Scan::Invalid { too_large, .. } => assert!(too_large),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn underflow_and_bad_opcodes_are_invalid() {
        assert!(matches!(scan_all(b"a"), Scan::Invalid { at: 0, .. }));
        assert!(matches!(scan_all(b"N\xff"), Scan::Invalid { at: 1, .. }));
        assert!(matches!(scan_all(b"(NNNu"), Scan::Invalid { at: 4, .. }));
        assert!(matches!(
            scan_all(b"N\x80\x02"),
            Scan::Invalid { at: 1, .. }
        ));
    }

    #[test]
    fn mark_flood_is_stopped() {
        let p = vec![b'('; 1_000_000];
        match scan_all(&p) {
            Scan::Invalid { at, reason, .. } => {
                assert_eq!(at, 10_000);
                assert!(reason.contains("MARK"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
