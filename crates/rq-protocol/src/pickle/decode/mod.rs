//! The decoder: a stack machine over an arena of plain-data nodes (the unpickler), then a
//! builder that turns the node graph into a bounded tree of values (see the module docs of
//! `rq::pickle` for the safety model).
//!
//! The files: [`decode`] and the node model here; the input cursor in `reader.rs`; the opcodes
//! in `unpickler.rs`, with protocol 0's text arguments in `text.rs`; the allowlisted globals and
//! what `REDUCE` makes of them (the security policy) in `allowlist.rs`; the final values in
//! `builder.rs`.

mod allowlist;
mod builder;
mod reader;
mod text;
mod unpickler;

use std::collections::HashMap;

use allowlist::Allowed;
use builder::Builder;
use reader::Reader;
use unpickler::Unpickler;

use super::{Limits, PickleError, Result};
use crate::value::Value;

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
