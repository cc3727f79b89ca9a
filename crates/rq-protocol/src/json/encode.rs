//! The encoder: the bytes `json.dumps` writes with its default arguments, and its error texts.

use num_bigint::BigInt;

use super::{JsonError, Result};
use crate::value::{float_repr, Value, INT_MAX_STR_DIGITS};

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
