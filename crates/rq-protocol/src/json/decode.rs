//! The decoder: Python's `json.loads` grammar as a recursive-descent parser, bounded by
//! [`Limits`].

use std::collections::HashMap;

use num_bigint::BigInt;

use super::{JsonError, Limits, Result};
use crate::value::{str_repr, Value, INT_MAX_STR_DIGITS};

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
