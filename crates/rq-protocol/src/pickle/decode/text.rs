//! Protocol 0's text arguments: memo indexes, decimal integers, Python 2 string literals and
//! "raw-unicode-escape" text, and Python 2 `str` as Python 3 reads it.

use num_bigint::BigInt;

use super::unpickler::Unpickler;
use crate::pickle::Result;
use crate::value::{Value, INT_MAX_STR_DIGITS};

impl Unpickler<'_> {
    pub(super) fn parse_memo_index(&self, line: &[u8], what: &str) -> Result<u64> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| self.invalid(format!("invalid {what} memo index")))
    }

    /// A decimal integer of protocol 0 (`INT`, `LONG`). CPython accepts a few more
    /// spellings through `int(s, 0)` (hex, underscores) that no Python version
    /// writes; those are rejected here.
    pub(super) fn parse_text_int(&self, line: &[u8], what: &str) -> Result<Value> {
        let bad = || self.invalid(format!("invalid literal for {what}"));
        let text = std::str::from_utf8(line).map_err(|_| bad())?.trim();
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if digits.len() > INT_MAX_STR_DIGITS {
            return Err(self.invalid(format!(
                "{what} has {} digits, more than Python's limit of {INT_MAX_STR_DIGITS} for integer string conversion",
                digits.len()
            )));
        }
        match text.parse::<i64>() {
            Ok(i) => Ok(Value::Int(i)),
            Err(_) => text
                .parse::<BigInt>()
                .map(Value::from_bigint)
                .map_err(|_| bad()),
        }
    }

    /// The argument of `STRING`: a quoted Python 2 `str` literal, decoded like
    /// CPython's `PyBytes_DecodeEscape`.
    pub(super) fn decode_string_literal(&self, line: &[u8]) -> Result<Vec<u8>> {
        let inner = match line {
            [q @ (b'\'' | b'"'), inner @ .., last] if last == q => inner,
            _ => return Err(self.invalid("the STRING opcode argument must be quoted")),
        };
        let mut out = Vec::with_capacity(inner.len());
        let mut i = 0;
        while let Some(&b) = inner.get(i) {
            i += 1;
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let Some(&e) = inner.get(i) else {
                return Err(self.invalid("trailing \\ in STRING argument"));
            };
            i += 1;
            match e {
                b'\n' => {}
                b'\\' | b'\'' | b'"' => out.push(e),
                b'b' => out.push(0x08),
                b'f' => out.push(0x0c),
                b't' => out.push(b'\t'),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b'v' => out.push(0x0b),
                b'a' => out.push(0x07),
                b'0'..=b'7' => {
                    // Up to three octal digits; values above 0o377 wrap like CPython.
                    let mut v = u32::from(e - b'0');
                    for _ in 0..2 {
                        match inner.get(i) {
                            Some(&d @ b'0'..=b'7') => {
                                v = v * 8 + u32::from(d - b'0');
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push((v & 0xff) as u8);
                }
                b'x' => {
                    let v = inner
                        .get(i..i + 2)
                        .and_then(parse_hex)
                        .ok_or_else(|| self.invalid("invalid \\x escape in STRING argument"))?;
                    out.push(v as u8);
                    i += 2;
                }
                // Unknown escapes are kept verbatim, backslash included.
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
        }
        Ok(out)
    }

    /// The argument of `UNICODE`: "raw-unicode-escape" text. Bytes are Latin-1
    /// code points, except `\uXXXX` and `\UXXXXXXXX` after an odd number of
    /// backslashes (CPython's `_PyUnicode_DecodeRawUnicodeEscapeStateful`). Python 3
    /// escapes `\`, `\0`, `\n`, `\r` and `\x1a` this way when writing protocol 0.
    pub(super) fn raw_unicode_escape(&self, line: &[u8]) -> Result<String> {
        let mut out = String::with_capacity(line.len());
        let mut i = 0;
        while let Some(&b) = line.get(i) {
            if b != b'\\' {
                out.push(char::from(b));
                i += 1;
                continue;
            }
            let run_start = i;
            while line.get(i) == Some(&b'\\') {
                i += 1;
            }
            let run = i - run_start;
            let width = match line.get(i) {
                Some(b'u') if run % 2 == 1 => 4,
                Some(b'U') if run % 2 == 1 => 8,
                _ => {
                    out.extend(std::iter::repeat_n('\\', run));
                    continue;
                }
            };
            // All but the escaping backslash are literal.
            out.extend(std::iter::repeat_n('\\', run - 1));
            let hex = line
                .get(i + 1..i + 1 + width)
                .and_then(parse_hex)
                .ok_or_else(|| self.invalid("truncated \\uXXXX escape in UNICODE argument"))?;
            let c = char::from_u32(hex).ok_or_else(|| {
                self.invalid(format!(
                    "UNICODE argument escapes code point 0x{hex:x}, which is a lone surrogate or out of range"
                ))
            })?;
            out.push(c);
            i += 1 + width;
        }
        Ok(out)
    }
}

/// Parses ASCII hex digits (nothing else, not even a sign) into a number.
fn parse_hex(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(v)
    })
}

/// Python 2 `str` read by Python 3: text when it is valid UTF-8, else bytes.
pub(super) fn py2_str(raw: Vec<u8>) -> Value {
    match String::from_utf8(raw) {
        Ok(s) => Value::Str(s),
        Err(e) => Value::Bytes(e.into_bytes()),
    }
}
