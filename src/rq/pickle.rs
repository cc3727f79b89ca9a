//! A safe, bounded pickle decoder and a protocol-5 encoder for plain data.
//!
//! RQ stores a job as `pickle.dumps((func_name, instance, args, kwargs))` and results
//! as `pickle.dumps(return_value)`. [`decode`] reads what CPython 3.8–3.13 writes for
//! plain data ([`Value`]) at protocols 0–5; [`encode`] writes protocol 5 that
//! `pickle.loads` turns back into the same Python types.
//!
//! # Safety model
//!
//! Unpickling in Python can call any importable callable. This decoder never does:
//! it is a stack machine over an arena of plain-data nodes, and every opcode that
//! would reference or build an arbitrary object (`GLOBAL`/`STACK_GLOBAL` of anything
//! else than the allowlist below, `REDUCE` on anything else, `BUILD`, `INST`, `OBJ`,
//! `NEWOBJ`, `NEWOBJ_EX`, `EXT1/2/4`, `PERSID`, `BINPERSID`) is refused with
//! [`PickleError::RefusedGlobal`] / [`PickleError::RefusedOpcode`].
//!
//! The allowlist is the handful of constructors CPython itself emits for plain data
//! at protocols 0–3 (and 4 for `bytearray`); our own code applies them to plain
//! arguments, nothing is "called":
//!
//! | global (`module.name`)                      | accepted arguments                                   | result        |
//! |---------------------------------------------|------------------------------------------------------|---------------|
//! | `builtins.set` / `__builtin__.set`          | `()` or one list/tuple/set/frozenset                 | `Set`         |
//! | `builtins.frozenset` / `__builtin__.frozenset` | same                                              | `FrozenSet`   |
//! | `builtins.bytearray` / `__builtin__.bytearray` | `()`, `(bytes,)`, `(str, encoding)`, `(list of ints 0..=255,)` | `Bytes` |
//! | `builtins.bytes` / `__builtin__.bytes`      | same as bytearray (CPython emits `()` for `b''`)     | `Bytes`       |
//! | `_codecs.encode`                            | `(str,)`, `(str, encoding)`, `(str, encoding, 'strict')` | `Bytes` (how protocol ≤ 2 pickles bytes) |
//!
//! Encodings understood by the byte constructors: latin-1 (`latin1`, `latin-1`,
//! `iso-8859-1`, `iso8859-1`, `l1`), `utf-8`/`utf8` and `ascii`.
//! `copyreg._reconstructor` and everything else is refused.
//!
//! # Bounds
//!
//! [`Limits`] (defined in `crate::value`, re-exported here) bounds the input size,
//! the container nesting and the number of values; every length field is checked
//! against the bytes that remain before anything is allocated. Memo references are
//! resolved by copying when the final value is built, so shared sub-objects count
//! once per occurrence (this bounds "billion laughs" pickles) and self-referencing
//! structures (`l = []; l.append(l)`) are reported as errors. The decoder never
//! panics on any input.
//!
//! # Not supported (errors)
//!
//! Out-of-band buffers (`NEXT_BUFFER`, `READONLY_BUFFER`), strings containing lone
//! surrogates (Rust strings cannot hold them), recursive structures, and objects of
//! any class other than the plain-data types.

use std::collections::HashMap;

use num_bigint::BigInt;

pub use crate::value::Limits;
use crate::value::{Value, INT_MAX_STR_DIGITS};

/// Why a pickle could not be decoded. Every variant says what was wrong and at
/// which byte offset of the input (the offset of the opcode involved).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickleError {
    /// The input ended before the opcode at `offset` was complete.
    #[error("pickle data was truncated: {what} at byte offset {offset} needs {needed} more bytes, only {available} remain")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: u64,
        available: usize,
    },
    /// The input is not a well-formed pickle of plain data.
    #[error("invalid pickle at byte offset {offset}: {msg}")]
    Invalid { offset: usize, msg: String },
    /// The pickle references a Python global that is not on the allowlist.
    #[error("refused: pickle references Python global '{module}.{name}' ({opcode}); only plain data is accepted (at byte offset {offset})")]
    RefusedGlobal {
        module: String,
        name: String,
        opcode: &'static str,
        offset: usize,
    },
    /// The pickle uses an opcode that constructs or looks up arbitrary objects.
    #[error("refused: pickle opcode {opcode} at byte offset {offset} {why}; only plain data is accepted")]
    RefusedOpcode {
        opcode: &'static str,
        offset: usize,
        why: &'static str,
    },
    /// A [`Limits`] bound was exceeded.
    #[error("pickle exceeds a limit at byte offset {offset}: {msg}")]
    Limit { offset: usize, msg: String },
}

type Result<T> = std::result::Result<T, PickleError>;

// ---------------------------------------------------------------------------
// Opcodes (names and values as in CPython's Lib/pickle.py).
// ---------------------------------------------------------------------------

const MARK: u8 = b'(';
const STOP: u8 = b'.';
const POP: u8 = b'0';
const POP_MARK: u8 = b'1';
const DUP: u8 = b'2';
const FLOAT: u8 = b'F';
const INT: u8 = b'I';
const BININT: u8 = b'J';
const BININT1: u8 = b'K';
const LONG: u8 = b'L';
const BININT2: u8 = b'M';
const NONE: u8 = b'N';
const PERSID: u8 = b'P';
const BINPERSID: u8 = b'Q';
const REDUCE: u8 = b'R';
const STRING: u8 = b'S';
const BINSTRING: u8 = b'T';
const SHORT_BINSTRING: u8 = b'U';
const UNICODE: u8 = b'V';
const BINUNICODE: u8 = b'X';
const APPEND: u8 = b'a';
const BUILD: u8 = b'b';
const GLOBAL: u8 = b'c';
const DICT: u8 = b'd';
const EMPTY_DICT: u8 = b'}';
const APPENDS: u8 = b'e';
const GET: u8 = b'g';
const BINGET: u8 = b'h';
const INST: u8 = b'i';
const LONG_BINGET: u8 = b'j';
const LIST: u8 = b'l';
const EMPTY_LIST: u8 = b']';
const OBJ: u8 = b'o';
const PUT: u8 = b'p';
const BINPUT: u8 = b'q';
const LONG_BINPUT: u8 = b'r';
const SETITEM: u8 = b's';
const TUPLE: u8 = b't';
const EMPTY_TUPLE: u8 = b')';
const SETITEMS: u8 = b'u';
const BINFLOAT: u8 = b'G';
// Protocol 2
const PROTO: u8 = 0x80;
const NEWOBJ: u8 = 0x81;
const EXT1: u8 = 0x82;
const EXT2: u8 = 0x83;
const EXT4: u8 = 0x84;
const TUPLE1: u8 = 0x85;
const TUPLE2: u8 = 0x86;
const TUPLE3: u8 = 0x87;
const NEWTRUE: u8 = 0x88;
const NEWFALSE: u8 = 0x89;
const LONG1: u8 = 0x8a;
const LONG4: u8 = 0x8b;
// Protocol 3
const BINBYTES: u8 = b'B';
const SHORT_BINBYTES: u8 = b'C';
// Protocol 4
const SHORT_BINUNICODE: u8 = 0x8c;
const BINUNICODE8: u8 = 0x8d;
const BINBYTES8: u8 = 0x8e;
const EMPTY_SET: u8 = 0x8f;
const ADDITEMS: u8 = 0x90;
const FROZENSET: u8 = 0x91;
const NEWOBJ_EX: u8 = 0x92;
const STACK_GLOBAL: u8 = 0x93;
const MEMOIZE: u8 = 0x94;
const FRAME: u8 = 0x95;
// Protocol 5
const BYTEARRAY8: u8 = 0x96;
const NEXT_BUFFER: u8 = 0x97;
const READONLY_BUFFER: u8 = 0x98;

/// `pickle.HIGHEST_PROTOCOL` in CPython 3.8–3.13.
const HIGHEST_PROTOCOL: u8 = 5;

/// CPython's `Pickler` writes lists, dicts and sets in batches of this many items.
const BATCHSIZE: usize = 1000;

// ---------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------

/// Decodes one pickle (protocols 0–5) of plain data into a [`Value`].
///
/// Bytes after the `STOP` opcode are ignored, as `pickle.loads` does. Python 2
/// `str` (`STRING`/`BINSTRING`/`SHORT_BINSTRING`) becomes `Str` when it is valid
/// UTF-8 and `Bytes` otherwise.
pub fn decode(data: &[u8], limits: &Limits) -> Result<Value> {
    if data.len() > limits.max_bytes {
        return Err(PickleError::Limit {
            offset: 0,
            msg: format!(
                "input is {} bytes, more than max_bytes ({})",
                data.len(),
                limits.max_bytes
            ),
        });
    }
    let mut unpickler = Unpickler {
        r: Reader { data, pos: 0 },
        limits,
        nodes: Vec::new(),
        at: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        work: 0,
        reduced_bytes: 0,
        op_at: 0,
    };
    let root = unpickler.run()?;
    let mut builder = Builder {
        nodes: &unpickler.nodes,
        at: &unpickler.at,
        limits,
        active: vec![false; unpickler.nodes.len()],
        items: 0,
        bytes: 0,
    };
    builder.build(root, 0)
}

/// Index of a node in the decoder's arena.
type NodeId = usize;

/// One object as the unpickler sees it. Containers hold node ids rather than
/// values so that memo references alias the same (possibly still growing) object,
/// exactly like CPython's unpickler, where `PUT` memoizes an empty list that later
/// `APPENDS` fill.
#[derive(Debug)]
enum Node {
    Leaf(Value),
    List(Vec<NodeId>),
    Tuple(Vec<NodeId>),
    Set(Vec<NodeId>),
    FrozenSet(Vec<NodeId>),
    Dict(Vec<(NodeId, NodeId)>),
    /// An allowlisted constructor, only meaningful as the callable of `REDUCE`.
    Global(Allowed),
}

/// The allowlisted globals; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allowed {
    Set,
    FrozenSet,
    ByteArray,
    Bytes,
    CodecsEncode,
}

impl Allowed {
    fn lookup(module: &str, name: &str) -> Option<Allowed> {
        match (module, name) {
            // `__builtin__` is the Python 2 name that protocol <= 2 pickles use
            // (CPython's `fix_imports` maps it back to `builtins` when loading).
            ("builtins" | "__builtin__", "set") => Some(Allowed::Set),
            ("builtins" | "__builtin__", "frozenset") => Some(Allowed::FrozenSet),
            ("builtins" | "__builtin__", "bytearray") => Some(Allowed::ByteArray),
            ("builtins" | "__builtin__", "bytes") => Some(Allowed::Bytes),
            ("_codecs", "encode") => Some(Allowed::CodecsEncode),
            _ => None,
        }
    }

    /// `(module, name)` under their Python 3 names.
    fn parts(self) -> (&'static str, &'static str) {
        match self {
            Allowed::Set => ("builtins", "set"),
            Allowed::FrozenSet => ("builtins", "frozenset"),
            Allowed::ByteArray => ("builtins", "bytearray"),
            Allowed::Bytes => ("builtins", "bytes"),
            Allowed::CodecsEncode => ("_codecs", "encode"),
        }
    }

    fn qualname(self) -> String {
        let (module, name) = self.parts();
        format!("{module}.{name}")
    }
}

/// A cursor over the input. Every read checks the remaining length first.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Takes `n` bytes, where `n` may come straight from a length field in the
    /// input: it is compared with what remains before anything is sliced or
    /// allocated.
    fn take(&mut self, n: u64, what: &'static str, op_at: usize) -> Result<&'a [u8]> {
        let available = self.remaining();
        match usize::try_from(n) {
            Ok(n) if n <= available => {
                let start = self.pos;
                self.pos += n;
                Ok(self.data.get(start..start + n).unwrap_or_default())
            }
            _ => Err(PickleError::Truncated {
                what,
                offset: op_at,
                needed: n,
                available,
            }),
        }
    }

    fn array<const N: usize>(&mut self, what: &'static str, op_at: usize) -> Result<[u8; N]> {
        let bytes = self.take(N as u64, what, op_at)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self, what: &'static str, op_at: usize) -> Result<u8> {
        Ok(self.array::<1>(what, op_at)?[0])
    }

    /// A text argument of protocol 0: everything up to the next `\n` (excluded).
    fn line(&mut self, what: &'static str, op_at: usize) -> Result<&'a [u8]> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        match rest.iter().position(|&b| b == b'\n') {
            Some(n) => {
                self.pos += n + 1;
                Ok(&rest[..n])
            }
            None => Err(PickleError::Truncated {
                what,
                offset: op_at,
                needed: rest.len() as u64 + 1,
                available: rest.len(),
            }),
        }
    }
}

struct Unpickler<'a> {
    r: Reader<'a>,
    limits: &'a Limits,
    /// Every object created while unpickling; referenced by index.
    nodes: Vec<Node>,
    /// Offset of the opcode that created each node.
    at: Vec<usize>,
    /// The unpickling stack (node ids).
    stack: Vec<NodeId>,
    /// Stack lengths at each open MARK (CPython keeps marks in a separate stack too).
    marks: Vec<usize>,
    memo: HashMap<u64, NodeId>,
    /// Values pushed plus memo slots created, bounded by `max_items`.
    work: usize,
    /// Bytes created by allowlisted constructors, bounded by `max_bytes`.
    reduced_bytes: usize,
    /// Offset of the opcode being executed, for error messages.
    op_at: usize,
}

impl Unpickler<'_> {
    fn invalid(&self, msg: impl Into<String>) -> PickleError {
        PickleError::Invalid {
            offset: self.op_at,
            msg: msg.into(),
        }
    }

    fn refuse(&self, opcode: &'static str, why: &'static str) -> PickleError {
        PickleError::RefusedOpcode {
            opcode,
            offset: self.op_at,
            why,
        }
    }

    fn count_work(&mut self) -> Result<()> {
        self.count_work_n(1)
    }

    fn count_work_n(&mut self, n: usize) -> Result<()> {
        self.work = self.work.saturating_add(n);
        if self.work > self.limits.max_items {
            return Err(PickleError::Limit {
                offset: self.op_at,
                msg: format!("more than max_items ({}) values", self.limits.max_items),
            });
        }
        Ok(())
    }

    /// Creates a node and pushes it.
    fn push_new(&mut self, node: Node) -> Result<()> {
        self.count_work()?;
        self.nodes.push(node);
        self.at.push(self.op_at);
        self.stack.push(self.nodes.len() - 1);
        Ok(())
    }

    fn push_value(&mut self, v: Value) -> Result<()> {
        self.push_new(Node::Leaf(v))
    }

    /// Pushes another reference to an existing node (`DUP`, `GET`).
    fn push_ref(&mut self, id: NodeId) -> Result<()> {
        self.count_work()?;
        self.stack.push(id);
        Ok(())
    }

    /// Objects below the innermost MARK are out of reach until it is popped
    /// (CPython's `Pdata` "fence").
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn underflow(&self) -> PickleError {
        if self.marks.last().is_some_and(|&m| m == self.stack.len()) {
            self.invalid("unpickling stack underflow (a MARK is in the way)")
        } else {
            self.invalid("unpickling stack underflow")
        }
    }

    fn pop(&mut self) -> Result<NodeId> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        self.stack.pop().ok_or_else(|| self.underflow())
    }

    fn top(&self) -> Result<NodeId> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        self.stack.last().copied().ok_or_else(|| self.underflow())
    }

    /// Pops everything above the innermost MARK, and the MARK.
    fn pop_mark(&mut self) -> Result<Vec<NodeId>> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.invalid("could not find MARK"))?;
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    /// The node below the items just popped by `pop_mark` (list for APPENDS etc.).
    fn target(&mut self, what: &str) -> Result<&mut Node> {
        let id = self.top().map_err(|_| {
            self.invalid(format!("{what} has no object to add to (stack underflow)"))
        })?;
        Ok(&mut self.nodes[id])
    }

    fn memo_put(&mut self, idx: u64) -> Result<()> {
        let id = self.top()?;
        if self.memo.insert(idx, id).is_none() {
            self.count_work()?;
        }
        Ok(())
    }

    fn memo_get(&mut self, idx: u64) -> Result<()> {
        match self.memo.get(&idx) {
            Some(&id) => self.push_ref(id),
            None => Err(self.invalid(format!("memo value not found at index {idx}"))),
        }
    }

    fn str_of(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[id] {
            Node::Leaf(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// Resolves a global reference: allowlisted constructors become a `Global`
    /// node, anything else is refused.
    fn push_global(&mut self, module: &str, name: &str, opcode: &'static str) -> Result<()> {
        match Allowed::lookup(module, name) {
            Some(allowed) => self.push_new(Node::Global(allowed)),
            None => Err(PickleError::RefusedGlobal {
                module: module.into(),
                name: name.into(),
                opcode,
                offset: self.op_at,
            }),
        }
    }

    /// Runs opcodes until STOP and returns the id of the result.
    fn run(&mut self) -> Result<NodeId> {
        loop {
            self.op_at = self.r.pos;
            let op = self.r.u8("opcode", self.op_at)?;
            match op {
                PROTO => {
                    let proto = self.r.u8("PROTO version", self.op_at)?;
                    if proto > HIGHEST_PROTOCOL {
                        return Err(self.invalid(format!("unsupported pickle protocol: {proto}")));
                    }
                }
                FRAME => {
                    // Frames only group opcodes for buffered reading; the data is
                    // contiguous here. Check the claimed size like CPython does.
                    let len = u64::from_le_bytes(self.r.array("FRAME length", self.op_at)?);
                    if len > self.r.remaining() as u64 {
                        return Err(PickleError::Truncated {
                            what: "FRAME",
                            offset: self.op_at,
                            needed: len,
                            available: self.r.remaining(),
                        });
                    }
                }
                STOP => return self.pop(),

                // --- stack manipulation ---
                MARK => {
                    // Real pickles open one MARK per container under construction.
                    if self.marks.len() > self.limits.max_depth {
                        return Err(PickleError::Limit {
                            offset: self.op_at,
                            msg: format!(
                                "more than {} nested MARKs (max_depth)",
                                self.limits.max_depth
                            ),
                        });
                    }
                    self.marks.push(self.stack.len());
                }
                POP => {
                    // CPython's load_pop: pops a MARK sitting on top of the stack,
                    // otherwise an object.
                    if self.marks.last() == Some(&self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop()?;
                    }
                }
                POP_MARK => {
                    self.pop_mark()?;
                }
                DUP => {
                    let id = self.top()?;
                    self.push_ref(id)?;
                }

                // --- memo ---
                PUT => {
                    let line = self.r.line("PUT argument", self.op_at)?;
                    let idx = self.parse_memo_index(line, "PUT")?;
                    self.memo_put(idx)?;
                }
                BINPUT => {
                    let idx = self.r.u8("BINPUT index", self.op_at)?;
                    self.memo_put(idx.into())?;
                }
                LONG_BINPUT => {
                    let idx = u32::from_le_bytes(self.r.array("LONG_BINPUT index", self.op_at)?);
                    self.memo_put(idx.into())?;
                }
                MEMOIZE => {
                    let idx = self.memo.len() as u64;
                    self.memo_put(idx)?;
                }
                GET => {
                    let line = self.r.line("GET argument", self.op_at)?;
                    let idx = self.parse_memo_index(line, "GET")?;
                    self.memo_get(idx)?;
                }
                BINGET => {
                    let idx = self.r.u8("BINGET index", self.op_at)?;
                    self.memo_get(idx.into())?;
                }
                LONG_BINGET => {
                    let idx = u32::from_le_bytes(self.r.array("LONG_BINGET index", self.op_at)?);
                    self.memo_get(idx.into())?;
                }

                // --- scalars ---
                NONE => self.push_value(Value::None)?,
                NEWTRUE => self.push_value(Value::Bool(true))?,
                NEWFALSE => self.push_value(Value::Bool(false))?,
                INT => {
                    let line = self.r.line("INT argument", self.op_at)?;
                    // Protocols 0 and 1 write bools as "I01\n" / "I00\n" (pickle.py's
                    // load_int checks these exact spellings).
                    let v = match line {
                        b"00" => Value::Bool(false),
                        b"01" => Value::Bool(true),
                        _ => self.parse_text_int(line, "INT")?,
                    };
                    self.push_value(v)?;
                }
                BININT => {
                    let v = i32::from_le_bytes(self.r.array("BININT", self.op_at)?);
                    self.push_value(Value::Int(v.into()))?;
                }
                BININT1 => {
                    let v = self.r.u8("BININT1", self.op_at)?;
                    self.push_value(Value::Int(v.into()))?;
                }
                BININT2 => {
                    let v = u16::from_le_bytes(self.r.array("BININT2", self.op_at)?);
                    self.push_value(Value::Int(v.into()))?;
                }
                LONG => {
                    let line = self.r.line("LONG argument", self.op_at)?;
                    // Python 3 writes "L123L\n"; the trailing L is optional.
                    let digits = line.strip_suffix(b"L").unwrap_or(line);
                    let v = self.parse_text_int(digits, "LONG")?;
                    self.push_value(v)?;
                }
                LONG1 => {
                    let n = self.r.u8("LONG1 length", self.op_at)?;
                    let bytes = self.r.take(n.into(), "LONG1", self.op_at)?;
                    self.push_value(Value::from_bigint(BigInt::from_signed_bytes_le(bytes)))?;
                }
                LONG4 => {
                    let n = i32::from_le_bytes(self.r.array("LONG4 length", self.op_at)?);
                    let n = u64::try_from(n)
                        .map_err(|_| self.invalid("LONG pickle has negative byte count"))?;
                    let bytes = self.r.take(n, "LONG4", self.op_at)?;
                    self.push_value(Value::from_bigint(BigInt::from_signed_bytes_le(bytes)))?;
                }
                FLOAT => {
                    let line = self.r.line("FLOAT argument", self.op_at)?;
                    let v = std::str::from_utf8(line)
                        .ok()
                        .and_then(|s| s.trim().parse::<f64>().ok())
                        .ok_or_else(|| self.invalid("could not convert FLOAT argument to float"))?;
                    self.push_value(Value::Float(v))?;
                }
                BINFLOAT => {
                    let v = f64::from_be_bytes(self.r.array("BINFLOAT", self.op_at)?);
                    self.push_value(Value::Float(v))?;
                }

                // --- strings ---
                STRING => {
                    let line = self.r.line("STRING argument", self.op_at)?;
                    let raw = self.decode_string_literal(line)?;
                    self.push_value(py2_str(raw))?;
                }
                BINSTRING => {
                    let n = i32::from_le_bytes(self.r.array("BINSTRING length", self.op_at)?);
                    let n = u64::try_from(n)
                        .map_err(|_| self.invalid("BINSTRING pickle has negative byte count"))?;
                    let raw = self.r.take(n, "BINSTRING", self.op_at)?;
                    self.push_value(py2_str(raw.to_vec()))?;
                }
                SHORT_BINSTRING => {
                    let n = self.r.u8("SHORT_BINSTRING length", self.op_at)?;
                    let raw = self.r.take(n.into(), "SHORT_BINSTRING", self.op_at)?;
                    self.push_value(py2_str(raw.to_vec()))?;
                }
                UNICODE => {
                    let line = self.r.line("UNICODE argument", self.op_at)?;
                    let s = self.raw_unicode_escape(line)?;
                    self.push_value(Value::Str(s))?;
                }
                SHORT_BINUNICODE => {
                    let n = self.r.u8("SHORT_BINUNICODE length", self.op_at)?;
                    self.read_unicode(n.into(), "SHORT_BINUNICODE")?;
                }
                BINUNICODE => {
                    let n = u32::from_le_bytes(self.r.array("BINUNICODE length", self.op_at)?);
                    self.read_unicode(n.into(), "BINUNICODE")?;
                }
                BINUNICODE8 => {
                    let n = u64::from_le_bytes(self.r.array("BINUNICODE8 length", self.op_at)?);
                    self.read_unicode(n, "BINUNICODE8")?;
                }
                SHORT_BINBYTES => {
                    let n = self.r.u8("SHORT_BINBYTES length", self.op_at)?;
                    self.read_bytes(n.into(), "SHORT_BINBYTES")?;
                }
                BINBYTES => {
                    let n = u32::from_le_bytes(self.r.array("BINBYTES length", self.op_at)?);
                    self.read_bytes(n.into(), "BINBYTES")?;
                }
                BINBYTES8 => {
                    let n = u64::from_le_bytes(self.r.array("BINBYTES8 length", self.op_at)?);
                    self.read_bytes(n, "BINBYTES8")?;
                }
                BYTEARRAY8 => {
                    let n = u64::from_le_bytes(self.r.array("BYTEARRAY8 length", self.op_at)?);
                    self.read_bytes(n, "BYTEARRAY8")?;
                }
                NEXT_BUFFER => {
                    return Err(self.refuse(
                        "NEXT_BUFFER",
                        "(out-of-band buffer; pickle without buffer_callback)",
                    ))
                }
                READONLY_BUFFER => {
                    return Err(self.refuse(
                        "READONLY_BUFFER",
                        "(out-of-band buffer; pickle without buffer_callback)",
                    ))
                }

                // --- containers ---
                EMPTY_LIST => self.push_new(Node::List(Vec::new()))?,
                EMPTY_TUPLE => self.push_new(Node::Tuple(Vec::new()))?,
                EMPTY_DICT => self.push_new(Node::Dict(Vec::new()))?,
                EMPTY_SET => self.push_new(Node::Set(Vec::new()))?,
                LIST => {
                    let items = self.pop_mark()?;
                    self.push_new(Node::List(items))?;
                }
                TUPLE => {
                    let items = self.pop_mark()?;
                    self.push_new(Node::Tuple(items))?;
                }
                TUPLE1 | TUPLE2 | TUPLE3 => {
                    let n = usize::from(op - TUPLE1 + 1);
                    let mut items = vec![0; n];
                    for slot in items.iter_mut().rev() {
                        *slot = self.pop()?;
                    }
                    self.push_new(Node::Tuple(items))?;
                }
                FROZENSET => {
                    let items = self.pop_mark()?;
                    self.push_new(Node::FrozenSet(items))?;
                }
                DICT => {
                    let items = self.pop_mark()?;
                    let pairs = self.pairs(items, "DICT")?;
                    self.push_new(Node::Dict(pairs))?;
                }
                APPEND => {
                    let item = self.pop()?;
                    match self.target("APPEND")? {
                        Node::List(items) => items.push(item),
                        _ => return Err(self.invalid("APPEND to an object that is not a list")),
                    }
                }
                APPENDS => {
                    let new = self.pop_mark()?;
                    match self.target("APPENDS")? {
                        Node::List(items) => items.extend(new),
                        _ => return Err(self.invalid("APPENDS to an object that is not a list")),
                    }
                }
                SETITEM => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    match self.target("SETITEM")? {
                        Node::Dict(pairs) => pairs.push((k, v)),
                        _ => return Err(self.invalid("SETITEM on an object that is not a dict")),
                    }
                }
                SETITEMS => {
                    let items = self.pop_mark()?;
                    let new = self.pairs(items, "SETITEMS")?;
                    match self.target("SETITEMS")? {
                        Node::Dict(pairs) => pairs.extend(new),
                        _ => return Err(self.invalid("SETITEMS on an object that is not a dict")),
                    }
                }
                ADDITEMS => {
                    let new = self.pop_mark()?;
                    match self.target("ADDITEMS")? {
                        Node::Set(items) => items.extend(new),
                        _ => return Err(self.invalid("ADDITEMS to an object that is not a set")),
                    }
                }

                // --- globals and object construction ---
                GLOBAL => {
                    let module = self.r.line("GLOBAL module name", self.op_at)?;
                    let name = self.r.line("GLOBAL attribute name", self.op_at)?;
                    let module = String::from_utf8_lossy(module);
                    let name = String::from_utf8_lossy(name);
                    self.push_global(&module, &name, "GLOBAL")?;
                }
                STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Some(module), Some(name)) = (self.str_of(module), self.str_of(name))
                    else {
                        return Err(self.invalid("STACK_GLOBAL requires str module and name"));
                    };
                    let (module, name) = (module.to_owned(), name.to_owned());
                    self.push_global(&module, &name, "STACK_GLOBAL")?;
                }
                INST => {
                    let module = self.r.line("INST module name", self.op_at)?;
                    let name = self.r.line("INST class name", self.op_at)?;
                    return Err(PickleError::RefusedGlobal {
                        module: String::from_utf8_lossy(module).into_owned(),
                        name: String::from_utf8_lossy(name).into_owned(),
                        opcode: "INST",
                        offset: self.op_at,
                    });
                }
                REDUCE => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let value = self.reduce(callable, args)?;
                    // The constructors copy their argument; charge the copy so that
                    // REDUCE repeated on one memoized list or string cannot
                    // multiply memory.
                    match &value {
                        Node::Set(items) | Node::FrozenSet(items) => {
                            self.count_work_n(items.len())?
                        }
                        Node::Leaf(Value::Bytes(b)) => {
                            self.reduced_bytes = self.reduced_bytes.saturating_add(b.len());
                            if self.reduced_bytes > self.limits.max_bytes {
                                return Err(PickleError::Limit {
                                    offset: self.op_at,
                                    msg: format!(
                                        "REDUCE built more than max_bytes ({}) bytes",
                                        self.limits.max_bytes
                                    ),
                                });
                            }
                        }
                        _ => {}
                    }
                    self.push_new(value)?;
                }
                BUILD => return Err(self.refuse("BUILD", "(sets the state of an object)")),
                NEWOBJ => return Err(self.refuse("NEWOBJ", "(constructs an object)")),
                NEWOBJ_EX => return Err(self.refuse("NEWOBJ_EX", "(constructs an object)")),
                OBJ => return Err(self.refuse("OBJ", "(constructs an object)")),
                EXT1 => return Err(self.refuse("EXT1", "(copyreg extension registry reference)")),
                EXT2 => return Err(self.refuse("EXT2", "(copyreg extension registry reference)")),
                EXT4 => return Err(self.refuse("EXT4", "(copyreg extension registry reference)")),
                PERSID => return Err(self.refuse("PERSID", "(persistent ID)")),
                BINPERSID => return Err(self.refuse("BINPERSID", "(persistent ID)")),

                other => {
                    return Err(
                        self.invalid(format!("unknown opcode 0x{other:02x} (invalid load key)"))
                    )
                }
            }
        }
    }

    fn pairs(&self, items: Vec<NodeId>, what: &str) -> Result<Vec<(NodeId, NodeId)>> {
        if items.len() % 2 != 0 {
            return Err(self.invalid(format!("odd number of items for {what}")));
        }
        Ok(items.chunks_exact(2).map(|kv| (kv[0], kv[1])).collect())
    }

    fn read_unicode(&mut self, n: u64, what: &'static str) -> Result<()> {
        let raw = self.r.take(n, what, self.op_at)?;
        // CPython writes str with the "surrogatepass" handler, so a str holding a
        // lone surrogate arrives as invalid UTF-8: a Rust String cannot hold it.
        let s = std::str::from_utf8(raw).map_err(|e| {
            self.invalid(format!(
                "{what} is not valid UTF-8 ({e}); strings with lone surrogates are not supported"
            ))
        })?;
        self.push_value(Value::Str(s.to_owned()))
    }

    fn read_bytes(&mut self, n: u64, what: &'static str) -> Result<()> {
        let raw = self.r.take(n, what, self.op_at)?;
        self.push_value(Value::Bytes(raw.to_vec()))
    }

    fn parse_memo_index(&self, line: &[u8], what: &str) -> Result<u64> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| self.invalid(format!("invalid {what} memo index")))
    }

    /// A decimal integer of protocol 0 (`INT`, `LONG`). CPython accepts a few more
    /// spellings through `int(s, 0)` (hex, underscores) that no Python version
    /// writes; those are rejected here.
    fn parse_text_int(&self, line: &[u8], what: &str) -> Result<Value> {
        let bad = || self.invalid(format!("invalid literal for {what}"));
        let text = std::str::from_utf8(line).map_err(|_| bad())?.trim();
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if digits.len() > INT_MAX_STR_DIGITS {
            return Err(self.invalid(format!(
                "{what} has {} digits, more than Python's limit of {INT_MAX_STR_DIGITS} for integer string conversion",
                digits.len()
            )));
        }
        match text.parse::<i64>() {
            Ok(i) => Ok(Value::Int(i)),
            Err(_) => text
                .parse::<BigInt>()
                .map(Value::from_bigint)
                .map_err(|_| bad()),
        }
    }

    /// The argument of `STRING`: a quoted Python 2 `str` literal, decoded like
    /// CPython's `PyBytes_DecodeEscape`.
    fn decode_string_literal(&self, line: &[u8]) -> Result<Vec<u8>> {
        let inner = match line {
            [q @ (b'\'' | b'"'), inner @ .., last] if last == q => inner,
            _ => return Err(self.invalid("the STRING opcode argument must be quoted")),
        };
        let mut out = Vec::with_capacity(inner.len());
        let mut i = 0;
        while let Some(&b) = inner.get(i) {
            i += 1;
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let Some(&e) = inner.get(i) else {
                return Err(self.invalid("trailing \\ in STRING argument"));
            };
            i += 1;
            match e {
                b'\n' => {}
                b'\\' | b'\'' | b'"' => out.push(e),
                b'b' => out.push(0x08),
                b'f' => out.push(0x0c),
                b't' => out.push(b'\t'),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b'v' => out.push(0x0b),
                b'a' => out.push(0x07),
                b'0'..=b'7' => {
                    // Up to three octal digits; values above 0o377 wrap like CPython.
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
                    out.push((v & 0xff) as u8);
                }
                b'x' => {
                    let v = inner
                        .get(i..i + 2)
                        .and_then(parse_hex)
                        .ok_or_else(|| self.invalid("invalid \\x escape in STRING argument"))?;
                    out.push(v as u8);
                    i += 2;
                }
                // Unknown escapes are kept verbatim, backslash included.
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
        }
        Ok(out)
    }

    /// The argument of `UNICODE`: "raw-unicode-escape" text. Bytes are Latin-1
    /// code points, except `\uXXXX` and `\UXXXXXXXX` after an odd number of
    /// backslashes (CPython's `_PyUnicode_DecodeRawUnicodeEscapeStateful`). Python 3
    /// escapes `\`, `\0`, `\n`, `\r` and `\x1a` this way when writing protocol 0.
    fn raw_unicode_escape(&self, line: &[u8]) -> Result<String> {
        let mut out = String::with_capacity(line.len());
        let mut i = 0;
        while let Some(&b) = line.get(i) {
            if b != b'\\' {
                out.push(char::from(b));
                i += 1;
                continue;
            }
            let run_start = i;
            while line.get(i) == Some(&b'\\') {
                i += 1;
            }
            let run = i - run_start;
            let width = match line.get(i) {
                Some(b'u') if run % 2 == 1 => 4,
                Some(b'U') if run % 2 == 1 => 8,
                _ => {
                    out.extend(std::iter::repeat_n('\\', run));
                    continue;
                }
            };
            // All but the escaping backslash are literal.
            out.extend(std::iter::repeat_n('\\', run - 1));
            let hex = line
                .get(i + 1..i + 1 + width)
                .and_then(parse_hex)
                .ok_or_else(|| self.invalid("truncated \\uXXXX escape in UNICODE argument"))?;
            let c = char::from_u32(hex).ok_or_else(|| {
                self.invalid(format!(
                    "UNICODE argument escapes code point 0x{hex:x}, which is a lone surrogate or out of range"
                ))
            })?;
            out.push(c);
            i += 1 + width;
        }
        Ok(out)
    }

    /// `REDUCE` with an allowlisted constructor, applied to plain arguments.
    fn reduce(&self, callable: NodeId, args: NodeId) -> Result<Node> {
        let Node::Global(allowed) = self.nodes[callable] else {
            return Err(self.invalid("REDUCE target is not an allowlisted constructor"));
        };
        let Node::Tuple(args) = &self.nodes[args] else {
            return Err(self.invalid(format!(
                "REDUCE arguments for {} are not a tuple",
                allowed.qualname()
            )));
        };
        let bad_args = || {
            self.invalid(format!(
                "unsupported arguments for {} in REDUCE",
                allowed.qualname()
            ))
        };
        let leaf = |id: NodeId| match &self.nodes[id] {
            Node::Leaf(v) => Some(v),
            _ => None,
        };
        match allowed {
            Allowed::Set | Allowed::FrozenSet => {
                let items = match args.as_slice() {
                    [] => Vec::new(),
                    [iterable] => match &self.nodes[*iterable] {
                        Node::List(v) | Node::Tuple(v) | Node::Set(v) | Node::FrozenSet(v) => {
                            v.clone()
                        }
                        _ => return Err(bad_args()),
                    },
                    _ => return Err(bad_args()),
                };
                Ok(if allowed == Allowed::Set {
                    Node::Set(items)
                } else {
                    Node::FrozenSet(items)
                })
            }
            Allowed::ByteArray | Allowed::Bytes => {
                let bytes = match args.as_slice() {
                    [] => Vec::new(),
                    [one] => match (&self.nodes[*one], leaf(*one)) {
                        (_, Some(Value::Bytes(b))) => b.clone(),
                        (Node::List(ints), _) => {
                            let byte = |id: &NodeId| match leaf(*id) {
                                Some(Value::Int(i)) => u8::try_from(*i).ok(),
                                _ => None,
                            };
                            ints.iter()
                                .map(byte)
                                .collect::<Option<Vec<u8>>>()
                                .ok_or_else(bad_args)?
                        }
                        _ => return Err(bad_args()),
                    },
                    [s, enc] => match (leaf(*s), leaf(*enc)) {
                        (Some(Value::Str(s)), Some(Value::Str(enc))) => {
                            self.encode_str(s, enc).ok_or_else(bad_args)?
                        }
                        _ => return Err(bad_args()),
                    },
                    _ => return Err(bad_args()),
                };
                Ok(Node::Leaf(Value::Bytes(bytes)))
            }
            Allowed::CodecsEncode => {
                // _codecs.encode(obj, encoding='utf-8', errors='strict')
                let (text, enc, errors) = match args.as_slice() {
                    [s] => (*s, None, None),
                    [s, e] => (*s, Some(*e), None),
                    [s, e, er] => (*s, Some(*e), Some(*er)),
                    _ => return Err(bad_args()),
                };
                let Some(Value::Str(text)) = leaf(text) else {
                    return Err(bad_args());
                };
                let enc = match enc.map(leaf) {
                    None => "utf-8",
                    Some(Some(Value::Str(e))) => e.as_str(),
                    Some(_) => return Err(bad_args()),
                };
                if let Some(er) = errors {
                    if !matches!(leaf(er), Some(Value::Str(e)) if e == "strict") {
                        return Err(bad_args());
                    }
                }
                let bytes = self.encode_str(text, enc).ok_or_else(bad_args)?;
                Ok(Node::Leaf(Value::Bytes(bytes)))
            }
        }
    }

    /// `str.encode(encoding)` for the few encodings plain-data pickles use.
    fn encode_str(&self, s: &str, encoding: &str) -> Option<Vec<u8>> {
        let enc = encoding.to_ascii_lowercase().replace('_', "-");
        match enc.as_str() {
            "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1" => {
                s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
            }
            "utf-8" | "utf8" => Some(s.as_bytes().to_vec()),
            "ascii" | "us-ascii" => s.is_ascii().then(|| s.as_bytes().to_vec()),
            _ => None,
        }
    }
}

/// Parses ASCII hex digits (nothing else, not even a sign) into a number.
fn parse_hex(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(v)
    })
}

/// Python 2 `str` read by Python 3: text when it is valid UTF-8, else bytes.
fn py2_str(raw: Vec<u8>) -> Value {
    match String::from_utf8(raw) {
        Ok(s) => Value::Str(s),
        Err(e) => Value::Bytes(e.into_bytes()),
    }
}

/// Turns the node graph into a tree of values, copying shared nodes and enforcing
/// the depth, item and byte limits on the result.
struct Builder<'a> {
    nodes: &'a [Node],
    /// Input offset of the opcode that created each node, for error messages.
    at: &'a [usize],
    limits: &'a Limits,
    /// Containers currently being built (on the path from the root): meeting one
    /// again means the structure contains itself.
    active: Vec<bool>,
    items: usize,
    bytes: usize,
}

impl Builder<'_> {
    fn limit(&self, id: NodeId, msg: String) -> PickleError {
        PickleError::Limit {
            offset: self.at[id],
            msg,
        }
    }

    /// Builds node `id`, which sits inside `depth` containers.
    fn build(&mut self, id: NodeId, depth: usize) -> Result<Value> {
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(self.limit(
                id,
                format!(
                    "decoded value has more than max_items ({}) values (shared memo references count each time)",
                    self.limits.max_items
                ),
            ));
        }
        // Copy the slice reference so node borrows do not hold `self`.
        let nodes = self.nodes;
        Ok(match &nodes[id] {
            Node::Leaf(v) => {
                self.bytes += match v {
                    Value::Str(s) => s.len(),
                    Value::Bytes(b) => b.len(),
                    _ => 0,
                };
                if self.bytes > self.limits.max_bytes {
                    return Err(self.limit(
                        id,
                        format!(
                            "decoded value holds more than max_bytes ({}) bytes of str/bytes",
                            self.limits.max_bytes
                        ),
                    ));
                }
                v.clone()
            }
            Node::Global(g) => {
                // e.g. `pickle.dumps(set)`: the type itself, not data.
                let (module, name) = g.parts();
                return Err(PickleError::RefusedGlobal {
                    module: module.into(),
                    name: name.into(),
                    opcode: "GLOBAL",
                    offset: self.at[id],
                });
            }
            Node::Dict(pairs) => {
                self.enter(id, depth)?;
                let mut out = Vec::with_capacity(pairs.len());
                for &(k, v) in pairs {
                    out.push((self.build(k, depth + 1)?, self.build(v, depth + 1)?));
                }
                self.active[id] = false;
                Value::Dict(out)
            }
            Node::List(ids) => Value::List(self.build_all(id, ids, depth)?),
            Node::Tuple(ids) => Value::Tuple(self.build_all(id, ids, depth)?),
            Node::Set(ids) => Value::Set(self.build_all(id, ids, depth)?),
            Node::FrozenSet(ids) => Value::FrozenSet(self.build_all(id, ids, depth)?),
        })
    }

    /// Builds the elements of container `id`.
    fn build_all(&mut self, id: NodeId, ids: &[NodeId], depth: usize) -> Result<Vec<Value>> {
        self.enter(id, depth)?;
        let mut out = Vec::with_capacity(ids.len());
        for &child in ids {
            out.push(self.build(child, depth + 1)?);
        }
        self.active[id] = false;
        Ok(out)
    }

    /// Checks for self-reference and depth before building container `id`'s
    /// contents, and marks it as being built. (On error the whole decode fails, so
    /// the mark need not be cleared.)
    fn enter(&mut self, id: NodeId, depth: usize) -> Result<()> {
        if self.active[id] {
            return Err(PickleError::Invalid {
                offset: self.at[id],
                msg: "recursive structure (a container that contains itself) cannot be represented"
                    .into(),
            });
        }
        if depth >= self.limits.max_depth {
            return Err(self.limit(
                id,
                format!(
                    "containers nested deeper than max_depth ({})",
                    self.limits.max_depth
                ),
            ));
        }
        self.active[id] = true;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------

/// Encodes a value as a protocol-5 pickle (no FRAME, no memo) that CPython's
/// `pickle.loads` turns into the equal Python value with the same types.
///
/// The opcodes are the ones CPython's own pickler picks for each type (minimal
/// integer opcodes, batched `APPENDS`/`SETITEMS`/`ADDITEMS`), so the output only
/// differs from `pickle.dumps(v, protocol=5)` by the missing framing and memo.
/// Recursion depth follows the value's nesting.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = vec![PROTO, 5];
    encode_into(v, &mut out);
    out.push(STOP);
    out
}

fn encode_into(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::None => out.push(NONE),
        Value::Bool(true) => out.push(NEWTRUE),
        Value::Bool(false) => out.push(NEWFALSE),
        Value::Int(i) => encode_int(*i, out),
        Value::BigInt(n) => encode_long(n, out),
        Value::Float(f) => {
            out.push(BINFLOAT);
            out.extend_from_slice(&f.to_be_bytes());
        }
        Value::Str(s) => encode_sized(
            s.as_bytes(),
            [SHORT_BINUNICODE, BINUNICODE, BINUNICODE8],
            out,
        ),
        Value::Bytes(b) => encode_sized(b, [SHORT_BINBYTES, BINBYTES, BINBYTES8], out),
        Value::List(items) => {
            out.push(EMPTY_LIST);
            for batch in items.chunks(BATCHSIZE) {
                if let [single] = batch {
                    encode_into(single, out);
                    out.push(APPEND);
                } else {
                    out.push(MARK);
                    batch.iter().for_each(|item| encode_into(item, out));
                    out.push(APPENDS);
                }
            }
        }
        Value::Tuple(items) => match items.len() {
            0 => out.push(EMPTY_TUPLE),
            n @ 1..=3 => {
                items.iter().for_each(|item| encode_into(item, out));
                out.push(TUPLE1 + (n as u8 - 1));
            }
            _ => {
                out.push(MARK);
                items.iter().for_each(|item| encode_into(item, out));
                out.push(TUPLE);
            }
        },
        Value::Dict(pairs) => {
            out.push(EMPTY_DICT);
            for batch in pairs.chunks(BATCHSIZE) {
                if let [(k, v)] = batch {
                    encode_into(k, out);
                    encode_into(v, out);
                    out.push(SETITEM);
                } else {
                    out.push(MARK);
                    for (k, v) in batch {
                        encode_into(k, out);
                        encode_into(v, out);
                    }
                    out.push(SETITEMS);
                }
            }
        }
        Value::Set(items) => {
            out.push(EMPTY_SET);
            for batch in items.chunks(BATCHSIZE) {
                out.push(MARK);
                batch.iter().for_each(|item| encode_into(item, out));
                out.push(ADDITEMS);
            }
        }
        Value::FrozenSet(items) => {
            out.push(MARK);
            items.iter().for_each(|item| encode_into(item, out));
            out.push(FROZENSET);
        }
    }
}

/// Ints as CPython's `save_long` writes them: BININT1/BININT2 for small
/// non-negative values, BININT for i32, LONG1 beyond.
fn encode_int(i: i64, out: &mut Vec<u8>) {
    if let Ok(b) = u8::try_from(i) {
        out.extend_from_slice(&[BININT1, b]);
    } else if let Ok(w) = u16::try_from(i) {
        out.push(BININT2);
        out.extend_from_slice(&w.to_le_bytes());
    } else if let Ok(d) = i32::try_from(i) {
        out.push(BININT);
        out.extend_from_slice(&d.to_le_bytes());
    } else {
        encode_long(&BigInt::from(i), out);
    }
}

/// LONG1/LONG4: minimal two's complement, little-endian, as CPython's
/// `encode_long` (`to_signed_bytes_le` is minimal too; zero never gets here).
fn encode_long(n: &BigInt, out: &mut Vec<u8>) {
    if let Ok(i) = i32::try_from(n) {
        return encode_int(i.into(), out);
    }
    let bytes = n.to_signed_bytes_le();
    if let Ok(len) = u8::try_from(bytes.len()) {
        out.extend_from_slice(&[LONG1, len]);
    } else {
        out.push(LONG4);
        // An int needing more than 2 GiB would not fit in memory anyway.
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&bytes);
}

/// `[short (1-byte length), 4-byte length, 8-byte length]` variants.
fn encode_sized(data: &[u8], ops: [u8; 3], out: &mut Vec<u8>) {
    if let Ok(len) = u8::try_from(data.len()) {
        out.extend_from_slice(&[ops[0], len]);
    } else if let Ok(len) = u32::try_from(data.len()) {
        out.push(ops[1]);
        out.extend_from_slice(&len.to_le_bytes());
    } else {
        out.push(ops[2]);
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    }
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::test_support::{hex, python, random_value, unhex, Rng};

    /// Fixture bytes; `*` in the `str_70k` hex stands for 70,000 `x` bytes (the
    /// expected repr uses `*` the same way) to keep this file small.
    fn fixture(name: &str, hex: &str, repr: &str) -> (Vec<u8>, String) {
        if name == "str_70k" {
            let (a, b) = hex.split_once('*').expect("placeholder");
            let mut data = unhex(a);
            data.extend(std::iter::repeat_n(b'x', 70_000));
            data.extend(unhex(b));
            (data, repr.replace('*', &"x".repeat(70_000)))
        } else {
            (unhex(hex), repr.to_owned())
        }
    }

    fn all_fixtures() -> impl Iterator<Item = (&'static str, u8, Vec<u8>, String)> {
        FIXTURES.iter().map(|&(name, proto, hex, repr)| {
            let (data, repr) = fixture(name, hex, repr);
            (name, proto, data, repr)
        })
    }

    fn dec(data: &[u8]) -> Result<Value> {
        decode(data, &Limits::default())
    }

    fn s(text: &str) -> Value {
        Value::Str(text.into())
    }

    // --- real CPython 3.11 pickles, protocols 0-5 ---

    #[test]
    fn decodes_cpython_fixtures_all_protocols() {
        let mut count = 0;
        for (name, proto, data, repr) in all_fixtures() {
            let v = dec(&data).unwrap_or_else(|e| panic!("{name} protocol {proto}: {e}"));
            assert_eq!(v.py_repr(), repr, "{name} protocol {proto}");
            count += 1;
        }
        assert!(count >= 300, "{count} fixtures");
    }

    #[test]
    fn rq_job_tuple_all_protocols() {
        let expected = Value::Tuple(vec![
            s("tasks.add"),
            Value::None,
            Value::Tuple(vec![Value::Int(2), Value::Int(3)]),
            Value::Dict(vec![]),
        ]);
        let mut protocols = 0;
        for (name, _, data, _) in all_fixtures() {
            if name == "job_rq" {
                assert_eq!(dec(&data).unwrap(), expected);
                protocols += 1;
            }
        }
        assert_eq!(protocols, 6);
    }

    #[test]
    fn backend_job_all_protocols() {
        for (name, proto, data, _) in all_fixtures() {
            if name != "job_backend" {
                continue;
            }
            let Value::Tuple(job) = dec(&data).unwrap() else {
                panic!("not a tuple")
            };
            assert_eq!(
                job[0].as_str(),
                Some("ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper")
            );
            assert_eq!(job[1], Value::None);
            assert_eq!(
                job[2],
                Value::Tuple(vec![
                    s("example_long_running"),
                    Value::Dict(vec![(s("duration"), Value::Int(10))])
                ]),
                "protocol {proto}"
            );
            assert_eq!(job[3].get("retry_limit"), Some(&Value::Int(3)));
            assert_eq!(job[3].get("delay"), Some(&Value::None));
        }
    }

    #[test]
    fn types_survive_decoding() {
        for (name, proto, data, _) in all_fixtures() {
            let v = dec(&data).unwrap();
            let ty = match name {
                "int_2p63" | "int_m2p100" | "int_2p100" => "BigInt",
                "int_m2p63" | "int_2p31" | "int_0" => "Int",
                "bytearray" | "bytearray_empty" | "bytes_empty" | "bytes_300" => "Bytes",
                "set" | "set_empty" | "set_str" => "Set",
                "frozenset" | "frozenset_empty" => "FrozenSet",
                "tuple_0" | "tuple_1" | "tuple_5" => "Tuple",
                "true" => "Bool",
                "float_negzero" => "Float",
                _ => continue,
            };
            let got = format!("{v:?}");
            assert!(got.starts_with(ty), "{name} protocol {proto}: {got}");
        }
        let neg_zero = FIXTURES.iter().find(|f| f.0 == "float_negzero").unwrap();
        let Value::Float(f) = dec(&unhex(neg_zero.2)).unwrap() else {
            panic!()
        };
        assert!(f == 0.0 && f.is_sign_negative());
    }

    #[test]
    fn memo_shares_are_copied() {
        // x = [1, 2]; s = 'shared-string'; [x, x, s, s, (x,)]
        for (name, _, data, _) in all_fixtures() {
            if name == "memo_shared" {
                let Value::List(items) = dec(&data).unwrap() else {
                    panic!()
                };
                assert_eq!(items[0], items[1]);
                assert_eq!(items[2], items[3]);
                assert_eq!(items[4], Value::Tuple(vec![items[0].clone()]));
            }
        }
    }

    // --- hand-written pickles for opcodes CPython 3 no longer writes ---

    #[test]
    fn python2_strings_and_text_opcodes() {
        assert_eq!(dec(b"S'abc'\np0\n.").unwrap(), s("abc"));
        assert_eq!(dec(b"S\"it's\"\n.").unwrap(), s("it's"));
        assert_eq!(
            dec(b"S'a\\'b\\n\\x41\\101\\q'\n.").unwrap(),
            s("a'b\nAA\\q")
        );
        assert_eq!(dec(b"S'\\x80'\n.").unwrap(), Value::Bytes(vec![0x80]));
        assert!(dec(b"Sabc\n.").is_err());
        assert!(dec(b"S'\\x4'\n.").is_err());
        assert_eq!(dec(b"U\x03abc.").unwrap(), s("abc"));
        assert_eq!(dec(b"T\x03\x00\x00\x00abc.").unwrap(), s("abc"));
        assert!(dec(b"T\xff\xff\xff\xffabc.").is_err());
        assert_eq!(dec(b"I00\n.").unwrap(), Value::Bool(false));
        assert_eq!(dec(b"I01\n.").unwrap(), Value::Bool(true));
        assert_eq!(dec(b"I1\n.").unwrap(), Value::Int(1));
        assert_eq!(dec(b"I-5\n.").unwrap(), Value::Int(-5));
        assert_eq!(
            dec(b"I99999999999999999999\n.").unwrap().py_repr(),
            "99999999999999999999"
        );
        assert_eq!(dec(b"L123L\n.").unwrap(), Value::Int(123));
        assert_eq!(dec(b"L-123\n.").unwrap(), Value::Int(-123));
        assert!(dec(b"L12a\n.").is_err());
        let too_long = format!("L{}\n.", "9".repeat(4301));
        assert!(dec(too_long.as_bytes()).is_err());
        assert_eq!(dec(b"F1.5\n.").unwrap(), Value::Float(1.5));
        assert_eq!(dec(b"F-inf\n.").unwrap(), Value::Float(f64::NEG_INFINITY));
        assert!(matches!(dec(b"Fnan\n.").unwrap(), Value::Float(f) if f.is_nan()));
        assert!(dec(b"Fabc\n.").is_err());
        // raw-unicode-escape: \u escapes after an odd number of backslashes only.
        assert_eq!(
            dec(b"Va\\u005cb\\u20ac\\U0001f600\xe9\n.").unwrap(),
            s("a\\b\u{20ac}\u{1f600}\u{e9}")
        );
        assert_eq!(dec(b"V\\\\u0041\n.").unwrap(), s("\\\\u0041"));
        assert!(dec(b"V\\u12\n.").is_err());
        assert!(dec(b"V\\ud800\n.").is_err());
        // Protocol 0 list/dict spelled with MARK + LIST/DICT and text memo ops.
        assert_eq!(
            dec(b"(lp0\nI1\na(I2\nI3\nlp1\nag1\na.").unwrap().py_repr(),
            "[1, [2, 3], [2, 3]]"
        );
        assert_eq!(dec(b"(S'k'\nI1\nd.").unwrap().py_repr(), "{'k': 1}");
        assert_eq!(dec(b"(I1\nI2\nt.").unwrap().py_repr(), "(1, 2)");
    }

    #[test]
    fn stack_opcodes() {
        assert_eq!(dec(b"N\x88\x85.").unwrap().py_repr(), "(True,)");
        assert_eq!(dec(b"NK\x010.").unwrap(), Value::None); // POP
        assert_eq!(dec(b"N(K\x01K\x021.").unwrap(), Value::None); // POP_MARK
        assert_eq!(dec(b"K\x012\x86.").unwrap().py_repr(), "(1, 1)"); // DUP
        assert_eq!(dec(b"N(0.").unwrap(), Value::None); // POP of a MARK
        assert_eq!(
            dec(b"\x80\x04\x8f\x94(K\x01\x90h\x00\x86.")
                .unwrap()
                .py_repr(),
            "({1}, {1})"
        );
        assert_eq!(
            dec(b"(K\x01K\x02\x91.").unwrap().py_repr(),
            "frozenset({1, 2})"
        );
        // Trailing bytes after STOP are ignored, as by pickle.loads.
        assert_eq!(dec(b"N.garbage\xff").unwrap(), Value::None);
        // bytearray from a list of ints, bytes(), _codecs.encode(str) with utf-8.
        assert_eq!(
            dec(b"\x80\x02c__builtin__\nbytearray\n]q\x00(K\x01K\xffe\x85R.").unwrap(),
            Value::Bytes(vec![1, 255])
        );
        assert_eq!(dec(b"cbuiltins\nbytes\n)R.").unwrap(), Value::Bytes(vec![]));
        assert_eq!(
            dec(b"c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xa9\x85R.").unwrap(),
            Value::Bytes(vec![0xc3, 0xa9])
        );
        // latin-1 cannot encode U+20AC.
        assert!(dec(
            b"c_codecs\nencode\nX\x03\x00\x00\x00\xe2\x82\xacX\x06\x00\x00\x00latin1\x86R."
        )
        .is_err());
        // set() of something that is not a sequence.
        assert!(dec(b"cbuiltins\nset\nK\x01\x85R.").is_err());
    }

    // --- refusals ---

    #[test]
    fn refuses_global_os_system() {
        let err = dec(b"cos\nsystem\n(S'echo hi'\ntR.").unwrap_err();
        assert_eq!(
            err,
            PickleError::RefusedGlobal {
                module: "os".into(),
                name: "system".into(),
                opcode: "GLOBAL",
                offset: 0
            }
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "refused: pickle references Python global 'os.system' (GLOBAL); only plain data is accepted"
            ),
            "{msg}"
        );
    }

    #[test]
    fn refuses_stack_global() {
        let err =
            dec(b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02hi\x85R.").unwrap_err();
        assert!(
            matches!(&err, PickleError::RefusedGlobal { module, name, opcode: "STACK_GLOBAL", .. }
                if module == "os" && name == "system"),
            "{err}"
        );
        // datetime.datetime(2020, 1, 1) as CPython 3.11 pickles it at protocol 5.
        let err = dec(&unhex("8005952a000000000000008c086461746574696d65948c086461746574696d65949394430a07e4010100000000000094859452942e")).unwrap_err();
        assert!(
            err.to_string()
                .contains("'datetime.datetime' (STACK_GLOBAL)"),
            "{err}"
        );
    }

    #[test]
    fn refuses_object_construction() {
        let cases: &[(&[u8], &str)] = &[
            // OrderedDict(a=1) at protocol 2
            (&unhex("800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000006171024b01732e"), "'collections.OrderedDict' (GLOBAL)"),
            // An instance of a class at protocol 1 goes through copy_reg._reconstructor.
            (b"ccopy_reg\n_reconstructor\nq\x00(c__main__\nC\nq\x01c__builtin__\nobject\nq\x02Ntq\x03Rq\x04.", "'copy_reg._reconstructor' (GLOBAL)"),
            (b"ccopyreg\n_reconstructor\n.", "'copyreg._reconstructor'"),
            (b"(i__main__\nC\n.", "'__main__.C' (INST)"),
            (b"\x80\x02cbuiltins\nset\n)\x81.", "NEWOBJ"),
            (b"\x80\x04cbuiltins\nset\n)}\x92.", "NEWOBJ_EX"),
            (b"(cbuiltins\nset\no.", "OBJ"),
            (b"]}b.", "BUILD"),
            (b"Pid\n.", "PERSID"),
            (b"NQ.", "BINPERSID"),
            (b"\x80\x02\x82\x01.", "EXT1"),
            (b"\x80\x02\x83\x01\x00.", "EXT2"),
            (b"\x80\x02\x84\x01\x00\x00\x00.", "EXT4"),
            (&unhex("8005972e"), "NEXT_BUFFER"),
            (&unhex("800597982e"), "NEXT_BUFFER"),
            (b"\x80\x05C\x01x\x98.", "READONLY_BUFFER"),
            // The `set` type itself is not data.
            (&unhex("80059514000000000000008c086275696c74696e73948c037365749493942e"), "'builtins.set'"),
        ];
        for (data, needle) in cases {
            let msg = dec(data).unwrap_err().to_string();
            assert!(msg.starts_with("refused: "), "{msg}");
            assert!(msg.contains(needle), "{msg} should mention {needle}");
        }
        // REDUCE on something that is not an allowlisted constructor.
        assert!(matches!(dec(b"])R."), Err(PickleError::Invalid { .. })));
    }

    // --- malformed and hostile input ---

    #[test]
    fn huge_length_fields_fail_before_allocating() {
        let err = dec(b"\x80\x05X\xff\xff\xff\xffabc").unwrap_err();
        assert_eq!(
            err,
            PickleError::Truncated {
                what: "BINUNICODE",
                offset: 2,
                needed: 0xffff_ffff,
                available: 3
            }
        );
        assert!(err.to_string().contains("byte offset 2"), "{err}");
        for data in [
            &b"\x80\x05\x8d\xff\xff\xff\xff\xff\xff\xff\xffabc"[..],
            b"\x80\x05\x8e\xff\xff\xff\xff\xff\xff\xff\xffabc",
            b"\x80\x05\x96\xff\xff\xff\xff\xff\xff\xff\x7fabc",
            b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\xffN.",
            b"\x80\x05B\xff\xff\xff\xffabc",
            b"\x80\x05\x8b\xff\xff\xff\x7f\x01",
            b"\x80\x05C\xffabc",
        ] {
            assert!(
                matches!(dec(data), Err(PickleError::Truncated { .. })),
                "{data:?}"
            );
        }
        assert!(matches!(
            dec(b"\x80\x05\x8b\xff\xff\xff\xff."),
            Err(PickleError::Invalid { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = |n: usize| {
            let mut data = b"\x80\x02".to_vec();
            data.extend(std::iter::repeat_n(b']', n));
            data.extend(std::iter::repeat_n(b'a', n - 1));
            data.push(b'.');
            data
        };
        assert!(dec(&deep(200)).is_ok());
        let err = dec(&deep(201)).unwrap_err();
        assert!(err.to_string().contains("max_depth (200)"), "{err}");
        assert!(matches!(dec(&deep(10_000)), Err(PickleError::Limit { .. })));
        // Nesting through MARKs (protocol 0/1 style) is stopped while reading.
        let mut marks = vec![b'('; 10_000];
        marks.push(b'.');
        assert!(matches!(dec(&marks), Err(PickleError::Limit { .. })));
        let strict = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert!(decode(b"]]]aa.", &strict).is_ok());
        assert!(decode(b"]]]]aaa.", &strict).is_err());
    }

    #[test]
    fn recursive_structures_are_errors_not_hangs() {
        for h in [
            "80025d71006800612e",                         // l = []; l.append(l), protocol 2
            "80059506000000000000005d946800612e",         // same, protocol 5
            "286470300a5673656c660a70310a67300a732e",     // d = {}; d['self'] = d, protocol 0
            "80025d71006800857101613068012e",             // t = ([],); t[0].append(t), protocol 2
            "28286c70300a2867300a7470310a61303067310a2e", // same, protocol 0
        ] {
            let err = dec(&unhex(h)).unwrap_err();
            assert!(
                err.to_string().contains("recursive structure"),
                "{h}: {err}"
            );
        }
    }

    #[test]
    fn memo_bombs_are_bounded() {
        // v0 = None; v(i) = [v(i-1), v(i-1)]: 2**60 values once expanded.
        let mut data = b"\x80\x02Nq\x00".to_vec();
        for i in 1..=60u8 {
            data.extend_from_slice(&[b'(', b'h', i - 1, b'h', i - 1, b'l', b'q', i]);
        }
        data.push(b'.');
        let err = dec(&data).unwrap_err();
        assert!(err.to_string().contains("max_items"), "{err}");
        // A shared 1 MiB string repeated 100 times exceeds a 64 MiB... no: 100 MiB.
        let mut data = b"\x80\x05\x8e\x00\x00\x10\x00\x00\x00\x00\x00".to_vec();
        data.extend(std::iter::repeat_n(b'x', 1 << 20));
        data.extend_from_slice(b"\x94(");
        data.extend(std::iter::repeat_n(*b"h\x00", 100).flatten());
        data.extend_from_slice(b"l.");
        let err = dec(&data).unwrap_err();
        assert!(err.to_string().contains("max_bytes"), "{err}");
    }

    #[test]
    fn repeated_reduce_on_one_memoized_argument_is_bounded() {
        // A 1000-item list memoized once, then set(list) applied 10,000 times.
        let mut data = b"\x80\x02cbuiltins\nset\nq\x00](".to_vec();
        data.extend(std::iter::repeat_n(*b"K\x01", 1000).flatten());
        data.extend_from_slice(b"eq\x01(");
        data.extend(std::iter::repeat_n(*b"h\x00h\x01\x85R0", 10_000).flatten());
        data.extend_from_slice(b"1N.");
        let limits = Limits {
            max_items: 100_000,
            ..Limits::default()
        };
        let err = decode(&data, &limits).unwrap_err();
        assert!(err.to_string().contains("max_items"), "{err}");
        // Same with bytes(str, 'latin1') on a 100 KB string.
        let mut data = b"\x80\x02cbuiltins\nbytes\nq\x00X\xa0\x86\x01\x00".to_vec();
        data.extend(std::iter::repeat_n(b'x', 100_000));
        data.extend_from_slice(b"q\x01\x8c\x06latin1q\x02(");
        data.extend(std::iter::repeat_n(*b"h\x00h\x01h\x02\x86R0", 1_000).flatten());
        data.extend_from_slice(b"1N.");
        let limits = Limits {
            max_bytes: 10_000_000,
            ..Limits::default()
        };
        let err = decode(&data, &limits).unwrap_err();
        assert!(
            err.to_string().contains("REDUCE built more than max_bytes"),
            "{err}"
        );
    }

    #[test]
    fn limits_are_enforced() {
        let tiny = Limits {
            max_depth: 200,
            max_items: 10,
            max_bytes: 64,
        };
        assert!(decode(b"(K\x01K\x02K\x03l.", &tiny).is_ok());
        assert!(matches!(
            decode(&[b'N'; 20], &tiny),
            Err(PickleError::Limit { .. })
        ));
        let mut big = vec![b'N'];
        big.extend(std::iter::repeat_n(b'.', 100));
        assert!(matches!(
            decode(&big, &tiny),
            Err(PickleError::Limit { offset: 0, .. })
        ));
        // DUP cannot grow the stack without bound either.
        let mut dups = b"N".to_vec();
        dups.extend(std::iter::repeat_n(b'2', 30));
        assert!(matches!(
            decode(&dups, &tiny),
            Err(PickleError::Limit { .. })
        ));
    }

    #[test]
    fn structural_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"\x80\x02h\x05.", "memo value not found at index 5"),
            (
                b"\x80\x02j\x00\x00\x01\x00.",
                "memo value not found at index 65536",
            ),
            (b"g7\n.", "memo value not found at index 7"),
            (b"p-1\n.", "invalid PUT memo index"),
            (b"\x80\x02q\x00.", "stack underflow"),
            (b"\x80\x02.", "stack underflow"),
            (b"a.", "stack underflow"),
            (b"]K\x01e.", "could not find MARK"),
            (b"N(.", "MARK is in the way"),
            (b"(K\x01a.", "stack underflow"),
            (b"(K\x01K\x02e.", "APPENDS has no object"),
            (b"}(K\x01u.", "odd number of items for SETITEMS"),
            (
                b"K\x01K\x01K\x01s.",
                "SETITEM on an object that is not a dict",
            ),
            (b"]K\x01\x90.", "could not find MARK"),
            (b"\x80\x06N.", "unsupported pickle protocol: 6"),
            (b"\xff", "unknown opcode 0xff"),
            (b"X\x03\x00\x00\x00\xed\xa0\x80.", "lone surrogates"),
            (b"\x85.", "stack underflow"),
        ];
        for (data, needle) in cases {
            let msg = dec(data).unwrap_err().to_string();
            assert!(
                msg.contains(needle),
                "{data:?}: {msg} should contain {needle}"
            );
            assert!(msg.contains("byte offset"), "{msg}");
        }
        assert!(matches!(dec(b""), Err(PickleError::Truncated { .. })));
        assert!(matches!(dec(b"N"), Err(PickleError::Truncated { .. })));
        assert!(matches!(dec(b"I12"), Err(PickleError::Truncated { .. })));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for (name, proto, data, _) in all_fixtures() {
            if data.len() > 4096 {
                continue;
            }
            // The last byte is STOP: every shorter prefix lacks it.
            for end in 0..data.len() {
                assert!(
                    dec(&data[..end]).is_err(),
                    "{name} protocol {proto} cut at {end}"
                );
            }
        }
    }

    #[test]
    fn fuzz_never_panics() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let limits = [
            Limits::default(),
            Limits {
                max_depth: 4,
                max_items: 50,
                max_bytes: 4096,
            },
        ];
        let mut corpus: Vec<Vec<u8>> = all_fixtures()
            .filter(|(_, _, data, _)| data.len() <= 4096)
            .map(|(_, _, data, _)| data)
            .collect();
        corpus.push(encode(&dec(&unhex(FIXTURES[0].2)).unwrap()));
        let mut runs = 0;
        for data in &corpus {
            for end in (0..data.len()).step_by(3) {
                for l in &limits {
                    let _ = decode(&data[..end], l);
                    runs += 1;
                }
            }
            for _ in 0..150 {
                let mut mutated = data.clone();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(mutated.len());
                    match rng.below(4) {
                        0 => mutated[i] = rng.next() as u8,
                        1 => mutated[i] ^= 1 << rng.below(8),
                        2 => {
                            mutated[i] =
                                [0x00, 0x7f, 0x80, 0xff, b'(', b'.', 0x94, b'h'][rng.below(8)]
                        }
                        _ => {
                            let j = rng.below(mutated.len());
                            mutated.insert(j, rng.next() as u8);
                        }
                    }
                }
                for l in &limits {
                    let _ = decode(&mutated, l);
                    runs += 1;
                }
            }
        }
        // Pure random bytes, biased towards opcodes.
        for _ in 0..20_000 {
            let len = rng.below(64);
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.below(2) == 0 {
                        b"()]}.0125ahgqeltuKMJNVXS\x80\x85\x86\x8c\x94\x8f\x90\x91"[rng.below(30)]
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
            let _ = decode(&data, &limits[rng.below(2)]);
            runs += 1;
        }
        assert!(runs > 50_000, "{runs}");
    }

    // --- encoder ---

    #[test]
    fn encoder_literal_bytes_match_cpython_opcodes() {
        let enc = |v: Value| encode(&v);
        assert_eq!(enc(Value::None), b"\x80\x05N.");
        assert_eq!(enc(Value::Bool(true)), b"\x80\x05\x88.");
        assert_eq!(enc(Value::Int(255)), b"\x80\x05K\xff.");
        assert_eq!(enc(Value::Int(256)), b"\x80\x05M\x00\x01.");
        assert_eq!(enc(Value::Int(-1)), b"\x80\x05J\xff\xff\xff\xff.");
        // pickle.dumps(2**31) uses LONG1 with 5 bytes (sign byte), as here.
        assert_eq!(
            enc(Value::Int(1 << 31)),
            b"\x80\x05\x8a\x05\x00\x00\x00\x80\x00."
        );
        assert_eq!(
            enc(Value::Int(-(1 << 31) - 1)),
            b"\x80\x05\x8a\x05\xff\xff\xff\x7f\xff."
        );
        assert_eq!(
            enc(Value::Int(i64::MIN)),
            b"\x80\x05\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80."
        );
        // A non-normalised BigInt still takes the small-int opcodes.
        assert_eq!(enc(Value::BigInt(BigInt::from(7))), b"\x80\x05K\x07.");
        assert_eq!(
            enc(Value::Float(1.5)),
            b"\x80\x05G?\xf8\x00\x00\x00\x00\x00\x00."
        );
        assert_eq!(enc(s("ab")), b"\x80\x05\x8c\x02ab.");
        assert_eq!(enc(Value::Bytes(vec![0])), b"\x80\x05C\x01\x00.");
        assert_eq!(enc(Value::Tuple(vec![])), b"\x80\x05).");
        assert_eq!(enc(Value::Tuple(vec![Value::None; 2])), b"\x80\x05NN\x86.");
        assert_eq!(enc(Value::Tuple(vec![Value::None; 4])), b"\x80\x05(NNNNt.");
        assert_eq!(enc(Value::List(vec![Value::None])), b"\x80\x05]Na.");
        assert_eq!(enc(Value::List(vec![Value::None; 2])), b"\x80\x05](NNe.");
        assert_eq!(
            enc(Value::Dict(vec![(Value::None, Value::None)])),
            b"\x80\x05}NNs."
        );
        assert_eq!(enc(Value::Set(vec![])), b"\x80\x05\x8f.");
        assert_eq!(enc(Value::Set(vec![Value::None])), b"\x80\x05\x8f(N\x90.");
        assert_eq!(enc(Value::FrozenSet(vec![])), b"\x80\x05(\x91.");
        let long = enc(s(&"é".repeat(200)));
        assert_eq!(&long[..7], b"\x80\x05X\x90\x01\x00\x00");
        let many = enc(Value::List(vec![Value::Int(1); 2001]));
        assert_eq!(many.iter().filter(|&&b| b == b'e').count(), 2);
        assert_eq!(many[many.len() - 3..], *b"\x01a.");
    }

    #[test]
    fn encoder_round_trips_through_our_decoder() {
        for (name, proto, data, repr) in all_fixtures() {
            let v = dec(&data).unwrap();
            let again = dec(&encode(&v)).unwrap();
            assert_eq!(again.py_repr(), repr, "{name} protocol {proto}");
        }
    }

    #[test]
    fn random_values_round_trip() {
        let mut rng = Rng(3);
        for _ in 0..2000 {
            let v = random_value(&mut rng, 5, false);
            let back = dec(&encode(&v)).unwrap();
            // repr() compares NaN as equal text, unlike PartialEq.
            assert_eq!(back.py_repr(), v.py_repr());
            assert_eq!(format!("{back:?}").len(), format!("{v:?}").len());
        }
    }

    const PY_SAME: &str = r#"
import sys, pickle, math
def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return same(list(a.items()), list(b.items()))
    return a == b
for line in sys.stdin:
    h, expr = line.rstrip('\n').split('\t', 1)
    got = pickle.loads(bytes.fromhex(h))
    exp = eval(expr, {'nan': float('nan'), 'inf': float('inf')})
    print('OK' if same(got, exp) else 'FAIL %r: got %r' % (expr[:200], got))
"#;

    fn check_with_python(cases: &[(Vec<u8>, String)]) {
        let input: String = cases
            .iter()
            .map(|(data, expr)| format!("{}\t{}\n", hex(data), expr))
            .collect();
        let Some(out) = python(PY_SAME, &input) else {
            return;
        };
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), cases.len());
        let failures: Vec<&&str> = lines.iter().filter(|l| **l != "OK").collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn python_loads_our_encoding_of_every_fixture() {
        // Re-encode each decoded protocol-5 fixture; Python must load a value of
        // the same types equal to the original object (eval of its repr).
        let cases: Vec<(Vec<u8>, String)> = all_fixtures()
            .filter(|(_, proto, _, _)| *proto == 5)
            .map(|(_, _, data, repr)| (encode(&dec(&data).unwrap()), repr))
            .collect();
        check_with_python(&cases);
    }

    #[test]
    fn python_loads_our_encoding_of_edge_values() {
        let big = |e: u32, neg: bool| {
            let n = BigInt::from(2).pow(e);
            Value::from_bigint(if neg { -n } else { n })
        };
        let mut cases: Vec<(Value, String)> = vec![
            (Value::Int(i64::MAX), "2**63-1".into()),
            (Value::Int(i64::MIN), "-2**63".into()),
            (big(64, false), "2**64".into()),
            (big(100, true), "-2**100".into()),
            (big(2100, false), "2**2100".into()),
            (big(2100, true), "-2**2100".into()),
            (Value::Float(-0.0), "-0.0".into()),
            (Value::Float(f64::NAN), "nan".into()),
            (Value::Float(f64::NEG_INFINITY), "-inf".into()),
            (Value::Float(5e-324), "5e-324".into()),
            (s(&"x".repeat(70_000)), "'x' * 70000".into()),
            (Value::Bytes(vec![7; 300]), "b'\\x07' * 300".into()),
            (
                Value::List((0..2500).map(Value::Int).collect()),
                "list(range(2500))".into(),
            ),
            (
                Value::Set((0..2500).map(Value::Int).collect()),
                "set(range(2500))".into(),
            ),
            (
                Value::FrozenSet((0..1500).map(Value::Int).collect()),
                "frozenset(range(1500))".into(),
            ),
            (
                Value::Dict(
                    (0..1500)
                        .map(|i| (Value::Str(format!("k{i}")), Value::Int(i)))
                        .collect(),
                ),
                "{'k%d' % i: i for i in range(1500)}".into(),
            ),
            (
                Value::Dict(vec![
                    (Value::Tuple(vec![Value::Int(1), s("a")]), Value::None),
                    (Value::Int(1), Value::Tuple(vec![Value::Bool(true)])),
                    (Value::None, Value::FrozenSet(vec![Value::Int(1)])),
                ]),
                "{(1, 'a'): None, 1: (True,), None: frozenset({1})}".into(),
            ),
        ];
        let mut nested = Value::Int(0);
        let mut expr = "0".to_string();
        for i in 0..100 {
            nested = match i % 4 {
                0 => Value::List(vec![nested]),
                1 => Value::Tuple(vec![nested]),
                2 => Value::Dict(vec![(s("k"), nested)]),
                _ => Value::Tuple(vec![nested, Value::None, Value::None, Value::None]),
            };
            expr = match i % 4 {
                0 => format!("[{expr}]"),
                1 => format!("({expr},)"),
                2 => format!("{{'k': {expr}}}"),
                _ => format!("({expr}, None, None, None)"),
            };
        }
        cases.push((nested, expr));
        let cases: Vec<(Vec<u8>, String)> =
            cases.into_iter().map(|(v, e)| (encode(&v), e)).collect();
        check_with_python(&cases);
    }

    // CPython 3.11 pickles: (name, protocol, hex, repr). Generated by
    // pickle.dumps(value, protocol=p).hex() and repr(value).
    const FIXTURES: &[(&str, u8, &str, &str)] = &[
        ("job_rq", 0, "28567461736b732e6164640a70300a4e2849320a49330a7470310a286470320a7470330a2e", "('tasks.add', None, (2, 3), {})"),
        ("job_rq", 1, "2858090000007461736b732e61646471004e284b024b037471017d71027471032e", "('tasks.add', None, (2, 3), {})"),
        ("job_rq", 2, "80022858090000007461736b732e61646471004e4b024b038671017d71027471032e", "('tasks.add', None, (2, 3), {})"),
        ("job_rq", 3, "80032858090000007461736b732e61646471004e4b024b038671017d71027471032e", "('tasks.add', None, (2, 3), {})"),
        ("job_rq", 4, "8004951900000000000000288c097461736b732e616464944e4b024b0386947d9474942e", "('tasks.add', None, (2, 3), {})"),
        ("job_rq", 5, "8005951900000000000000288c097461736b732e616464944e4b024b0386947d9474942e", "('tasks.add', None, (2, 3), {})"),
        ("job_backend", 0, "2856637475746f725f6261636b656e642e7461736b732e6578656375746f722e5461736b4578656375746f722e5f657865637574655f7461736b5f777261707065720a70300a4e28566578616d706c655f6c6f6e675f72756e6e696e670a70310a286470320a566475726174696f6e0a70330a4931300a737470340a286470350a5672657472795f6c696d69740a70360a49330a735664656c61790a70370a4e737470380a2e", "('ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper', None, ('example_long_running', {'duration': 10}), {'retry_limit': 3, 'delay': None})"),
        ("job_backend", 1, "285840000000637475746f725f6261636b656e642e7461736b732e6578656375746f722e5461736b4578656375746f722e5f657865637574655f7461736b5f7772617070657271004e2858140000006578616d706c655f6c6f6e675f72756e6e696e6771017d710258080000006475726174696f6e71034b0a737471047d710528580b00000072657472795f6c696d697471064b03580500000064656c617971074e757471082e", "('ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper', None, ('example_long_running', {'duration': 10}), {'retry_limit': 3, 'delay': None})"),
        ("job_backend", 2, "8002285840000000637475746f725f6261636b656e642e7461736b732e6578656375746f722e5461736b4578656375746f722e5f657865637574655f7461736b5f7772617070657271004e58140000006578616d706c655f6c6f6e675f72756e6e696e6771017d710258080000006475726174696f6e71034b0a738671047d710528580b00000072657472795f6c696d697471064b03580500000064656c617971074e757471082e", "('ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper', None, ('example_long_running', {'duration': 10}), {'retry_limit': 3, 'delay': None})"),
        ("job_backend", 3, "8003285840000000637475746f725f6261636b656e642e7461736b732e6578656375746f722e5461736b4578656375746f722e5f657865637574655f7461736b5f7772617070657271004e58140000006578616d706c655f6c6f6e675f72756e6e696e6771017d710258080000006475726174696f6e71034b0a738671047d710528580b00000072657472795f6c696d697471064b03580500000064656c617971074e757471082e", "('ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper', None, ('example_long_running', {'duration': 10}), {'retry_limit': 3, 'delay': None})"),
        ("job_backend", 4, "8004958e00000000000000288c40637475746f725f6261636b656e642e7461736b732e6578656375746f722e5461736b4578656375746f722e5f657865637574655f7461736b5f77726170706572944e8c146578616d706c655f6c6f6e675f72756e6e696e67947d948c086475726174696f6e944b0a7386947d94288c0b72657472795f6c696d6974944b038c0564656c6179944e7574942e", "('ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper', None, ('example_long_running', {'duration': 10}), {'retry_limit': 3, 'delay': None})"),
        ("job_backend", 5, "8005958e00000000000000288c40637475746f725f6261636b656e642e7461736b732e6578656375746f722e5461736b4578656375746f722e5f657865637574655f7461736b5f77726170706572944e8c146578616d706c655f6c6f6e675f72756e6e696e67947d948c086475726174696f6e944b0a7386947d94288c0b72657472795f6c696d6974944b038c0564656c6179944e7574942e", "('ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper', None, ('example_long_running', {'duration': 10}), {'retry_limit': 3, 'delay': None})"),
        ("ints", 0, "286c70300a49300a61492d310a61493235350a61493235360a614936353533350a614936353533360a6149323134373438333634370a61492d323134373438333634380a614c323134373438333634384c0a614c2d323134373438333634394c0a614c393232333337323033363835343737353830374c0a614c2d393232333337323033363835343737353830384c0a614c393232333337323033363835343737353830384c0a614c2d393232333337323033363835343737353830394c0a614c31383434363734343037333730393535313631364c0a614c313236373635303630303232383232393430313439363730333230353337364c0a614c2d313236373635303630303232383232393430313439363730333230353337364c0a612e", "[0, -1, 255, 256, 65535, 65536, 2147483647, -2147483648, 2147483648, -2147483649, 9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, 18446744073709551616, 1267650600228229401496703205376, -1267650600228229401496703205376]"),
        ("ints", 1, "5d7100284b004affffffff4bff4d00014dffff4a000001004affffff7f4a000000804c323134373438333634384c0a4c2d323134373438333634394c0a4c393232333337323033363835343737353830374c0a4c2d393232333337323033363835343737353830384c0a4c393232333337323033363835343737353830384c0a4c2d393232333337323033363835343737353830394c0a4c31383434363734343037333730393535313631364c0a4c313236373635303630303232383232393430313439363730333230353337364c0a4c2d313236373635303630303232383232393430313439363730333230353337364c0a652e", "[0, -1, 255, 256, 65535, 65536, 2147483647, -2147483648, 2147483648, -2147483649, 9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, 18446744073709551616, 1267650600228229401496703205376, -1267650600228229401496703205376]"),
        ("ints", 2, "80025d7100284b004affffffff4bff4d00014dffff4a000001004affffff7f4a000000808a0500000080008a05ffffff7fff8a08ffffffffffffff7f8a0800000000000000808a090000000000000080008a09ffffffffffffff7fff8a090000000000000000018a0d000000000000000000000000108a0d000000000000000000000000f0652e", "[0, -1, 255, 256, 65535, 65536, 2147483647, -2147483648, 2147483648, -2147483649, 9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, 18446744073709551616, 1267650600228229401496703205376, -1267650600228229401496703205376]"),
        ("ints", 3, "80035d7100284b004affffffff4bff4d00014dffff4a000001004affffff7f4a000000808a0500000080008a05ffffff7fff8a08ffffffffffffff7f8a0800000000000000808a090000000000000080008a09ffffffffffffff7fff8a090000000000000000018a0d000000000000000000000000108a0d000000000000000000000000f0652e", "[0, -1, 255, 256, 65535, 65536, 2147483647, -2147483648, 2147483648, -2147483649, 9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, 18446744073709551616, 1267650600228229401496703205376, -1267650600228229401496703205376]"),
        ("ints", 4, "80049584000000000000005d94284b004affffffff4bff4d00014dffff4a000001004affffff7f4a000000808a0500000080008a05ffffff7fff8a08ffffffffffffff7f8a0800000000000000808a090000000000000080008a09ffffffffffffff7fff8a090000000000000000018a0d000000000000000000000000108a0d000000000000000000000000f0652e", "[0, -1, 255, 256, 65535, 65536, 2147483647, -2147483648, 2147483648, -2147483649, 9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, 18446744073709551616, 1267650600228229401496703205376, -1267650600228229401496703205376]"),
        ("ints", 5, "80059584000000000000005d94284b004affffffff4bff4d00014dffff4a000001004affffff7f4a000000808a0500000080008a05ffffff7fff8a08ffffffffffffff7f8a0800000000000000808a090000000000000080008a09ffffffffffffff7fff8a090000000000000000018a0d000000000000000000000000108a0d000000000000000000000000f0652e", "[0, -1, 255, 256, 65535, 65536, 2147483647, -2147483648, 2147483648, -2147483649, 9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, 18446744073709551616, 1267650600228229401496703205376, -1267650600228229401496703205376]"),
        ("int_0", 0, "49300a2e", "0"),
        ("int_0", 1, "4b002e", "0"),
        ("int_0", 2, "80024b002e", "0"),
        ("int_0", 3, "80034b002e", "0"),
        ("int_0", 4, "80044b002e", "0"),
        ("int_0", 5, "80054b002e", "0"),
        ("int_neg1", 0, "492d310a2e", "-1"),
        ("int_neg1", 1, "4affffffff2e", "-1"),
        ("int_neg1", 2, "80024affffffff2e", "-1"),
        ("int_neg1", 3, "80034affffffff2e", "-1"),
        ("int_neg1", 4, "80049506000000000000004affffffff2e", "-1"),
        ("int_neg1", 5, "80059506000000000000004affffffff2e", "-1"),
        ("int_255", 0, "493235350a2e", "255"),
        ("int_255", 1, "4bff2e", "255"),
        ("int_255", 2, "80024bff2e", "255"),
        ("int_255", 3, "80034bff2e", "255"),
        ("int_255", 4, "80044bff2e", "255"),
        ("int_255", 5, "80054bff2e", "255"),
        ("int_256", 0, "493235360a2e", "256"),
        ("int_256", 1, "4d00012e", "256"),
        ("int_256", 2, "80024d00012e", "256"),
        ("int_256", 3, "80034d00012e", "256"),
        ("int_256", 4, "80049504000000000000004d00012e", "256"),
        ("int_256", 5, "80059504000000000000004d00012e", "256"),
        ("int_65535", 0, "4936353533350a2e", "65535"),
        ("int_65535", 1, "4dffff2e", "65535"),
        ("int_65535", 2, "80024dffff2e", "65535"),
        ("int_65535", 3, "80034dffff2e", "65535"),
        ("int_65535", 4, "80049504000000000000004dffff2e", "65535"),
        ("int_65535", 5, "80059504000000000000004dffff2e", "65535"),
        ("int_2p31", 0, "4c323134373438333634384c0a2e", "2147483648"),
        ("int_2p31", 1, "4c323134373438333634384c0a2e", "2147483648"),
        ("int_2p31", 2, "80028a0500000080002e", "2147483648"),
        ("int_2p31", 3, "80038a0500000080002e", "2147483648"),
        ("int_2p31", 4, "80049508000000000000008a0500000080002e", "2147483648"),
        ("int_2p31", 5, "80059508000000000000008a0500000080002e", "2147483648"),
        ("int_m2p31m1", 0, "4c2d323134373438333634394c0a2e", "-2147483649"),
        ("int_m2p31m1", 1, "4c2d323134373438333634394c0a2e", "-2147483649"),
        ("int_m2p31m1", 2, "80028a05ffffff7fff2e", "-2147483649"),
        ("int_m2p31m1", 3, "80038a05ffffff7fff2e", "-2147483649"),
        ("int_m2p31m1", 4, "80049508000000000000008a05ffffff7fff2e", "-2147483649"),
        ("int_m2p31m1", 5, "80059508000000000000008a05ffffff7fff2e", "-2147483649"),
        ("int_2p63", 0, "4c393232333337323033363835343737353830384c0a2e", "9223372036854775808"),
        ("int_2p63", 1, "4c393232333337323033363835343737353830384c0a2e", "9223372036854775808"),
        ("int_2p63", 2, "80028a090000000000000080002e", "9223372036854775808"),
        ("int_2p63", 3, "80038a090000000000000080002e", "9223372036854775808"),
        ("int_2p63", 4, "8004950c000000000000008a090000000000000080002e", "9223372036854775808"),
        ("int_2p63", 5, "8005950c000000000000008a090000000000000080002e", "9223372036854775808"),
        ("int_m2p63", 0, "4c2d393232333337323033363835343737353830384c0a2e", "-9223372036854775808"),
        ("int_m2p63", 1, "4c2d393232333337323033363835343737353830384c0a2e", "-9223372036854775808"),
        ("int_m2p63", 2, "80028a0800000000000000802e", "-9223372036854775808"),
        ("int_m2p63", 3, "80038a0800000000000000802e", "-9223372036854775808"),
        ("int_m2p63", 4, "8004950b000000000000008a0800000000000000802e", "-9223372036854775808"),
        ("int_m2p63", 5, "8005950b000000000000008a0800000000000000802e", "-9223372036854775808"),
        ("int_2p100", 0, "4c313236373635303630303232383232393430313439363730333230353337364c0a2e", "1267650600228229401496703205376"),
        ("int_2p100", 1, "4c313236373635303630303232383232393430313439363730333230353337364c0a2e", "1267650600228229401496703205376"),
        ("int_2p100", 2, "80028a0d000000000000000000000000102e", "1267650600228229401496703205376"),
        ("int_2p100", 3, "80038a0d000000000000000000000000102e", "1267650600228229401496703205376"),
        ("int_2p100", 4, "80049510000000000000008a0d000000000000000000000000102e", "1267650600228229401496703205376"),
        ("int_2p100", 5, "80059510000000000000008a0d000000000000000000000000102e", "1267650600228229401496703205376"),
        ("int_m2p100", 0, "4c2d313236373635303630303232383232393430313439363730333230353337364c0a2e", "-1267650600228229401496703205376"),
        ("int_m2p100", 1, "4c2d313236373635303630303232383232393430313439363730333230353337364c0a2e", "-1267650600228229401496703205376"),
        ("int_m2p100", 2, "80028a0d000000000000000000000000f02e", "-1267650600228229401496703205376"),
        ("int_m2p100", 3, "80038a0d000000000000000000000000f02e", "-1267650600228229401496703205376"),
        ("int_m2p100", 4, "80049510000000000000008a0d000000000000000000000000f02e", "-1267650600228229401496703205376"),
        ("int_m2p100", 5, "80059510000000000000008a0d000000000000000000000000f02e", "-1267650600228229401496703205376"),
        ("floats", 0, "286c70300a46302e350a61462d302e300a614631652b3330300a6146696e660a61462d696e660a614631652b31360a6146312e35652d30370a6146302e310a61463130303030302e300a614635652d3332340a612e", "[0.5, -0.0, 1e+300, inf, -inf, 1e+16, 1.5e-07, 0.1, 100000.0, 5e-324]"),
        ("floats", 1, "5d710028473fe0000000000000478000000000000000477e37e43c8800759c477ff000000000000047fff0000000000000474341c37937e08000473e8421f5f40d8376473fb999999999999a4740f86a0000000000470000000000000001652e", "[0.5, -0.0, 1e+300, inf, -inf, 1e+16, 1.5e-07, 0.1, 100000.0, 5e-324]"),
        ("floats", 2, "80025d710028473fe0000000000000478000000000000000477e37e43c8800759c477ff000000000000047fff0000000000000474341c37937e08000473e8421f5f40d8376473fb999999999999a4740f86a0000000000470000000000000001652e", "[0.5, -0.0, 1e+300, inf, -inf, 1e+16, 1.5e-07, 0.1, 100000.0, 5e-324]"),
        ("floats", 3, "80035d710028473fe0000000000000478000000000000000477e37e43c8800759c477ff000000000000047fff0000000000000474341c37937e08000473e8421f5f40d8376473fb999999999999a4740f86a0000000000470000000000000001652e", "[0.5, -0.0, 1e+300, inf, -inf, 1e+16, 1.5e-07, 0.1, 100000.0, 5e-324]"),
        ("floats", 4, "8004955f000000000000005d9428473fe0000000000000478000000000000000477e37e43c8800759c477ff000000000000047fff0000000000000474341c37937e08000473e8421f5f40d8376473fb999999999999a4740f86a0000000000470000000000000001652e", "[0.5, -0.0, 1e+300, inf, -inf, 1e+16, 1.5e-07, 0.1, 100000.0, 5e-324]"),
        ("floats", 5, "8005955f000000000000005d9428473fe0000000000000478000000000000000477e37e43c8800759c477ff000000000000047fff0000000000000474341c37937e08000473e8421f5f40d8376473fb999999999999a4740f86a0000000000470000000000000001652e", "[0.5, -0.0, 1e+300, inf, -inf, 1e+16, 1.5e-07, 0.1, 100000.0, 5e-324]"),
        ("float_nan", 0, "466e616e0a2e", "nan"),
        ("float_nan", 1, "477ff80000000000002e", "nan"),
        ("float_nan", 2, "8002477ff80000000000002e", "nan"),
        ("float_nan", 3, "8003477ff80000000000002e", "nan"),
        ("float_nan", 4, "8004950a00000000000000477ff80000000000002e", "nan"),
        ("float_nan", 5, "8005950a00000000000000477ff80000000000002e", "nan"),
        ("float_negzero", 0, "462d302e300a2e", "-0.0"),
        ("float_negzero", 1, "4780000000000000002e", "-0.0"),
        ("float_negzero", 2, "80024780000000000000002e", "-0.0"),
        ("float_negzero", 3, "80034780000000000000002e", "-0.0"),
        ("float_negzero", 4, "8004950a000000000000004780000000000000002e", "-0.0"),
        ("float_negzero", 5, "8005950a000000000000004780000000000000002e", "-0.0"),
        ("float_1e300", 0, "4631652b3330300a2e", "1e+300"),
        ("float_1e300", 1, "477e37e43c8800759c2e", "1e+300"),
        ("float_1e300", 2, "8002477e37e43c8800759c2e", "1e+300"),
        ("float_1e300", 3, "8003477e37e43c8800759c2e", "1e+300"),
        ("float_1e300", 4, "8004950a00000000000000477e37e43c8800759c2e", "1e+300"),
        ("float_1e300", 5, "8005950a00000000000000477e37e43c8800759c2e", "1e+300"),
        ("str_empty", 0, "560a70300a2e", "''"),
        ("str_empty", 1, "580000000071002e", "''"),
        ("str_empty", 2, "8002580000000071002e", "''"),
        ("str_empty", 3, "8003580000000071002e", "''"),
        ("str_empty", 4, "80049504000000000000008c00942e", "''"),
        ("str_empty", 5, "80059504000000000000008c00942e", "''"),
        ("str_unicode", 0, "5668e96c6c6f2077f6726c64205c753230313320fc6eef636f6465205c75323731330a70300a2e", "'h\u{e9}llo w\u{f6}rld \u{2013} \u{fc}n\u{ef}code \u{2713}'"),
        ("str_unicode", 1, "581f00000068c3a96c6c6f2077c3b6726c6420e2809320c3bc6ec3af636f646520e29c9371002e", "'h\u{e9}llo w\u{f6}rld \u{2013} \u{fc}n\u{ef}code \u{2713}'"),
        ("str_unicode", 2, "8002581f00000068c3a96c6c6f2077c3b6726c6420e2809320c3bc6ec3af636f646520e29c9371002e", "'h\u{e9}llo w\u{f6}rld \u{2013} \u{fc}n\u{ef}code \u{2713}'"),
        ("str_unicode", 3, "8003581f00000068c3a96c6c6f2077c3b6726c6420e2809320c3bc6ec3af636f646520e29c9371002e", "'h\u{e9}llo w\u{f6}rld \u{2013} \u{fc}n\u{ef}code \u{2713}'"),
        ("str_unicode", 4, "80049523000000000000008c1f68c3a96c6c6f2077c3b6726c6420e2809320c3bc6ec3af636f646520e29c93942e", "'h\u{e9}llo w\u{f6}rld \u{2013} \u{fc}n\u{ef}code \u{2713}'"),
        ("str_unicode", 5, "80059523000000000000008c1f68c3a96c6c6f2077c3b6726c6420e2809320c3bc6ec3af636f646520e29c93942e", "'h\u{e9}llo w\u{f6}rld \u{2013} \u{fc}n\u{ef}code \u{2713}'"),
        ("str_emoji", 0, "565c5530303031663630305c5530303031663434645c5530303031663366642066616d696c79205c5530303031663436385c75323030645c5530303031663436395c75323030645c5530303031663436370a70300a2e", "'\u{1f600}\u{1f44d}\u{1f3fd} family \u{1f468}\\u200d\u{1f469}\\u200d\u{1f467}'"),
        ("str_emoji", 1, "5826000000f09f9880f09f918df09f8fbd2066616d696c7920f09f91a8e2808df09f91a9e2808df09f91a771002e", "'\u{1f600}\u{1f44d}\u{1f3fd} family \u{1f468}\\u200d\u{1f469}\\u200d\u{1f467}'"),
        ("str_emoji", 2, "80025826000000f09f9880f09f918df09f8fbd2066616d696c7920f09f91a8e2808df09f91a9e2808df09f91a771002e", "'\u{1f600}\u{1f44d}\u{1f3fd} family \u{1f468}\\u200d\u{1f469}\\u200d\u{1f467}'"),
        ("str_emoji", 3, "80035826000000f09f9880f09f918df09f8fbd2066616d696c7920f09f91a8e2808df09f91a9e2808df09f91a771002e", "'\u{1f600}\u{1f44d}\u{1f3fd} family \u{1f468}\\u200d\u{1f469}\\u200d\u{1f467}'"),
        ("str_emoji", 4, "8004952a000000000000008c26f09f9880f09f918df09f8fbd2066616d696c7920f09f91a8e2808df09f91a9e2808df09f91a7942e", "'\u{1f600}\u{1f44d}\u{1f3fd} family \u{1f468}\\u200d\u{1f469}\\u200d\u{1f467}'"),
        ("str_emoji", 5, "8005952a000000000000008c26f09f9880f09f918df09f8fbd2066616d696c7920f09f91a8e2808df09f91a9e2808df09f91a7942e", "'\u{1f600}\u{1f44d}\u{1f3fd} family \u{1f468}\\u200d\u{1f469}\\u200d\u{1f467}'"),
        ("str_300", 0, "56616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e9616263e90a70300a2e", "'abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}'"),
        ("str_300", 1, "5877010000616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a971002e", "'abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}'"),
        ("str_300", 2, "80025877010000616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a971002e", "'abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}'"),
        ("str_300", 3, "80035877010000616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a971002e", "'abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}'"),
        ("str_300", 4, "8004957e010000000000005877010000616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9942e", "'abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}'"),
        ("str_300", 5, "8005957e010000000000005877010000616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9616263c3a9942e", "'abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}'"),
        ("str_quotes", 0, "286c70300a56697427730a70310a615673617920226869220a70320a6156626f7468202720616e6420220a70330a612e", "[\"it's\", 'say \"hi\"', 'both \\' and \"']"),
        ("str_quotes", 1, "5d7100285804000000697427737101580800000073617920226869227102580c000000626f7468202720616e6420227103652e", "[\"it's\", 'say \"hi\"', 'both \\' and \"']"),
        ("str_quotes", 2, "80025d7100285804000000697427737101580800000073617920226869227102580c000000626f7468202720616e6420227103652e", "[\"it's\", 'say \"hi\"', 'both \\' and \"']"),
        ("str_quotes", 3, "80035d7100285804000000697427737101580800000073617920226869227102580c000000626f7468202720616e6420227103652e", "[\"it's\", 'say \"hi\"', 'both \\' and \"']"),
        ("str_quotes", 4, "80049526000000000000005d94288c0469742773948c087361792022686922948c0c626f7468202720616e64202294652e", "[\"it's\", 'say \"hi\"', 'both \\' and \"']"),
        ("str_quotes", 5, "80059526000000000000005d94288c0469742773948c087361792022686922948c0c626f7468202720616e64202294652e", "[\"it's\", 'say \"hi\"', 'both \\' and \"']"),
        ("str_escapes", 0, "566261636b5c7530303563736c6173685c75303030616e65775c75303030646c696e65097461625c75303030305c75303031617f855c75323032385c75643766665c75653030300a70300a2e", "'back\\\\slash\\nnew\\rline\\ttab\\x00\\x1a\\x7f\\x85\\u2028\\ud7ff\\ue000'"),
        ("str_escapes", 1, "58250000006261636b5c736c6173680a6e65770d6c696e6509746162001a7fc285e280a8ed9fbfee808071002e", "'back\\\\slash\\nnew\\rline\\ttab\\x00\\x1a\\x7f\\x85\\u2028\\ud7ff\\ue000'"),
        ("str_escapes", 2, "800258250000006261636b5c736c6173680a6e65770d6c696e6509746162001a7fc285e280a8ed9fbfee808071002e", "'back\\\\slash\\nnew\\rline\\ttab\\x00\\x1a\\x7f\\x85\\u2028\\ud7ff\\ue000'"),
        ("str_escapes", 3, "800358250000006261636b5c736c6173680a6e65770d6c696e6509746162001a7fc285e280a8ed9fbfee808071002e", "'back\\\\slash\\nnew\\rline\\ttab\\x00\\x1a\\x7f\\x85\\u2028\\ud7ff\\ue000'"),
        ("str_escapes", 4, "80049529000000000000008c256261636b5c736c6173680a6e65770d6c696e6509746162001a7fc285e280a8ed9fbfee8080942e", "'back\\\\slash\\nnew\\rline\\ttab\\x00\\x1a\\x7f\\x85\\u2028\\ud7ff\\ue000'"),
        ("str_escapes", 5, "80059529000000000000008c256261636b5c736c6173680a6e65770d6c696e6509746162001a7fc285e280a8ed9fbfee8080942e", "'back\\\\slash\\nnew\\rline\\ttab\\x00\\x1a\\x7f\\x85\\u2028\\ud7ff\\ue000'"),
        ("str_70k", 0, "56*0a70300a2e", "'*'"),
        ("str_70k", 1, "5870110100*71002e", "'*'"),
        ("str_70k", 2, "80025870110100*71002e", "'*'"),
        ("str_70k", 3, "80035870110100*71002e", "'*'"),
        ("str_70k", 4, "80045870110100*942e", "'*'"),
        ("str_70k", 5, "80055870110100*942e", "'*'"),
        ("bytes_empty", 0, "635f5f6275696c74696e5f5f0a62797465730a70300a28745270310a2e", "b''"),
        ("bytes_empty", 1, "635f5f6275696c74696e5f5f0a62797465730a7100295271012e", "b''"),
        ("bytes_empty", 2, "8002635f5f6275696c74696e5f5f0a62797465730a7100295271012e", "b''"),
        ("bytes_empty", 3, "8003430071002e", "b''"),
        ("bytes_empty", 4, "80049504000000000000004300942e", "b''"),
        ("bytes_empty", 5, "80059504000000000000004300942e", "b''"),
        ("bytes_300", 0, "635f636f646563730a656e636f64650a70300a28565c75303030300102030405060708095c75303030610b0c5c75303030640e0f101112131415161718195c75303031611b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c75303035635d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff5c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c75303030300a70310a566c6174696e310a70320a7470330a5270340a2e", "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&\\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'"),
        ("bytes_300", 1, "635f636f646563730a656e636f64650a71002858ac010000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7fc280c281c282c283c284c285c286c287c288c289c28ac28bc28cc28dc28ec28fc290c291c292c293c294c295c296c297c298c299c29ac29bc29cc29dc29ec29fc2a0c2a1c2a2c2a3c2a4c2a5c2a6c2a7c2a8c2a9c2aac2abc2acc2adc2aec2afc2b0c2b1c2b2c2b3c2b4c2b5c2b6c2b7c2b8c2b9c2bac2bbc2bcc2bdc2bec2bfc380c381c382c383c384c385c386c387c388c389c38ac38bc38cc38dc38ec38fc390c391c392c393c394c395c396c397c398c399c39ac39bc39cc39dc39ec39fc3a0c3a1c3a2c3a3c3a4c3a5c3a6c3a7c3a8c3a9c3aac3abc3acc3adc3aec3afc3b0c3b1c3b2c3b3c3b4c3b5c3b6c3b7c3b8c3b9c3bac3bbc3bcc3bdc3bec3bf0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000710158060000006c6174696e3171027471035271042e", "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&\\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'"),
        ("bytes_300", 2, "8002635f636f646563730a656e636f64650a710058ac010000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7fc280c281c282c283c284c285c286c287c288c289c28ac28bc28cc28dc28ec28fc290c291c292c293c294c295c296c297c298c299c29ac29bc29cc29dc29ec29fc2a0c2a1c2a2c2a3c2a4c2a5c2a6c2a7c2a8c2a9c2aac2abc2acc2adc2aec2afc2b0c2b1c2b2c2b3c2b4c2b5c2b6c2b7c2b8c2b9c2bac2bbc2bcc2bdc2bec2bfc380c381c382c383c384c385c386c387c388c389c38ac38bc38cc38dc38ec38fc390c391c392c393c394c395c396c397c398c399c39ac39bc39cc39dc39ec39fc3a0c3a1c3a2c3a3c3a4c3a5c3a6c3a7c3a8c3a9c3aac3abc3acc3adc3aec3afc3b0c3b1c3b2c3b3c3b4c3b5c3b6c3b7c3b8c3b9c3bac3bbc3bcc3bdc3bec3bf0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000710158060000006c6174696e3171028671035271042e", "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&\\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'"),
        ("bytes_300", 3, "8003422c010000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000000000000000000000000000000000000000000000000000000000000000000000000000000000000000071002e", "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&\\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'"),
        ("bytes_300", 4, "8004953301000000000000422c010000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000942e", "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&\\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'"),
        ("bytes_300", 5, "8005953301000000000000422c010000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000942e", "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&\\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'"),
        ("bytes_quotes", 0, "286c70300a635f636f646563730a656e636f64650a70310a2856697427730a70320a566c6174696e310a70330a7470340a5270350a6167310a28566122620a70360a67330a7470370a5270380a612e", "[b\"it's\", b'a\"b']"),
        ("bytes_quotes", 1, "5d710028635f636f646563730a656e636f64650a710128580400000069742773710258060000006c6174696e317103747104527105680128580300000061226271066803747107527108652e", "[b\"it's\", b'a\"b']"),
        ("bytes_quotes", 2, "80025d710028635f636f646563730a656e636f64650a7101580400000069742773710258060000006c6174696e3171038671045271056801580300000061226271066803867107527108652e", "[b\"it's\", b'a\"b']"),
        ("bytes_quotes", 3, "80035d710028430469742773710143036122627102652e", "[b\"it's\", b'a\"b']"),
        ("bytes_quotes", 4, "80049512000000000000005d942843046974277394430361226294652e", "[b\"it's\", b'a\"b']"),
        ("bytes_quotes", 5, "80059512000000000000005d942843046974277394430361226294652e", "[b\"it's\", b'a\"b']"),
        ("bytearray", 0, "635f5f6275696c74696e5f5f0a6279746561727261790a70300a28635f636f646563730a656e636f64650a70310a28566162ff5c75303030300a70320a566c6174696e310a70330a7470340a5270350a7470360a5270370a2e", "b'ab\\xff\\x00'"),
        ("bytearray", 1, "635f5f6275696c74696e5f5f0a6279746561727261790a710028635f636f646563730a656e636f64650a71012858050000006162c3bf00710258060000006c6174696e3171037471045271057471065271072e", "b'ab\\xff\\x00'"),
        ("bytearray", 2, "8002635f5f6275696c74696e5f5f0a6279746561727261790a7100635f636f646563730a656e636f64650a710158050000006162c3bf00710258060000006c6174696e3171038671045271058571065271072e", "b'ab\\xff\\x00'"),
        ("bytearray", 3, "8003636275696c74696e730a6279746561727261790a710043046162ff0071018571025271032e", "b'ab\\xff\\x00'"),
        ("bytearray", 4, "80049525000000000000008c086275696c74696e73948c0962797465617272617994939443046162ff0094859452942e", "b'ab\\xff\\x00'"),
        ("bytearray", 5, "8005950f000000000000009604000000000000006162ff00942e", "b'ab\\xff\\x00'"),
        ("bytearray_empty", 0, "635f5f6275696c74696e5f5f0a6279746561727261790a70300a28745270310a2e", "b''"),
        ("bytearray_empty", 1, "635f5f6275696c74696e5f5f0a6279746561727261790a7100295271012e", "b''"),
        ("bytearray_empty", 2, "8002635f5f6275696c74696e5f5f0a6279746561727261790a7100295271012e", "b''"),
        ("bytearray_empty", 3, "8003636275696c74696e730a6279746561727261790a7100295271012e", "b''"),
        ("bytearray_empty", 4, "8004951d000000000000008c086275696c74696e73948c096279746561727261799493942952942e", "b''"),
        ("bytearray_empty", 5, "8005950b00000000000000960000000000000000942e", "b''"),
        ("bools_none", 0, "286c70300a4930310a614930300a614e612e", "[True, False, None]"),
        ("bools_none", 1, "5d7100284930310a4930300a4e652e", "[True, False, None]"),
        ("bools_none", 2, "80025d71002888894e652e", "[True, False, None]"),
        ("bools_none", 3, "80035d71002888894e652e", "[True, False, None]"),
        ("bools_none", 4, "80049508000000000000005d942888894e652e", "[True, False, None]"),
        ("bools_none", 5, "80059508000000000000005d942888894e652e", "[True, False, None]"),
        ("true", 0, "4930310a2e", "True"),
        ("true", 1, "4930310a2e", "True"),
        ("true", 2, "8002882e", "True"),
        ("true", 3, "8003882e", "True"),
        ("true", 4, "8004882e", "True"),
        ("true", 5, "8005882e", "True"),
        ("none", 0, "4e2e", "None"),
        ("none", 1, "4e2e", "None"),
        ("none", 2, "80024e2e", "None"),
        ("none", 3, "80034e2e", "None"),
        ("none", 4, "80044e2e", "None"),
        ("none", 5, "80054e2e", "None"),
        ("list_empty", 0, "286c70300a2e", "[]"),
        ("list_empty", 1, "5d71002e", "[]"),
        ("list_empty", 2, "80025d71002e", "[]"),
        ("list_empty", 3, "80035d71002e", "[]"),
        ("list_empty", 4, "80045d942e", "[]"),
        ("list_empty", 5, "80055d942e", "[]"),
        ("list_mixed", 0, "286c70300a49310a6156610a70310a614e6146322e350a61286c70320a61286470330a612e", "[1, 'a', None, 2.5, [], {}]"),
        ("list_mixed", 1, "5d7100284b0158010000006171014e4740040000000000005d71027d7103652e", "[1, 'a', None, 2.5, [], {}]"),
        ("list_mixed", 2, "80025d7100284b0158010000006171014e4740040000000000005d71027d7103652e", "[1, 'a', None, 2.5, [], {}]"),
        ("list_mixed", 3, "80035d7100284b0158010000006171014e4740040000000000005d71027d7103652e", "[1, 'a', None, 2.5, [], {}]"),
        ("list_mixed", 4, "80049519000000000000005d94284b018c0161944e4740040000000000005d947d94652e", "[1, 'a', None, 2.5, [], {}]"),
        ("list_mixed", 5, "80059519000000000000005d94284b018c0161944e4740040000000000005d947d94652e", "[1, 'a', None, 2.5, [], {}]"),
        ("tuple_0", 0, "28742e", "()"),
        ("tuple_0", 1, "292e", "()"),
        ("tuple_0", 2, "8002292e", "()"),
        ("tuple_0", 3, "8003292e", "()"),
        ("tuple_0", 4, "8004292e", "()"),
        ("tuple_0", 5, "8005292e", "()"),
        ("tuple_1", 0, "2849310a7470300a2e", "(1,)"),
        ("tuple_1", 1, "284b017471002e", "(1,)"),
        ("tuple_1", 2, "80024b018571002e", "(1,)"),
        ("tuple_1", 3, "80034b018571002e", "(1,)"),
        ("tuple_1", 4, "80049505000000000000004b0185942e", "(1,)"),
        ("tuple_1", 5, "80059505000000000000004b0185942e", "(1,)"),
        ("tuple_2", 0, "2849310a56620a70300a7470310a2e", "(1, 'b')"),
        ("tuple_2", 1, "284b0158010000006271007471012e", "(1, 'b')"),
        ("tuple_2", 2, "80024b0158010000006271008671012e", "(1, 'b')"),
        ("tuple_2", 3, "80034b0158010000006271008671012e", "(1, 'b')"),
        ("tuple_2", 4, "80049509000000000000004b018c01629486942e", "(1, 'b')"),
        ("tuple_2", 5, "80059509000000000000004b018c01629486942e", "(1, 'b')"),
        ("tuple_3", 0, "2849310a49320a49330a7470300a2e", "(1, 2, 3)"),
        ("tuple_3", 1, "284b014b024b037471002e", "(1, 2, 3)"),
        ("tuple_3", 2, "80024b014b024b038771002e", "(1, 2, 3)"),
        ("tuple_3", 3, "80034b014b024b038771002e", "(1, 2, 3)"),
        ("tuple_3", 4, "80049509000000000000004b014b024b0387942e", "(1, 2, 3)"),
        ("tuple_3", 5, "80059509000000000000004b014b024b0387942e", "(1, 2, 3)"),
        ("tuple_4", 0, "2849310a49320a49330a49340a7470300a2e", "(1, 2, 3, 4)"),
        ("tuple_4", 1, "284b014b024b034b047471002e", "(1, 2, 3, 4)"),
        ("tuple_4", 2, "8002284b014b024b034b047471002e", "(1, 2, 3, 4)"),
        ("tuple_4", 3, "8003284b014b024b034b047471002e", "(1, 2, 3, 4)"),
        ("tuple_4", 4, "8004950c00000000000000284b014b024b034b0474942e", "(1, 2, 3, 4)"),
        ("tuple_4", 5, "8005950c00000000000000284b014b024b034b0474942e", "(1, 2, 3, 4)"),
        ("tuple_5", 0, "2849310a2849320a7470300a286c70310a49330a61286470320a56340a70330a49340a734e7470340a2e", "(1, (2,), [3], {'4': 4}, None)"),
        ("tuple_5", 1, "284b01284b027471005d71014b03617d710258010000003471034b04734e7471042e", "(1, (2,), [3], {'4': 4}, None)"),
        ("tuple_5", 2, "8002284b014b028571005d71014b03617d710258010000003471034b04734e7471042e", "(1, (2,), [3], {'4': 4}, None)"),
        ("tuple_5", 3, "8003284b014b028571005d71014b03617d710258010000003471034b04734e7471042e", "(1, (2,), [3], {'4': 4}, None)"),
        ("tuple_5", 4, "8004951900000000000000284b014b0285945d944b03617d948c0134944b04734e74942e", "(1, (2,), [3], {'4': 4}, None)"),
        ("tuple_5", 5, "8005951900000000000000284b014b0285945d944b03617d948c0134944b04734e74942e", "(1, (2,), [3], {'4': 4}, None)"),
        ("dict_str", 0, "286470300a56610a70310a49310a7356620a70320a286c70330a49310a6149320a617356630a70340a286470350a56640a70360a4e73732e", "{'a': 1, 'b': [1, 2], 'c': {'d': None}}"),
        ("dict_str", 1, "7d71002858010000006171014b0158010000006271025d7103284b014b026558010000006371047d710558010000006471064e73752e", "{'a': 1, 'b': [1, 2], 'c': {'d': None}}"),
        ("dict_str", 2, "80027d71002858010000006171014b0158010000006271025d7103284b014b026558010000006371047d710558010000006471064e73752e", "{'a': 1, 'b': [1, 2], 'c': {'d': None}}"),
        ("dict_str", 3, "80037d71002858010000006171014b0158010000006271025d7103284b014b026558010000006371047d710558010000006471064e73752e", "{'a': 1, 'b': [1, 2], 'c': {'d': None}}"),
        ("dict_str", 4, "80049523000000000000007d94288c0161944b018c0162945d94284b014b02658c0163947d948c0164944e73752e", "{'a': 1, 'b': [1, 2], 'c': {'d': None}}"),
        ("dict_str", 5, "80059523000000000000007d94288c0161944b018c0162945d94284b014b02658c0163947d948c0164944e73752e", "{'a': 1, 'b': [1, 2], 'c': {'d': None}}"),
        ("dict_keys", 0, "286470300a49310a56696e740a70310a734e566e6f6e650a70320a732849310a49320a7470330a567475706c650a70340a7356730a70350a567374720a70360a7346322e350a56666c6f61740a70370a734930300a56626f6f6c0a70380a734c313138303539313632303731373431313330333432344c0a566269670a70390a732e", "{1: 'int', None: 'none', (1, 2): 'tuple', 's': 'str', 2.5: 'float', False: 'bool', 1180591620717411303424: 'big'}"),
        ("dict_keys", 1, "7d7100284b015803000000696e7471014e58040000006e6f6e657102284b014b0274710358050000007475706c6571045801000000737105580300000073747271064740040000000000005805000000666c6f617471074930300a5804000000626f6f6c71084c313138303539313632303731373431313330333432344c0a58030000006269677109752e", "{1: 'int', None: 'none', (1, 2): 'tuple', 's': 'str', 2.5: 'float', False: 'bool', 1180591620717411303424: 'big'}"),
        ("dict_keys", 2, "80027d7100284b015803000000696e7471014e58040000006e6f6e6571024b014b0286710358050000007475706c6571045801000000737105580300000073747271064740040000000000005805000000666c6f61747107895804000000626f6f6c71088a0900000000000000004058030000006269677109752e", "{1: 'int', None: 'none', (1, 2): 'tuple', 's': 'str', 2.5: 'float', False: 'bool', 1180591620717411303424: 'big'}"),
        ("dict_keys", 3, "80037d7100284b015803000000696e7471014e58040000006e6f6e6571024b014b0286710358050000007475706c6571045801000000737105580300000073747271064740040000000000005805000000666c6f61747107895804000000626f6f6c71088a0900000000000000004058030000006269677109752e", "{1: 'int', None: 'none', (1, 2): 'tuple', 's': 'str', 2.5: 'float', False: 'bool', 1180591620717411303424: 'big'}"),
        ("dict_keys", 4, "80049557000000000000007d94284b018c03696e74944e8c046e6f6e65944b014b0286948c057475706c65948c0173948c03737472944740040000000000008c05666c6f617494898c04626f6f6c948a090000000000000000408c0362696794752e", "{1: 'int', None: 'none', (1, 2): 'tuple', 's': 'str', 2.5: 'float', False: 'bool', 1180591620717411303424: 'big'}"),
        ("dict_keys", 5, "80059557000000000000007d94284b018c03696e74944e8c046e6f6e65944b014b0286948c057475706c65948c0173948c03737472944740040000000000008c05666c6f617494898c04626f6f6c948a090000000000000000408c0362696794752e", "{1: 'int', None: 'none', (1, 2): 'tuple', 's': 'str', 2.5: 'float', False: 'bool', 1180591620717411303424: 'big'}"),
        ("set", 0, "635f5f6275696c74696e5f5f0a7365740a70300a28286c70310a49310a6149320a6149330a617470320a5270330a2e", "{1, 2, 3}"),
        ("set", 1, "635f5f6275696c74696e5f5f0a7365740a7100285d7101284b014b024b03657471025271032e", "{1, 2, 3}"),
        ("set", 2, "8002635f5f6275696c74696e5f5f0a7365740a71005d7101284b014b024b03658571025271032e", "{1, 2, 3}"),
        ("set", 3, "8003636275696c74696e730a7365740a71005d7101284b014b024b03658571025271032e", "{1, 2, 3}"),
        ("set", 4, "8004950b000000000000008f94284b014b024b03902e", "{1, 2, 3}"),
        ("set", 5, "8005950b000000000000008f94284b014b024b03902e", "{1, 2, 3}"),
        ("set_empty", 0, "635f5f6275696c74696e5f5f0a7365740a70300a28286c70310a7470320a5270330a2e", "set()"),
        ("set_empty", 1, "635f5f6275696c74696e5f5f0a7365740a7100285d71017471025271032e", "set()"),
        ("set_empty", 2, "8002635f5f6275696c74696e5f5f0a7365740a71005d71018571025271032e", "set()"),
        ("set_empty", 3, "8003636275696c74696e730a7365740a71005d71018571025271032e", "set()"),
        ("set_empty", 4, "80048f942e", "set()"),
        ("set_empty", 5, "80058f942e", "set()"),
        ("set_str", 0, "635f5f6275696c74696e5f5f0a7365740a70300a28286c70310a56610a70320a6156630a70330a6156620a70340a617470350a5270360a2e", "{'a', 'c', 'b'}"),
        ("set_str", 1, "635f5f6275696c74696e5f5f0a7365740a7100285d710128580100000061710258010000006371035801000000627104657471055271062e", "{'a', 'c', 'b'}"),
        ("set_str", 2, "8002635f5f6275696c74696e5f5f0a7365740a71005d710128580100000061710258010000006371035801000000627104658571055271062e", "{'a', 'c', 'b'}"),
        ("set_str", 3, "8003636275696c74696e730a7365740a71005d710128580100000061710258010000006371035801000000627104658571055271062e", "{'a', 'c', 'b'}"),
        ("set_str", 4, "80049511000000000000008f94288c0161948c0163948c016294902e", "{'a', 'c', 'b'}"),
        ("set_str", 5, "80059511000000000000008f94288c0161948c0163948c016294902e", "{'a', 'c', 'b'}"),
        ("frozenset", 0, "635f5f6275696c74696e5f5f0a66726f7a656e7365740a70300a28286c70310a49310a6149320a617470320a5270330a2e", "frozenset({1, 2})"),
        ("frozenset", 1, "635f5f6275696c74696e5f5f0a66726f7a656e7365740a7100285d7101284b014b02657471025271032e", "frozenset({1, 2})"),
        ("frozenset", 2, "8002635f5f6275696c74696e5f5f0a66726f7a656e7365740a71005d7101284b014b02658571025271032e", "frozenset({1, 2})"),
        ("frozenset", 3, "8003636275696c74696e730a66726f7a656e7365740a71005d7101284b014b02658571025271032e", "frozenset({1, 2})"),
        ("frozenset", 4, "8004950800000000000000284b014b0291942e", "frozenset({1, 2})"),
        ("frozenset", 5, "8005950800000000000000284b014b0291942e", "frozenset({1, 2})"),
        ("frozenset_empty", 0, "635f5f6275696c74696e5f5f0a66726f7a656e7365740a70300a28286c70310a7470320a5270330a2e", "frozenset()"),
        ("frozenset_empty", 1, "635f5f6275696c74696e5f5f0a66726f7a656e7365740a7100285d71017471025271032e", "frozenset()"),
        ("frozenset_empty", 2, "8002635f5f6275696c74696e5f5f0a66726f7a656e7365740a71005d71018571025271032e", "frozenset()"),
        ("frozenset_empty", 3, "8003636275696c74696e730a66726f7a656e7365740a71005d71018571025271032e", "frozenset()"),
        ("frozenset_empty", 4, "80049504000000000000002891942e", "frozenset()"),
        ("frozenset_empty", 5, "80059504000000000000002891942e", "frozenset()"),
        ("nested_50", 0, "286c70300a286c70310a286c70320a286c70330a286c70340a286c70350a286c70360a286c70370a286c70380a286c70390a286c7031300a286c7031310a286c7031320a286c7031330a286c7031340a286c7031350a286c7031360a286c7031370a286c7031380a286c7031390a286c7032300a286c7032310a286c7032320a286c7032330a286c7032340a286c7032350a286c7032360a286c7032370a286c7032380a286c7032390a286c7033300a286c7033310a286c7033320a286c7033330a286c7033340a286c7033350a286c7033360a286c7033370a286c7033380a286c7033390a286c7034300a286c7034310a286c7034320a286c7034330a286c7034340a286c7034350a286c7034360a286c7034370a286c7034380a286c7034390a49310a61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161612e", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
        ("nested_50", 1, "5d71005d71015d71025d71035d71045d71055d71065d71075d71085d71095d710a5d710b5d710c5d710d5d710e5d710f5d71105d71115d71125d71135d71145d71155d71165d71175d71185d71195d711a5d711b5d711c5d711d5d711e5d711f5d71205d71215d71225d71235d71245d71255d71265d71275d71285d71295d712a5d712b5d712c5d712d5d712e5d712f5d71305d71314b0161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161612e", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
        ("nested_50", 2, "80025d71005d71015d71025d71035d71045d71055d71065d71075d71085d71095d710a5d710b5d710c5d710d5d710e5d710f5d71105d71115d71125d71135d71145d71155d71165d71175d71185d71195d711a5d711b5d711c5d711d5d711e5d711f5d71205d71215d71225d71235d71245d71255d71265d71275d71285d71295d712a5d712b5d712c5d712d5d712e5d712f5d71305d71314b0161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161612e", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
        ("nested_50", 3, "80035d71005d71015d71025d71035d71045d71055d71065d71075d71085d71095d710a5d710b5d710c5d710d5d710e5d710f5d71105d71115d71125d71135d71145d71155d71165d71175d71185d71195d711a5d711b5d711c5d711d5d711e5d711f5d71205d71215d71225d71235d71245d71255d71265d71275d71285d71295d712a5d712b5d712c5d712d5d712e5d712f5d71305d71314b0161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161612e", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
        ("nested_50", 4, "80049599000000000000005d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d944b0161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161612e", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
        ("nested_50", 5, "80059599000000000000005d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d945d944b0161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161612e", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
        ("mixed_50", 0, "286470300a566b0a70310a286c70320a28286470330a67310a286c70340a28286470350a67310a286c70360a28286470370a67310a286c70380a28286470390a67310a286c7031300a2828647031310a67310a286c7031320a2828647031330a67310a286c7031340a2828647031350a67310a286c7031360a2828647031370a67310a286c7031380a2828647031390a67310a286c7032300a2828647032310a67310a286c7032320a2828647032330a67310a286c7032340a2828647032350a67310a286c7032360a2828647032370a67310a286c7032380a2828647032390a67310a286c7033300a2828647033310a67310a286c7033320a2828647033330a67310a286c7033340a566c6561660a7033350a6173747033360a6173747033370a6173747033380a6173747033390a6173747034300a6173747034310a6173747034320a6173747034330a6173747034340a6173747034350a6173747034360a6173747034370a6173747034380a6173747034390a6173747035300a6173747035310a61732e", "{'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': ['leaf']},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]}"),
        ("mixed_50", 1, "7d710058010000006b71015d7102287d710368015d7104287d710568015d7106287d710768015d7108287d710968015d710a287d710b68015d710c287d710d68015d710e287d710f68015d7110287d711168015d7112287d711368015d7114287d711568015d7116287d711768015d7118287d711968015d711a287d711b68015d711c287d711d68015d711e287d711f68015d7120287d712168015d712258040000006c6561667123617374712461737471256173747126617374712761737471286173747129617374712a617374712b617374712c617374712d617374712e617374712f617374713061737471316173747132617374713361732e", "{'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': ['leaf']},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]}"),
        ("mixed_50", 2, "80027d710058010000006b71015d71027d710368015d71047d710568015d71067d710768015d71087d710968015d710a7d710b68015d710c7d710d68015d710e7d710f68015d71107d711168015d71127d711368015d71147d711568015d71167d711768015d71187d711968015d711a7d711b68015d711c7d711d68015d711e7d711f68015d71207d712168015d712258040000006c6561667123617385712461738571256173857126617385712761738571286173857129617385712a617385712b617385712c617385712d617385712e617385712f617385713061738571316173857132617385713361732e", "{'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': ['leaf']},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]}"),
        ("mixed_50", 3, "80037d710058010000006b71015d71027d710368015d71047d710568015d71067d710768015d71087d710968015d710a7d710b68015d710c7d710d68015d710e7d710f68015d71107d711168015d71127d711368015d71147d711568015d71167d711768015d71187d711968015d711a7d711b68015d711c7d711d68015d711e7d711f68015d71207d712168015d712258040000006c6561667123617385712461738571256173857126617385712761738571286173857129617385712a617385712b617385712c617385712d617385712e617385712f617385713061738571316173857132617385713361732e", "{'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': ['leaf']},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]}"),
        ("mixed_50", 4, "800495b2000000000000007d948c016b945d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d948c046c656166946173859461738594617385946173859461738594617385946173859461738594617385946173859461738594617385946173859461738594617385946173859461732e", "{'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': ['leaf']},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]}"),
        ("mixed_50", 5, "800595b2000000000000007d948c016b945d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d947d9468015d948c046c656166946173859461738594617385946173859461738594617385946173859461738594617385946173859461738594617385946173859461738594617385946173859461732e", "{'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': [({'k': ['leaf']},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]},)]}"),
        ("memo_shared", 0, "286c70300a286c70310a49310a6149320a616167310a61567368617265642d737472696e670a70320a6167320a612867310a7470330a612e", "[[1, 2], [1, 2], 'shared-string', 'shared-string', ([1, 2],)]"),
        ("memo_shared", 1, "5d7100285d7101284b014b02656801580d0000007368617265642d737472696e6771026802286801747103652e", "[[1, 2], [1, 2], 'shared-string', 'shared-string', ([1, 2],)]"),
        ("memo_shared", 2, "80025d7100285d7101284b014b02656801580d0000007368617265642d737472696e67710268026801857103652e", "[[1, 2], [1, 2], 'shared-string', 'shared-string', ([1, 2],)]"),
        ("memo_shared", 3, "80035d7100285d7101284b014b02656801580d0000007368617265642d737472696e67710268026801857103652e", "[[1, 2], [1, 2], 'shared-string', 'shared-string', ([1, 2],)]"),
        ("memo_shared", 4, "80049525000000000000005d94285d94284b014b026568018c0d7368617265642d737472696e6794680268018594652e", "[[1, 2], [1, 2], 'shared-string', 'shared-string', ([1, 2],)]"),
        ("memo_shared", 5, "80059525000000000000005d94285d94284b014b026568018c0d7368617265642d737472696e6794680268018594652e", "[[1, 2], [1, 2], 'shared-string', 'shared-string', ([1, 2],)]"),
    ];
}
