//! The security policy: the only Python globals a pickle may name ([`Allowed`]), and what
//! `REDUCE` makes of them, applied by our own code to plain arguments (nothing is called).

use super::unpickler::Unpickler;
use super::{Node, NodeId};
use crate::pickle::Result;
use crate::value::Value;

/// The allowlisted globals; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Allowed {
    Set,
    FrozenSet,
    ByteArray,
    Bytes,
    CodecsEncode,
}

impl Allowed {
    pub(super) fn lookup(module: &str, name: &str) -> Option<Allowed> {
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
    pub(super) fn parts(self) -> (&'static str, &'static str) {
        match self {
            Allowed::Set => ("builtins", "set"),
            Allowed::FrozenSet => ("builtins", "frozenset"),
            Allowed::ByteArray => ("builtins", "bytearray"),
            Allowed::Bytes => ("builtins", "bytes"),
            Allowed::CodecsEncode => ("_codecs", "encode"),
        }
    }

    pub(super) fn qualname(self) -> String {
        let (module, name) = self.parts();
        format!("{module}.{name}")
    }
}

impl Unpickler<'_> {
    /// `REDUCE` with an allowlisted constructor, applied to plain arguments.
    pub(super) fn reduce(&self, callable: NodeId, args: NodeId) -> Result<Node> {
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
