//! The decoder: a stack machine over an arena of plain-data nodes ([`Unpickler`]), then a
//! [`Builder`] that turns the node graph into a bounded tree of values (see the module docs of
//! `rq::pickle` for the safety model).

use std::collections::HashMap;

use num_bigint::BigInt;

use super::opcodes::*;
use super::{Limits, PickleError, Result};
use crate::value::{Value, INT_MAX_STR_DIGITS};

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
