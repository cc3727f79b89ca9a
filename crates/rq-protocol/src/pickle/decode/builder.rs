//! The builder: turns the unpickler's node graph into a tree of values, copying shared nodes and
//! enforcing the depth, item and byte limits on the result.

use super::{Node, NodeId};
use crate::pickle::{Limits, PickleError, Result};
use crate::value::Value;

/// Turns the node graph into a tree of values, copying shared nodes and enforcing
/// the depth, item and byte limits on the result.
pub(super) struct Builder<'a> {
    pub(super) nodes: &'a [Node],
    /// Input offset of the opcode that created each node, for error messages.
    pub(super) at: &'a [usize],
    pub(super) limits: &'a Limits,
    /// Containers currently being built (on the path from the root): meeting one
    /// again means the structure contains itself.
    pub(super) active: Vec<bool>,
    pub(super) items: usize,
    pub(super) bytes: usize,
}

impl Builder<'_> {
    fn limit(&self, id: NodeId, msg: String) -> PickleError {
        PickleError::Limit {
            offset: self.at[id],
            msg,
        }
    }

    /// Builds node `id`, which sits inside `depth` containers.
    pub(super) fn build(&mut self, id: NodeId, depth: usize) -> Result<Value> {
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
