//! The unpickler: the stack machine that runs the opcodes over an arena of nodes, with CPython's
//! stack, marks and memo, refusing every opcode that would build or look up an arbitrary object.

use std::collections::HashMap;

use num_bigint::BigInt;

use super::reader::Reader;
use super::text::py2_str;
use super::{Allowed, Node, NodeId};
use crate::pickle::opcodes::*;
use crate::pickle::{Limits, PickleError, Result};
use crate::value::Value;

pub(super) struct Unpickler<'a> {
    pub(super) r: Reader<'a>,
    pub(super) limits: &'a Limits,
    /// Every object created while unpickling; referenced by index.
    pub(super) nodes: Vec<Node>,
    /// Offset of the opcode that created each node.
    pub(super) at: Vec<usize>,
    /// The unpickling stack (node ids).
    pub(super) stack: Vec<NodeId>,
    /// Stack lengths at each open MARK (CPython keeps marks in a separate stack too).
    pub(super) marks: Vec<usize>,
    pub(super) memo: HashMap<u64, NodeId>,
    /// Values pushed plus memo slots created, bounded by `max_items`.
    pub(super) work: usize,
    /// Bytes created by allowlisted constructors, bounded by `max_bytes`.
    pub(super) reduced_bytes: usize,
    /// Offset of the opcode being executed, for error messages.
    pub(super) op_at: usize,
}

impl Unpickler<'_> {
    pub(super) fn invalid(&self, msg: impl Into<String>) -> PickleError {
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
    pub(super) fn run(&mut self) -> Result<NodeId> {
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
}
