//! A safe, bounded pickle decoder and a protocol-5 encoder for plain data.
//!
//! RQ stores a job as `pickle.dumps((func_name, instance, args, kwargs))` and results
//! as `pickle.dumps(return_value)`. [`decode`] reads what CPython 3.8–3.13 writes for
//! plain data ([`Value`](crate::value::Value)) at protocols 0–5; [`encode`] writes protocol 5 that
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

pub use crate::value::Limits;

/// Why a pickle could not be decoded. Every variant says what was wrong and at
/// which byte offset of the input (the offset of the opcode involved).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickleError {
    /// The input ended before the opcode at `offset` was complete.
    #[error("pickle data was truncated: {what} at byte offset {offset} needs {needed} more bytes, only {available} remain")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// The offset of the opcode.
        offset: usize,
        /// The bytes it needs.
        needed: u64,
        /// The bytes left.
        available: usize,
    },
    /// The input is not a well-formed pickle of plain data.
    #[error("invalid pickle at byte offset {offset}: {msg}")]
    Invalid {
        /// The offset of the opcode.
        offset: usize,
        /// What is wrong.
        msg: String,
    },
    /// The pickle references a Python global that is not on the allowlist.
    #[error("refused: pickle references Python global '{module}.{name}' ({opcode}); only plain data is accepted (at byte offset {offset})")]
    RefusedGlobal {
        /// The global's module.
        module: String,
        /// The global's name in its module.
        name: String,
        /// The opcode that named it (`GLOBAL`, `STACK_GLOBAL`, `INST`).
        opcode: &'static str,
        /// The offset of the opcode.
        offset: usize,
    },
    /// The pickle uses an opcode that constructs or looks up arbitrary objects.
    #[error("refused: pickle opcode {opcode} at byte offset {offset} {why}; only plain data is accepted")]
    RefusedOpcode {
        /// The opcode's name.
        opcode: &'static str,
        /// Its offset.
        offset: usize,
        /// What it would do.
        why: &'static str,
    },
    /// A [`Limits`] bound was exceeded.
    #[error("pickle exceeds a limit at byte offset {offset}: {msg}")]
    Limit {
        /// The offset of the opcode (or of the value being built).
        offset: usize,
        /// Which bound, and by how much.
        msg: String,
    },
}

type Result<T> = std::result::Result<T, PickleError>;

mod decode;
mod encode;
mod opcodes;
#[cfg(test)]
mod tests;

pub use decode::decode;
pub use encode::encode;
