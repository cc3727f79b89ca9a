//! The encoder: protocol 5, the opcodes CPython's own pickler picks for each plain type.

use num_bigint::BigInt;

use super::opcodes::*;
use crate::value::Value;

/// Encodes a value as a protocol-5 pickle (no FRAME, no memo) that CPython's
/// `pickle.loads` turns into the equal Python value with the same types.
///
/// The opcodes are the ones CPython's own pickler picks for each type (minimal
/// integer opcodes, batched `APPENDS`/`SETITEMS`/`ADDITEMS`), so the output only
/// differs from `pickle.dumps(v, protocol=5)` by the missing framing and memo.
/// Recursion depth follows the value's nesting.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = vec![PROTO, 5];
    encode_into(v, &mut out);
    out.push(STOP);
    out
}

fn encode_into(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::None => out.push(NONE),
        Value::Bool(true) => out.push(NEWTRUE),
        Value::Bool(false) => out.push(NEWFALSE),
        Value::Int(i) => encode_int(*i, out),
        Value::BigInt(n) => encode_long(n, out),
        Value::Float(f) => {
            out.push(BINFLOAT);
            out.extend_from_slice(&f.to_be_bytes());
        }
        Value::Str(s) => encode_sized(
            s.as_bytes(),
            [SHORT_BINUNICODE, BINUNICODE, BINUNICODE8],
            out,
        ),
        Value::Bytes(b) => encode_sized(b, [SHORT_BINBYTES, BINBYTES, BINBYTES8], out),
        Value::List(items) => {
            out.push(EMPTY_LIST);
            for batch in items.chunks(BATCHSIZE) {
                if let [single] = batch {
                    encode_into(single, out);
                    out.push(APPEND);
                } else {
                    out.push(MARK);
                    batch.iter().for_each(|item| encode_into(item, out));
                    out.push(APPENDS);
                }
            }
        }
        Value::Tuple(items) => match items.len() {
            0 => out.push(EMPTY_TUPLE),
            n @ 1..=3 => {
                items.iter().for_each(|item| encode_into(item, out));
                out.push(TUPLE1 + (n as u8 - 1));
            }
            _ => {
                out.push(MARK);
                items.iter().for_each(|item| encode_into(item, out));
                out.push(TUPLE);
            }
        },
        Value::Dict(pairs) => {
            out.push(EMPTY_DICT);
            for batch in pairs.chunks(BATCHSIZE) {
                if let [(k, v)] = batch {
                    encode_into(k, out);
                    encode_into(v, out);
                    out.push(SETITEM);
                } else {
                    out.push(MARK);
                    for (k, v) in batch {
                        encode_into(k, out);
                        encode_into(v, out);
                    }
                    out.push(SETITEMS);
                }
            }
        }
        Value::Set(items) => {
            out.push(EMPTY_SET);
            for batch in items.chunks(BATCHSIZE) {
                out.push(MARK);
                batch.iter().for_each(|item| encode_into(item, out));
                out.push(ADDITEMS);
            }
        }
        Value::FrozenSet(items) => {
            out.push(MARK);
            items.iter().for_each(|item| encode_into(item, out));
            out.push(FROZENSET);
        }
    }
}

/// Ints as CPython's `save_long` writes them: BININT1/BININT2 for small
/// non-negative values, BININT for i32, LONG1 beyond.
fn encode_int(i: i64, out: &mut Vec<u8>) {
    if let Ok(b) = u8::try_from(i) {
        out.extend_from_slice(&[BININT1, b]);
    } else if let Ok(w) = u16::try_from(i) {
        out.push(BININT2);
        out.extend_from_slice(&w.to_le_bytes());
    } else if let Ok(d) = i32::try_from(i) {
        out.push(BININT);
        out.extend_from_slice(&d.to_le_bytes());
    } else {
        encode_long(&BigInt::from(i), out);
    }
}

/// LONG1/LONG4: minimal two's complement, little-endian, as CPython's
/// `encode_long` (`to_signed_bytes_le` is minimal too; zero never gets here).
fn encode_long(n: &BigInt, out: &mut Vec<u8>) {
    if let Ok(i) = i32::try_from(n) {
        return encode_int(i.into(), out);
    }
    let bytes = n.to_signed_bytes_le();
    if let Ok(len) = u8::try_from(bytes.len()) {
        out.extend_from_slice(&[LONG1, len]);
    } else {
        out.push(LONG4);
        // An int needing more than 2 GiB would not fit in memory anyway.
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&bytes);
}

/// `[short (1-byte length), 4-byte length, 8-byte length]` variants.
fn encode_sized(data: &[u8], ops: [u8; 3], out: &mut Vec<u8>) {
    if let Ok(len) = u8::try_from(data.len()) {
        out.extend_from_slice(&[ops[0], len]);
    } else if let Ok(len) = u32::try_from(data.len()) {
        out.push(ops[1]);
        out.extend_from_slice(&len.to_le_bytes());
    } else {
        out.push(ops[2]);
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    }
    out.extend_from_slice(data);
}
