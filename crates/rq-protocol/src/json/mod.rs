//! RQ's `JSONSerializer` wire format: `json.dumps(obj).encode('utf-8')` and
//! `json.loads(data.decode('utf-8'))` with Python's default arguments.
//!
//! [`decode`] accepts exactly the grammar of Python's `json.loads` (including the
//! `NaN`, `Infinity` and `-Infinity` literals, integers of any size, duplicate keys
//! where the last value wins) within [`Limits`] (defined in `crate::value`,
//! re-exported here). [`encode`] produces the very bytes `json.dumps` produces and
//! fails with Python's own `TypeError`/`ValueError` text where `json.dumps` raises.
//!
//! Mapping (Python `json` module semantics):
//!
//! | JSON                          | `Value` decoded        | `Value` encoded                                   |
//! |-------------------------------|------------------------|---------------------------------------------------|
//! | `null` / `true` / `false`     | `None` / `Bool`        | `None` / `Bool`                                   |
//! | integer literal               | `Int`, `BigInt` beyond i64 | `Int`, `BigInt` (decimal, ≤ 4300 digits)      |
//! | number with `.`/exponent      | `Float`                | `Float` as Python `repr()`                        |
//! | `NaN`, `Infinity`, `-Infinity`| `Float`                | non-finite `Float`                                |
//! | string                        | `Str`                  | `Str` (`ensure_ascii`: `\uXXXX`, surrogate pairs) |
//! | array                         | `List`                 | `List` or `Tuple`                                 |
//! | object                        | `Dict` with `Str` keys | `Dict` with `Str`/`Int`/`BigInt`/`Float`/`Bool`/`None` keys, converted as `json.dumps` does (`1` → `"1"`, `True` → `"true"`, `None` → `"null"`, `1.5` → `"1.5"`) |
//! | —                             | —                      | `Bytes`, `Set`, `FrozenSet`: `TypeError` "Object of type bytes is not JSON serializable" |
//!
//! Strings holding lone surrogates (`"\ud800"`), which Python accepts but a Rust
//! `String` cannot hold, are rejected.
//!
//! The decoder is in `decode.rs`, the encoder in `encode.rs`.

pub use crate::value::Limits;

mod decode;
mod encode;
#[cfg(test)]
mod tests;

pub use decode::decode;
pub use encode::encode;

/// Why JSON could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not valid JSON for Python's `json.loads`; `msg` follows Python's wording.
    #[error("invalid JSON at byte offset {offset}: {msg}")]
    Syntax {
        /// Where in the input.
        offset: usize,
        /// What is wrong there.
        msg: String,
    },
    /// A [`Limits`] bound was exceeded while decoding.
    #[error("JSON exceeds a limit at byte offset {offset}: {msg}")]
    Limit {
        /// Where in the input.
        offset: usize,
        /// Which bound, and by how much.
        msg: String,
    },
    /// `json.dumps` would raise `TypeError` with exactly this message.
    #[error("{0}")]
    TypeError(String),
    /// `json.dumps` would raise `ValueError` with exactly this message.
    #[error("{0}")]
    ValueError(String),
}

type Result<T> = std::result::Result<T, JsonError>;
