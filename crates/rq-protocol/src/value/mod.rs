//! The protocol-neutral value model shared by the RQ codecs.
//!
//! [`Value`] is the subset of Python's data model that RQ job payloads can carry
//! without executing code: what `pickle` (restricted to plain data, see
//! `crate::pickle`) and `json` (see `crate::json`) can express.
//!
//! [`Limits`] (the decoding bounds shared by both codecs) is defined here, in the
//! protocol-neutral module, and re-exported as `crate::pickle::Limits` and
//! `crate::json::Limits`.
//!
//! # Python rendering
//!
//! [`Value::py_repr`] and [`Value::py_str`] print exactly what CPython 3 prints for
//! the equivalent object (`repr()` / `str()`), including the shortest round-trip
//! float repr ([`float_repr`]) and the `str.isprintable()` rules that decide which
//! characters `repr()` escapes (table generated from Python 3.11, Unicode 14.0.0).
//!
//! # JSON mapping ([`Value::to_json`])
//!
//! This is a *lossy, human/API-oriented* view (for logs, HTTP APIs, result
//! inspection). It is NOT RQ's `JSONSerializer` wire format: that lives in
//! `crate::json`, which follows `json.dumps` exactly and refuses what JSON
//! cannot express.
//!
//! | Python value (`Value`)                   | `serde_json::Value`                                     |
//! |------------------------------------------|---------------------------------------------------------|
//! | `None`                                   | `null`                                                  |
//! | `bool`                                   | `true` / `false`                                        |
//! | `int` within i64 (`Int`)                 | number                                                  |
//! | `int` beyond i64 (`BigInt`)              | string of its decimal digits, e.g. `"1267650600228229401496703205376"` |
//! | `float`, finite                          | number                                                  |
//! | `float` NaN / +inf / -inf                | string `"NaN"` / `"Infinity"` / `"-Infinity"`           |
//! | `str`                                    | string                                                  |
//! | `bytes` / `bytearray`                    | object `{"$bytes": "<standard base64, padded>"}`        |
//! | `list`, `tuple`, `set`, `frozenset`      | array (elements mapped recursively, order kept)         |
//! | `dict`                                   | object, insertion order kept (serde_json `preserve_order`) |
//! | dict key that is a `str`                 | that string                                             |
//! | dict key of any other type               | its `py_repr()`, e.g. `1` → `"1"`, `None` → `"None"`, `(1, 2)` → `"(1, 2)"` |
//!
//! If two keys map to the same JSON key (e.g. `'1'` and `1`), the later value wins
//! at the position of the first, as `serde_json::Map::insert` does.
//!
//! [`Value::from_json`] is the plain inverse for data that came from JSON: `null`,
//! booleans and strings map back directly; numbers become `Int` if they fit i64,
//! `BigInt` if they only fit u64, otherwise `Float`; arrays become `List`; objects
//! become `Dict` with `Str` keys. It does not undo the lossy cases above (a
//! `{"$bytes": ...}` object stays a dict, a tuple that went out as an array comes
//! back as a list).
//!
//! The files: the model and its conversions here, `repr()` and `str()` in `repr.rs`, the
//! float repr in `float.rs`, `str.isprintable()` and its table in `printable.rs`.

use base64::Engine as _;
use num_bigint::BigInt;

mod float;
mod printable;
mod repr;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

pub use float::float_repr;
pub use printable::is_printable;
pub use repr::str_repr;

/// A Python value as RQ jobs carry it: the subset of Python's data model that pickle
/// (without code execution) and JSON can express.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `bool`.
    Bool(bool),
    /// `int` within i64.
    Int(i64),
    /// `int` beyond i64; only for values outside i64: constructors must normalise (see
    /// [`Value::from_bigint`]), so that equal ints compare equal.
    BigInt(num_bigint::BigInt),
    /// `float`.
    Float(f64),
    /// `str`.
    Str(String),
    /// `bytes` (a `bytearray` decodes to `Bytes` too).
    Bytes(Vec<u8>),
    /// `list`.
    List(Vec<Value>),
    /// `tuple`.
    Tuple(Vec<Value>),
    /// `set`, in the order the pickle lists its elements.
    Set(Vec<Value>),
    /// `frozenset`, likewise.
    FrozenSet(Vec<Value>),
    /// `dict`, insertion order preserved like a Python dict.
    Dict(Vec<(Value, Value)>),
}

/// Bounds applied while decoding untrusted payloads (pickle and JSON alike).
///
/// The defaults are generous for real RQ jobs and small enough that a hostile
/// payload cannot exhaust memory or CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum container nesting: a scalar has depth 0, `[1]` depth 1, `[[1]]` depth 2.
    pub max_depth: usize,
    /// Maximum number of values (scalars and containers, each counted once per
    /// occurrence in the decoded result; pickle also counts memo references and memo
    /// slots while decoding).
    pub max_items: usize,
    /// Maximum input size in bytes, and maximum total length of all `str`/`bytes`
    /// contents in the decoded result (a string shared through the pickle memo counts
    /// once per occurrence).
    pub max_bytes: usize,
}

impl Default for Limits {
    /// Depth 200, 1,000,000 items, 16 MiB: far above any real job's arguments, and low enough
    /// that a hostile payload (memo bomb, zip bomb, gigabyte length fields) costs at most a few
    /// tens of MB while it is refused. Decoding runs on the runtime's worker threads, so at most
    /// one payload per core is being decoded at any moment.
    fn default() -> Self {
        Limits {
            max_depth: 200,
            max_items: 1_000_000,
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// CPython 3.11+ refuses to convert ints with more than this many decimal digits
/// to/from text (`sys.get_int_max_str_digits()` default, CVE-2020-10735). The codecs
/// apply the same bound to textual integers so they fail where Python fails.
pub const INT_MAX_STR_DIGITS: usize = 4300;

impl Value {
    /// Builds an int from a `BigInt`, normalising to [`Value::Int`] when it fits i64.
    pub fn from_bigint(n: BigInt) -> Value {
        match i64::try_from(&n) {
            Ok(small) => Value::Int(small),
            Err(_) => Value::BigInt(n),
        }
    }

    /// The name of the Python type, as `type(v).__name__` prints it.
    pub fn py_type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Dict(_) => "dict",
        }
    }

    /// Python truthiness (`bool(v)`): `None`, `False`, zero, `0.0`/`-0.0` and empty
    /// containers/strings are false; everything else (including NaN) is true.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::BigInt(n) => n.bits() != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(v) | Value::Tuple(v) | Value::Set(v) | Value::FrozenSet(v) => !v.is_empty(),
            Value::Dict(d) => !d.is_empty(),
        }
    }

    /// Looks up a `str` key in a dict (`d.get(key)`); `None` for other variants.
    /// If the (unusual) dict holds the key twice, the last entry wins, as it would
    /// when Python builds the dict.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(pairs) => pairs.iter().rev().find_map(|(k, v)| match k {
                Value::Str(s) if s == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The text of a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An `int` that fits i64 (not `bool`, although Python's bool is an int subclass).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// An `int` or `float` as f64 (`float(v)`); big ints round to nearest, and
    /// ints beyond f64 range give ±inf (where Python would raise OverflowError).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            // Decimal text parses with correct rounding; no num-traits dependency needed.
            Value::BigInt(n) => n.to_string().parse().ok(),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The JSON view of this value; see the mapping table in the module docs.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::None => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::BigInt(n) => J::String(n.to_string()),
            Value::Float(f) if f.is_nan() => J::String("NaN".into()),
            Value::Float(f) if f.is_infinite() => {
                J::String(if *f > 0.0 { "Infinity" } else { "-Infinity" }.into())
            }
            // Finite floats always convert.
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Bytes(b) => {
                let mut map = serde_json::Map::new();
                let b64 = base64::engine::general_purpose::STANDARD.encode(b);
                map.insert("$bytes".into(), J::String(b64));
                J::Object(map)
            }
            Value::List(items)
            | Value::Tuple(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Dict(pairs) => {
                let mut map = serde_json::Map::with_capacity(pairs.len());
                for (k, v) in pairs {
                    let key = match k {
                        Value::Str(s) => s.clone(),
                        other => other.py_repr(),
                    };
                    map.insert(key, v.to_json());
                }
                J::Object(map)
            }
        }
    }

    /// Converts parsed JSON into a `Value`; see the module docs for the mapping.
    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::None,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::BigInt(BigInt::from(u))
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            J::Object(map) => Value::Dict(
                map.iter()
                    .map(|(k, v)| (Value::Str(k.clone()), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<BigInt> for Value {
    /// Normalises to `Int` when the value fits i64.
    fn from(n: BigInt) -> Self {
        Value::from_bigint(n)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<Vec<Value>> for Value {
    /// A Python list.
    fn from(items: Vec<Value>) -> Self {
        Value::List(items)
    }
}
