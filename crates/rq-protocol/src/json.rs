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

use std::collections::HashMap;

use num_bigint::BigInt;

pub use crate::value::Limits;
use crate::value::{float_repr, str_repr, Value, INT_MAX_STR_DIGITS};

/// Why JSON could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not valid JSON for Python's `json.loads`; `msg` follows Python's wording.
    #[error("invalid JSON at byte offset {offset}: {msg}")]
    Syntax { offset: usize, msg: String },
    /// A [`Limits`] bound was exceeded while decoding.
    #[error("JSON exceeds a limit at byte offset {offset}: {msg}")]
    Limit { offset: usize, msg: String },
    /// `json.dumps` would raise `TypeError` with exactly this message.
    #[error("{0}")]
    TypeError(String),
    /// `json.dumps` would raise `ValueError` with exactly this message.
    #[error("{0}")]
    ValueError(String),
}

type Result<T> = std::result::Result<T, JsonError>;

// ---------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------

/// Decodes RQ JSON job data (`json.loads(data.decode('utf-8'))`).
pub fn decode(data: &[u8], limits: &Limits) -> Result<Value> {
    if data.len() > limits.max_bytes {
        return Err(JsonError::Limit {
            offset: 0,
            msg: format!(
                "input is {} bytes, more than max_bytes ({})",
                data.len(),
                limits.max_bytes
            ),
        });
    }
    let text = std::str::from_utf8(data).map_err(|e| JsonError::Syntax {
        offset: e.valid_up_to(),
        msg: "input is not valid UTF-8".into(),
    })?;
    if text.starts_with('\u{feff}') {
        // json.loads(str) refuses a BOM with this message.
        return Err(syntax(0, "Unexpected UTF-8 BOM (decode using utf-8-sig)"));
    }
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        limits,
        items: 0,
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(syntax(p.pos, "Extra data"));
    }
    Ok(v)
}

fn syntax(offset: usize, msg: impl Into<String>) -> JsonError {
    JsonError::Syntax {
        offset,
        msg: msg.into(),
    }
}

/// Recursive-descent parser over validated UTF-8. It only ever splits the input at
/// ASCII bytes, so every slice it copies is valid UTF-8 too.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    limits: &'a Limits,
    items: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.s.get(self.pos + ahead).copied()
    }

    fn rest_starts_with(&self, lit: &[u8]) -> bool {
        self.s.get(self.pos..).is_some_and(|r| r.starts_with(lit))
    }

    /// JSON whitespace as Python defines it: space, tab, newline, carriage return.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(JsonError::Limit {
                offset: self.pos,
                msg: format!("more than max_items ({}) values", self.limits.max_items),
            });
        }
        let literal = |p: &mut Self, lit: &[u8], v: Value| {
            p.pos += lit.len();
            Ok(v)
        };
        match self.peek() {
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            _ if self.rest_starts_with(b"null") => literal(self, b"null", Value::None),
            _ if self.rest_starts_with(b"true") => literal(self, b"true", Value::Bool(true)),
            _ if self.rest_starts_with(b"false") => literal(self, b"false", Value::Bool(false)),
            _ if self.rest_starts_with(b"NaN") => literal(self, b"NaN", Value::Float(f64::NAN)),
            _ if self.rest_starts_with(b"Infinity") => {
                literal(self, b"Infinity", Value::Float(f64::INFINITY))
            }
            _ if self.rest_starts_with(b"-Infinity") => {
                literal(self, b"-Infinity", Value::Float(f64::NEG_INFINITY))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(syntax(self.pos, "Expecting value")),
        }
    }

    fn enter(&self, depth: usize) -> Result<()> {
        if depth > self.limits.max_depth {
            return Err(JsonError::Limit {
                offset: self.pos,
                msg: format!(
                    "containers nested deeper than max_depth ({})",
                    self.limits.max_depth
                ),
            });
        }
        Ok(())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?` as CPython's
    /// `_match_number_unicode` scans it: a `.` or exponent that is not followed by a
    /// digit is not part of the number (and then fails as extra data).
    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => digits(self),
            _ => return Err(syntax(start, "Expecting value")),
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
            is_float = true;
            self.pos += 1;
            digits(self);
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.peek_at(1), Some(b'+' | b'-')));
            if matches!(self.peek_at(1 + sign), Some(b'0'..=b'9')) {
                is_float = true;
                self.pos += 1 + sign;
                digits(self);
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default();
        if is_float {
            // float() of the matched text; overflow gives inf, as in Python.
            return text
                .parse::<f64>()
                .map(Value::Float)
                .map_err(|_| syntax(start, "invalid number"));
        }
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        let n_digits = text.trim_start_matches('-').len();
        if n_digits > INT_MAX_STR_DIGITS {
            return Err(JsonError::ValueError(format!(
                "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: value has {n_digits} digits; use sys.set_int_max_str_digits() to increase the limit"
            )));
        }
        text.parse::<BigInt>()
            .map(Value::from_bigint)
            .map_err(|_| syntax(start, "invalid number"))
    }

    /// A string; `self.pos` is at the opening quote. Python's `strict=True` refuses
    /// raw control characters (< 0x20) inside strings.
    fn string(&mut self) -> Result<String> {
        let begin = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let chunk_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[chunk_start..self.pos]).unwrap_or_default());
            match self.peek() {
                None => return Err(syntax(begin, "Unterminated string starting at")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(begin, &mut out)?,
                Some(_) => return Err(syntax(self.pos, "Invalid control character at")),
            }
        }
    }

    /// One backslash escape; `self.pos` is at the backslash.
    fn escape(&mut self, begin: usize, out: &mut String) -> Result<()> {
        let at = self.pos;
        let c = match self.peek_at(1) {
            None => return Err(syntax(begin, "Unterminated string starting at")),
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4(at)?;
                self.pos += 6;
                let code = if (0xd800..0xdc00).contains(&hi)
                    && self.peek() == Some(b'\\')
                    && self.peek_at(1) == Some(b'u')
                {
                    // A high surrogate followed by a low one is one character.
                    let lo = self.hex4(self.pos)?;
                    if (0xdc00..0xe000).contains(&lo) {
                        self.pos += 6;
                        0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                    } else {
                        hi
                    }
                } else {
                    hi
                };
                let c = char::from_u32(code).ok_or_else(|| {
                    syntax(
                        at,
                        format!("lone surrogate \\u{code:04x} cannot be represented"),
                    )
                })?;
                out.push(c);
                return Ok(());
            }
            Some(_) => {
                let shown = std::str::from_utf8(&self.s[at + 1..])
                    .ok()
                    .and_then(|s| s.chars().next())
                    .unwrap_or('?');
                let shown = str_repr(&shown.to_string());
                return Err(syntax(at, format!("Invalid \\escape: {shown}")));
            }
        };
        out.push(c);
        self.pos += 2;
        Ok(())
    }

    /// The four hex digits of a `\uXXXX` escape starting at `at`.
    fn hex4(&self, at: usize) -> Result<u32> {
        self.s
            .get(at + 2..at + 6)
            .and_then(|h| {
                h.iter()
                    .try_fold(0u32, |acc, &d| Some(acc * 16 + char::from(d).to_digit(16)?))
            })
            .ok_or_else(|| syntax(at, "Invalid \\uXXXX escape"))
    }

    fn array(&mut self, depth: usize) -> Result<Value> {
        self.enter(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::List(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::List(items));
                }
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                _ => return Err(syntax(self.pos, "Expecting ',' delimiter")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value> {
        self.enter(depth)?;
        self.pos += 1;
        let mut pairs: Vec<(Value, Value)> = Vec::new();
        // Python builds a dict: a repeated key keeps its first position and takes
        // the last value. Index the keys once the object gets big.
        let mut index: HashMap<String, usize> = HashMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Dict(pairs));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(syntax(
                    self.pos,
                    "Expecting property name enclosed in double quotes",
                ));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(syntax(self.pos, "Expecting ':' delimiter"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            insert_key(&mut pairs, &mut index, key, value);
            self.skip_ws();
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Dict(pairs));
                }
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                _ => return Err(syntax(self.pos, "Expecting ',' delimiter")),
            }
        }
    }
}

/// Below this many keys a linear scan finds duplicates faster than hashing.
const INDEX_THRESHOLD: usize = 16;

fn insert_key(
    pairs: &mut Vec<(Value, Value)>,
    index: &mut HashMap<String, usize>,
    key: String,
    value: Value,
) {
    let existing = if pairs.len() < INDEX_THRESHOLD {
        pairs
            .iter()
            .position(|(k, _)| matches!(k, Value::Str(s) if *s == key))
    } else {
        if index.is_empty() {
            for (i, (k, _)) in pairs.iter().enumerate() {
                if let Value::Str(s) = k {
                    index.insert(s.clone(), i);
                }
            }
        }
        index.get(&key).copied()
    };
    match existing {
        Some(i) => {
            if let Some(slot) = pairs.get_mut(i) {
                slot.1 = value;
            }
        }
        None => {
            if !index.is_empty() {
                index.insert(key.clone(), pairs.len());
            }
            pairs.push((Value::Str(key), value));
        }
    }
}

// ---------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------

/// Encodes like `json.dumps(v).encode('utf-8')` with default arguments: separators
/// `", "` and `": "`, `ensure_ascii=True`, `allow_nan=True`, tuples as arrays,
/// insertion-ordered keys.
pub fn encode(v: &Value) -> Result<Vec<u8>> {
    let mut out = String::new();
    encode_into(v, &mut out)?;
    Ok(out.into_bytes())
}

fn encode_into(v: &Value, out: &mut String) -> Result<()> {
    match v {
        Value::None => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::BigInt(n) => out.push_str(&bigint_str(n)?),
        Value::Float(f) => out.push_str(&float_str(*f)),
        Value::Str(s) => quote_into(s, out),
        Value::List(items) | Value::Tuple(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                encode_into(item, out)?;
            }
            out.push(']');
        }
        Value::Dict(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match k {
                    Value::Str(s) => quote_into(s, out),
                    // json.dumps turns these key types into strings.
                    Value::Int(_)
                    | Value::BigInt(_)
                    | Value::Float(_)
                    | Value::Bool(_)
                    | Value::None => {
                        let mut text = String::new();
                        encode_into(k, &mut text)?;
                        quote_into(&text, out);
                    }
                    other => {
                        return Err(JsonError::TypeError(format!(
                            "keys must be str, int, float, bool or None, not {}",
                            other.py_type_name()
                        )))
                    }
                }
                out.push_str(": ");
                encode_into(v, out)?;
            }
            out.push('}');
        }
        Value::Bytes(_) | Value::Set(_) | Value::FrozenSet(_) => {
            return Err(JsonError::TypeError(format!(
                "Object of type {} is not JSON serializable",
                v.py_type_name()
            )))
        }
    }
    Ok(())
}

/// `float.__repr__`, except the non-finite values that `allow_nan=True` writes as
/// JavaScript literals.
fn float_str(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        float_repr(f)
    }
}

/// `int.__repr__` with CPython 3.11+'s limit on the number of decimal digits.
fn bigint_str(n: &BigInt) -> Result<String> {
    let too_big = || {
        JsonError::ValueError(format!(
            "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit"
        ))
    };
    // 2**14286 already has 4301 digits: refuse such numbers before converting.
    if n.bits() >= 14286 {
        return Err(too_big());
    }
    let text = n.to_string();
    if text.trim_start_matches('-').len() > INT_MAX_STR_DIGITS {
        return Err(too_big());
    }
    Ok(text)
}

/// A JSON string with `ensure_ascii=True` (CPython's `ascii_escape_unicode`):
/// printable ASCII as is, `"` and `\` escaped, `\n \r \t \b \f` short escapes,
/// everything else as lowercase `\uXXXX`, non-BMP characters as surrogate pairs.
fn quote_into(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::test_support::{hex, python, random_value, unhex, Rng};

    fn dec(data: &[u8]) -> Result<Value> {
        decode(data, &Limits::default())
    }

    fn enc(v: &Value) -> String {
        String::from_utf8(encode(v).unwrap()).unwrap()
    }

    fn s(text: &str) -> Value {
        Value::Str(text.into())
    }

    #[test]
    fn cpython_fixtures_decode_and_reencode_byte_identically() {
        for (name, data, repr) in FIXTURES {
            let v = dec(data.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(v.py_repr(), *repr, "{name}");
            assert_eq!(enc(&v), *data, "{name}");
        }
        assert!(FIXTURES.len() >= 30);
    }

    #[test]
    fn rq_job_as_json() {
        let job = Value::Tuple(vec![
            s("tasks.add"),
            Value::None,
            Value::Tuple(vec![Value::Int(2), Value::Int(3)]),
            Value::Dict(vec![]),
        ]);
        assert_eq!(enc(&job), r#"["tasks.add", null, [2, 3], {}]"#);
        let back = dec(br#"["tasks.add", null, [2, 3], {}]"#).unwrap();
        assert_eq!(back.py_repr(), "['tasks.add', None, [2, 3], {}]");
    }

    #[test]
    fn encode_literals() {
        let v = Value::Tuple(vec![
            Value::Int(1),
            s("é\u{1f600}\"\\\n\u{7f}\u{1f}/"),
            Value::None,
            Value::Float(1.0),
            Value::Float(1e16),
            Value::Float(f64::NAN),
            Value::Float(f64::NEG_INFINITY),
            Value::Float(-0.0),
            Value::from_bigint(BigInt::from(2).pow(100)),
        ]);
        assert_eq!(
            enc(&v),
            r#"[1, "\u00e9\ud83d\ude00\"\\\n\u007f\u001f/", null, 1.0, 1e+16, NaN, -Infinity, -0.0, 1267650600228229401496703205376]"#
        );
        let keys = Value::Dict(vec![
            (Value::Int(1), s("a")),
            (Value::Bool(true), s("b")),
            (Value::None, s("c")),
            (Value::Float(1.5), s("d")),
            (Value::Float(f64::INFINITY), s("e")),
            (Value::from_bigint(BigInt::from(2).pow(70)), s("f")),
            (s("g"), Value::Dict(vec![])),
        ]);
        assert_eq!(
            enc(&keys),
            r#"{"1": "a", "true": "b", "null": "c", "1.5": "d", "Infinity": "e", "1180591620717411303424": "f", "g": {}}"#
        );
    }

    #[test]
    fn encode_errors_use_python_messages() {
        let err = |v: Value| encode(&v).unwrap_err().to_string();
        assert_eq!(
            err(Value::Bytes(vec![1])),
            "Object of type bytes is not JSON serializable"
        );
        assert_eq!(
            err(Value::List(vec![Value::Int(1), Value::Set(vec![])])),
            "Object of type set is not JSON serializable"
        );
        assert_eq!(
            err(Value::FrozenSet(vec![])),
            "Object of type frozenset is not JSON serializable"
        );
        assert_eq!(
            err(Value::Dict(vec![(Value::Tuple(vec![]), Value::None)])),
            "keys must be str, int, float, bool or None, not tuple"
        );
        let huge = Value::from_bigint(BigInt::from(10).pow(4300));
        assert!(matches!(encode(&huge), Err(JsonError::ValueError(_))));
        assert!(encode(&Value::from_bigint(BigInt::from(10).pow(4299))).is_ok());
        let huge = Value::from_bigint(BigInt::from(2).pow(20_000));
        assert_eq!(
            encode(&huge).unwrap_err().to_string(),
            "Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit"
        );
    }

    #[test]
    fn decode_python_extensions_and_numbers() {
        let repr = |t: &str| dec(t.as_bytes()).unwrap().py_repr();
        assert_eq!(repr("[NaN, Infinity, -Infinity]"), "[nan, inf, -inf]");
        assert_eq!(repr("-0"), "0");
        assert_eq!(repr("-0.0"), "-0.0");
        assert_eq!(repr("1E5"), "100000.0");
        assert_eq!(repr("1e400"), "inf");
        assert_eq!(repr("1.5e-7"), "1.5e-07");
        assert_eq!(
            repr("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
        assert_eq!(repr("-9223372036854775809"), "-9223372036854775809");
        assert!(matches!(
            dec(b"9223372036854775807").unwrap(),
            Value::Int(i64::MAX)
        ));
        assert!(matches!(
            dec(b"9223372036854775808").unwrap(),
            Value::BigInt(_)
        ));
        assert_eq!(repr(r#"{"a": 1, "b": 2, "a": 3}"#), "{'a': 3, 'b': 2}");
        let many: String = (0..40).map(|i| format!("\"k{}\": {i}, ", i % 20)).collect();
        assert_eq!(
            dec(format!("{{{many}\"z\": 0}}").as_bytes())
                .unwrap()
                .py_repr(),
            format!(
                "{{{}'z': 0}}",
                (0..20)
                    .map(|i| format!("'k{i}': {}, ", i + 20))
                    .collect::<String>()
            )
        );
        assert_eq!(repr(r#""\ud83d\ude00\u00e9\/\b""#), "'😀é/\\x08'");
        assert_eq!(repr(" \t\n\r[1]\r\n "), "[1]");
        let digits = "9".repeat(4301);
        assert!(matches!(
            dec(digits.as_bytes()),
            Err(JsonError::ValueError(_))
        ));
        assert!(dec("9".repeat(4300).as_bytes()).is_ok());
    }

    #[test]
    fn decode_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "Expecting value"),
            (b"  ", "Expecting value"),
            (b"01", "Extra data"),
            (b"1.", "Extra data"),
            (b".5", "Expecting value"),
            (b"-", "Expecting value"),
            (b"1e", "Extra data"),
            (b"[1,]", "Expecting value"),
            (b"[1 2]", "Expecting ',' delimiter"),
            (b"{\"a\" 1}", "Expecting ':' delimiter"),
            (
                b"{'a': 1}",
                "Expecting property name enclosed in double quotes",
            ),
            (
                b"{\"a\": 1,}",
                "Expecting property name enclosed in double quotes",
            ),
            (b"\"abc", "Unterminated string starting at"),
            (b"\"a\x01\"", "Invalid control character at"),
            (b"\"\\x\"", "Invalid \\escape: 'x'"),
            (b"\"\\u12g4\"", "Invalid \\uXXXX escape"),
            (b"\"\\ud800\"", "lone surrogate"),
            (b"\"\\ud800\\u0041\"", "lone surrogate"),
            (b"tru", "Expecting value"),
            (b"nan", "Expecting value"),
            (b"Infinityx", "Extra data"),
            (b"\xff", "not valid UTF-8"),
            (b"\xef\xbb\xbf[]", "Unexpected UTF-8 BOM"),
        ];
        for (data, needle) in cases {
            let msg = dec(data).unwrap_err().to_string();
            assert!(
                msg.contains(needle),
                "{data:?}: {msg} should contain {needle}"
            );
        }
        assert_eq!(
            dec(b"[1, x]").unwrap_err(),
            JsonError::Syntax {
                offset: 4,
                msg: "Expecting value".into()
            }
        );
    }

    #[test]
    fn limits_are_enforced() {
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(dec(deep(200).as_bytes()).is_ok());
        assert!(matches!(
            dec(deep(201).as_bytes()),
            Err(JsonError::Limit { .. })
        ));
        assert!(matches!(
            dec(deep(10_000).as_bytes()),
            Err(JsonError::Limit { .. })
        ));
        assert!(matches!(
            dec("{\"a\":".repeat(10_000).as_bytes()),
            Err(JsonError::Limit { .. })
        ));
        let tiny = Limits {
            max_depth: 2,
            max_items: 4,
            max_bytes: 20,
        };
        assert!(decode(b"[[1, 2]]", &tiny).is_ok());
        assert!(decode(b"[[[1]]]", &tiny).is_err());
        assert!(decode(b"[1, 2, 3, 4]", &tiny).is_err());
        assert!(decode(b"\"aaaaaaaaaaaaaaaaaaaaaaaa\"", &tiny).is_err());
    }

    #[test]
    fn fuzz_never_panics() {
        let mut rng = Rng(11);
        let limits = [
            Limits::default(),
            Limits {
                max_depth: 3,
                max_items: 20,
                max_bytes: 200,
            },
        ];
        let mut corpus: Vec<Vec<u8>> = FIXTURES.iter().map(|f| f.1.as_bytes().to_vec()).collect();
        corpus.push(
            br#"{"a": [1.5e-7, -0, "\ud83d\ude00\n", NaN, -Infinity, true, false, null]}"#.to_vec(),
        );
        let mut runs = 0;
        for data in &corpus {
            for end in 0..data.len() {
                let _ = dec(&data[..end]);
                runs += 1;
            }
            for _ in 0..300 {
                let mut m = data.clone();
                for _ in 0..1 + rng.below(3) {
                    let i = rng.below(m.len());
                    match rng.below(3) {
                        0 => m[i] = rng.next() as u8,
                        1 => m[i] = b"[]{}\",:\\-0eE.uNI \xc3\xff"[rng.below(18)],
                        _ => m.insert(i, b"[{\"\\"[rng.below(4)]),
                    }
                }
                for l in &limits {
                    let _ = decode(&m, l);
                    runs += 1;
                }
            }
        }
        assert!(runs > 10_000);
    }

    #[test]
    fn random_values_round_trip() {
        let mut rng = Rng(5);
        for _ in 0..2000 {
            let v = random_value(&mut rng, 5, true);
            let text = encode(&v).unwrap();
            assert!(text.is_ascii());
            let back = dec(&text).unwrap();
            assert_eq!(back.py_repr(), v.py_repr());
        }
    }

    const PY_DUMPS: &str = r#"
import sys, json, pickle
for line in sys.stdin:
    v = pickle.loads(bytes.fromhex(line.strip()))
    try:
        print('OK', json.dumps(v).encode('utf-8').hex())
    except (TypeError, ValueError) as e:
        print('ERR', str(e).encode('utf-8').hex())
"#;

    #[test]
    fn encode_matches_python_json_dumps() {
        let mut rng = Rng(9);
        let mut values: Vec<Value> = (0..600)
            .map(|i| random_value(&mut rng, 4, i % 2 == 0))
            .collect();
        values.push(Value::from_bigint(BigInt::from(10).pow(4300)));
        values.push(Value::Str(
            (0..=0x10ffff)
                .step_by(97)
                .filter_map(char::from_u32)
                .collect(),
        ));
        let input: String = values
            .iter()
            .map(|v| hex(&crate::pickle::encode(v)) + "\n")
            .collect();
        let Some(out) = python(PY_DUMPS, &input) else {
            return;
        };
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), values.len());
        let (mut oks, mut errs) = (0, 0);
        for (v, line) in values.iter().zip(lines) {
            let (kind, payload) = line.split_once(' ').unwrap();
            let payload = String::from_utf8(unhex(payload)).unwrap();
            match (kind, encode(v)) {
                ("OK", Ok(ours)) => {
                    assert_eq!(String::from_utf8(ours).unwrap(), payload, "{v:?}");
                    oks += 1;
                }
                ("ERR", Err(e)) => {
                    assert_eq!(e.to_string(), payload, "{v:?}");
                    errs += 1;
                }
                (kind, ours) => panic!("python {kind} {payload}, ours {ours:?} for {v:?}"),
            }
        }
        assert!(oks > 100 && errs > 50, "{oks} ok, {errs} errors");
    }

    const PY_LOADS: &str = r#"
import sys, json, pickle
for line in sys.stdin:
    try:
        v = json.loads(bytes.fromhex(line.strip()).decode('utf-8'))
        print('OK', pickle.dumps(v, protocol=5).hex())
    except (ValueError, RecursionError):
        print('ERR')
"#;

    #[test]
    fn decode_matches_python_json_loads() {
        let mut rng = Rng(13);
        let mut texts: Vec<Vec<u8>> = [
            "NaN",
            "-Infinity",
            "Infinity",
            "1e400",
            "-1e400",
            "-0",
            "-0.0",
            "01",
            "1.",
            ".5",
            "1e",
            "1e+",
            "1e+5",
            "1E-5",
            "[1,]",
            "{\"a\":1,\"a\":2}",
            "\"\\ud83d\\ude00\"",
            "\"\\u00e9\\u00E9\"",
            "\"\\/\"",
            " \t\n[1]\r ",
            "12345678901234567890123",
            "[]",
            "{}",
            "tru",
            "\"\\x\"",
            "{\"a\" 1}",
            "[1 2]",
            "",
            " ",
            "nul",
            "123abc",
            "Infinityx",
            "-",
            "--1",
            "1.5e-7",
            "[-]",
            "-NaN",
            "+1",
            "0x10",
            "1_000",
            "\"\x7f\"",
            "\"\u{2028}\"",
            "[1,\n2]",
            "{\"\": \"\"}",
            "\"\\ud800\\udc00\"",
            "[[[[[]]]]]",
            "1.0e+",
            "2.5E+3",
            "-Infinity1",
            "[NaN,Infinity]",
            "{\"a\":{\"b\":[null]}}",
        ]
        .iter()
        .map(|t| t.as_bytes().to_vec())
        .collect();
        for _ in 0..500 {
            let v = random_value(&mut rng, 4, true);
            let mut t = encode(&v).unwrap();
            if rng.below(2) == 0 && !t.is_empty() {
                // Damage a third of them to compare error detection too.
                let i = rng.below(t.len());
                t[i] = b"[]{}\",:\\-0eE.uN 1"[rng.below(17)];
            }
            texts.push(t);
        }
        let input: String = texts.iter().map(|t| hex(t) + "\n").collect();
        let Some(out) = python(PY_LOADS, &input) else {
            return;
        };
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), texts.len());
        for (t, line) in texts.iter().zip(lines) {
            let ours = dec(t);
            match line.split_once(' ') {
                Some(("OK", pickled)) => {
                    // Python's value comes back as a pickle, so both sides are
                    // rendered by our own py_repr (independent of Python's Unicode
                    // version).
                    let theirs = crate::pickle::decode(&unhex(pickled), &Limits::default());
                    match (ours, theirs) {
                        (Ok(ours), Ok(theirs)) => assert_eq!(
                            ours.py_repr(),
                            theirs.py_repr(),
                            "{:?}",
                            String::from_utf8_lossy(t)
                        ),
                        // Python accepts lone surrogates, which a Rust String cannot hold.
                        (Err(e), Err(_)) => {
                            assert!(e.to_string().contains("lone surrogate"), "{e}")
                        }
                        (ours, theirs) => panic!(
                            "{:?}: ours {ours:?}, python {theirs:?}",
                            String::from_utf8_lossy(t)
                        ),
                    }
                }
                _ => assert!(
                    ours.is_err(),
                    "{:?} gave {ours:?}",
                    String::from_utf8_lossy(t)
                ),
            }
        }
    }

    // CPython 3.11: (name, json.dumps(value), repr(json.loads(...))).
    const FIXTURES: &[(&str, &str, &str)] = &[
        ("job_rq", "[\"tasks.add\", null, [2, 3], {}]", "['tasks.add', None, [2, 3], {}]"),
        ("job_backend", "[\"ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper\", null, [\"example_long_running\", {\"duration\": 10}], {\"retry_limit\": 3, \"delay\": null}]", "['ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper', None, ['example_long_running', {'duration': 10}], {'retry_limit': 3, 'delay': None}]"),
        ("ints", "[0, -1, 255, 256, 65535, 65536, 2147483647, -2147483648, 2147483648, -2147483649, 9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, 18446744073709551616, 1267650600228229401496703205376, -1267650600228229401496703205376]", "[0, -1, 255, 256, 65535, 65536, 2147483647, -2147483648, 2147483648, -2147483649, 9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809, 18446744073709551616, 1267650600228229401496703205376, -1267650600228229401496703205376]"),
        ("int_0", "0", "0"),
        ("int_neg1", "-1", "-1"),
        ("int_255", "255", "255"),
        ("int_256", "256", "256"),
        ("int_65535", "65535", "65535"),
        ("int_2p31", "2147483648", "2147483648"),
        ("int_m2p31m1", "-2147483649", "-2147483649"),
        ("int_2p63", "9223372036854775808", "9223372036854775808"),
        ("int_m2p63", "-9223372036854775808", "-9223372036854775808"),
        ("int_2p100", "1267650600228229401496703205376", "1267650600228229401496703205376"),
        ("int_m2p100", "-1267650600228229401496703205376", "-1267650600228229401496703205376"),
        ("floats", "[0.5, -0.0, 1e+300, Infinity, -Infinity, 1e+16, 1.5e-07, 0.1, 100000.0, 5e-324]", "[0.5, -0.0, 1e+300, inf, -inf, 1e+16, 1.5e-07, 0.1, 100000.0, 5e-324]"),
        ("float_nan", "NaN", "nan"),
        ("float_negzero", "-0.0", "-0.0"),
        ("float_1e300", "1e+300", "1e+300"),
        ("str_empty", "\"\"", "''"),
        ("str_unicode", "\"h\\u00e9llo w\\u00f6rld \\u2013 \\u00fcn\\u00efcode \\u2713\"", "'h\u{e9}llo w\u{f6}rld \u{2013} \u{fc}n\u{ef}code \u{2713}'"),
        ("str_emoji", "\"\\ud83d\\ude00\\ud83d\\udc4d\\ud83c\\udffd family \\ud83d\\udc68\\u200d\\ud83d\\udc69\\u200d\\ud83d\\udc67\"", "'\u{1f600}\u{1f44d}\u{1f3fd} family \u{1f468}\\u200d\u{1f469}\\u200d\u{1f467}'"),
        ("str_300", "\"abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9abc\\u00e9\"", "'abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}abc\u{e9}'"),
        ("str_quotes", "[\"it's\", \"say \\\"hi\\\"\", \"both ' and \\\"\"]", "[\"it's\", 'say \"hi\"', 'both \\' and \"']"),
        ("str_escapes", "\"back\\\\slash\\nnew\\rline\\ttab\\u0000\\u001a\\u007f\\u0085\\u2028\\ud7ff\\ue000\"", "'back\\\\slash\\nnew\\rline\\ttab\\x00\\x1a\\x7f\\x85\\u2028\\ud7ff\\ue000'"),
        ("bools_none", "[true, false, null]", "[True, False, None]"),
        ("true", "true", "True"),
        ("none", "null", "None"),
        ("list_empty", "[]", "[]"),
        ("list_mixed", "[1, \"a\", null, 2.5, [], {}]", "[1, 'a', None, 2.5, [], {}]"),
        ("tuple_0", "[]", "[]"),
        ("tuple_1", "[1]", "[1]"),
        ("tuple_2", "[1, \"b\"]", "[1, 'b']"),
        ("tuple_3", "[1, 2, 3]", "[1, 2, 3]"),
        ("tuple_4", "[1, 2, 3, 4]", "[1, 2, 3, 4]"),
        ("tuple_5", "[1, [2], [3], {\"4\": 4}, null]", "[1, [2], [3], {'4': 4}, None]"),
        ("dict_str", "{\"a\": 1, \"b\": [1, 2], \"c\": {\"d\": null}}", "{'a': 1, 'b': [1, 2], 'c': {'d': None}}"),
        ("nested_50", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
        ("mixed_50", "{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [[{\"k\": [\"leaf\"]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}", "{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': [[{'k': ['leaf']}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}]]}"),
        ("memo_shared", "[[1, 2], [1, 2], \"shared-string\", \"shared-string\", [[1, 2]]]", "[[1, 2], [1, 2], 'shared-string', 'shared-string', [[1, 2]]]"),
    ];
}
