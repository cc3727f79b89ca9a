//! Job payload and result encodings (rq-protocol.md §4).
//!
//! * `data` = `zlib(serializer.dumps((func_name, instance, args, kwargs)))`, no base64;
//! * `meta` = `serializer.dumps(dict)`, not compressed;
//! * result `return_value` = `base64(serializer.dumps(value))`, left out for `None`;
//! * result `exc_string` = `base64(zlib(utf8 text))`.
//!
//! The serializer is not recorded in Redis: enqueuer, worker and readers agree on it out of band,
//! so it is configuration (`--serializer`). Decoding never runs code: see `pickle.rs`.

use std::cell::RefCell;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use super::{json, pickle};
use crate::value::Value;

pub use pickle::Limits;

/// The text Python stores when a return value cannot be serialized
/// (`rq.defaults.UNSERIALIZABLE_RETURN_VALUE_PAYLOAD`).
pub const UNSERIALIZABLE_RETURN_VALUE: &str = "Unserializable return value";

/// Which RQ serializer the jobs on this Redis use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serializer {
    /// `pickle.dumps(obj, protocol=HIGHEST_PROTOCOL)`; RQ's default.
    Pickle,
    /// `rq.serializers.JSONSerializer`: `json.dumps(obj).encode('utf-8')`.
    Json,
}

impl Serializer {
    /// The serializer named `pickle` or `json` (the `--serializer` value); `None` for any other
    /// name.
    pub fn parse(s: &str) -> Option<Serializer> {
        match s {
            "pickle" => Some(Serializer::Pickle),
            "json" => Some(Serializer::Json),
            _ => None,
        }
    }

    /// The name [`Serializer::parse`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Serializer::Pickle => "pickle",
            Serializer::Json => "json",
        }
    }

    /// Deserializes bytes within `limits`; never runs code (see [`crate::pickle`]).
    pub fn loads(self, bytes: &[u8], limits: &Limits) -> Result<Value, CodecError> {
        match self {
            Serializer::Pickle => {
                pickle::decode(bytes, limits).map_err(|e| CodecError::Decode(e.to_string()))
            }
            Serializer::Json => {
                json::decode(bytes, limits).map_err(|e| CodecError::Decode(e.to_string()))
            }
        }
    }

    /// Serializes a value; a value the JSON serializer cannot express is an error, as in Python.
    pub fn dumps(self, v: &Value) -> Result<Vec<u8>, CodecError> {
        match self {
            Serializer::Pickle => Ok(pickle::encode(v)),
            Serializer::Json => json::encode(v).map_err(|e| CodecError::Encode(e.to_string())),
        }
    }
}

/// Why a payload, a result or a meta field could not be encoded or decoded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CodecError {
    /// `data` or `exc_string` is not a valid zlib stream.
    #[error("job data is not valid zlib: {0}")]
    Zlib(String),
    /// The inflated data would exceed this many bytes.
    #[error("job data is larger than the {0}-byte limit once decompressed")]
    TooLarge(usize),
    /// The serializer (or base64) refused the bytes.
    #[error("cannot deserialize job data: {0}")]
    Decode(String),
    /// The serializer cannot express the value (JSON: bytes, sets, ...).
    #[error("cannot serialize value: {0}")]
    Encode(String),
    /// The value decoded, but is not the `(func_name, instance, args, kwargs)` RQ writes.
    #[error("job data has an unexpected shape: {0}")]
    Shape(String),
    #[error(
        "job calls a method on a Python object (instance is not None); task-worker runs only registered functions"
    )]
    /// The job calls a method of a pickled object, which this worker never runs.
    Instance,
}

/// A decoded `data` field: which function to call with which arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// The function's dotted name (`module.function`), as the enqueuer wrote it.
    pub func_name: String,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments, in the order Python wrote them.
    pub kwargs: Vec<(String, Value)>,
}

/// Inflates zlib data, refusing output larger than `max` bytes (a zip bomb costs nothing to send).
///
/// One decompressor is kept per thread and reset per job (a fresh one allocates and clears its
/// 32 KiB window every time). The backend is zlib-rs: miniz_oxide, used before, rebuilt its
/// Huffman tables for every job, a tenth of the worker's instructions per job (issue 17).
pub fn zlib_decompress(raw: &[u8], max: usize) -> Result<Vec<u8>, CodecError> {
    use flate2::{Decompress, FlushDecompress, Status};
    thread_local! {
        static INFLATER: RefCell<Decompress> = RefCell::new(Decompress::new(true));
    }
    INFLATER.with(|cell| {
        let mut d = cell.borrow_mut();
        d.reset(true);
        let mut out = Vec::with_capacity(raw.len().saturating_mul(4).max(64).min(max.max(1)));
        loop {
            let used = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
            let input = raw.get(used..).unwrap_or_default();
            let status = d
                .decompress_vec(input, &mut out, FlushDecompress::Finish)
                .map_err(|e| CodecError::Zlib(format!("inflate failed: {e}")))?;
            if out.len() > max {
                return Err(CodecError::TooLarge(max));
            }
            match status {
                Status::StreamEnd => return Ok(out),
                _ if out.len() < out.capacity() => {
                    // Room left and no end: the input ran out (a truncated stream).
                    return Err(CodecError::Zlib("inflate failed: truncated data".into()));
                }
                _ => {
                    // The output buffer is full and more is coming: over the limit, or grow.
                    if out.len() >= max {
                        return Err(CodecError::TooLarge(max));
                    }
                    let grown = out.len().saturating_mul(2).max(64).min(max);
                    out.reserve_exact(grown - out.len());
                }
            }
        }
    })
}

/// `zlib.compress(raw)` at the default level, as RQ compresses `data` and `exc_string`.
pub fn zlib_compress(raw: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = ZlibEncoder::new(
        Vec::with_capacity(raw.len() / 2 + 16),
        Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(raw);
    enc.finish().unwrap_or_default()
}

/// Decodes a job's `data` field. Like `Job.restore`, raw (uncompressed) serializer bytes are
/// accepted when the data is not zlib (§3.2).
pub fn decode_data(raw: &[u8], ser: Serializer, limits: &Limits) -> Result<Payload, CodecError> {
    let inflated;
    let bytes = if looks_like_zlib(raw) {
        inflated = zlib_decompress(raw, limits.max_bytes)?;
        &inflated[..]
    } else {
        raw
    };
    let value = ser.loads(bytes, limits)?;
    payload_from_value(value)
}

/// zlib streams start with a CMF/FLG pair whose 16-bit value is a multiple of 31 (RFC 1950).
fn looks_like_zlib(raw: &[u8]) -> bool {
    raw.len() >= 2 && raw[0] & 0x0f == 8 && (u16::from(raw[0]) << 8 | u16::from(raw[1])) % 31 == 0
}

fn payload_from_value(value: Value) -> Result<Payload, CodecError> {
    let items = match value {
        Value::Tuple(items) | Value::List(items) => items,
        other => {
            return Err(CodecError::Shape(format!(
                "expected a 4-tuple (func_name, instance, args, kwargs), got {}",
                other.py_type_name()
            )))
        }
    };
    let [func, instance, args, kwargs]: [Value; 4] =
        items.try_into().map_err(|items: Vec<Value>| {
            CodecError::Shape(format!(
                "expected a 4-tuple (func_name, instance, args, kwargs), got {} items",
                items.len()
            ))
        })?;
    let func_name = match func {
        Value::Str(s) => s,
        other => {
            return Err(CodecError::Shape(format!(
                "func_name must be a str, got {}",
                other.py_type_name()
            )))
        }
    };
    if instance != Value::None {
        return Err(CodecError::Instance);
    }
    let args = match args {
        Value::Tuple(a) | Value::List(a) => a,
        other => {
            return Err(CodecError::Shape(format!(
                "args must be a tuple, got {}",
                other.py_type_name()
            )))
        }
    };
    let kwargs = match kwargs {
        Value::Dict(pairs) => pairs
            .into_iter()
            .map(|(k, v)| match k {
                Value::Str(k) => Ok((k, v)),
                other => Err(CodecError::Shape(format!(
                    "keyword argument names must be str, got {}",
                    other.py_type_name()
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?,
        other => {
            return Err(CodecError::Shape(format!(
                "kwargs must be a dict, got {}",
                other.py_type_name()
            )))
        }
    };
    Ok(Payload {
        func_name,
        args,
        kwargs,
    })
}

/// Encodes a payload the way `Job.to_dict()` writes `data` (used by `submit`).
pub fn encode_data(p: &Payload, ser: Serializer) -> Result<Vec<u8>, CodecError> {
    let kwargs = Value::Dict(
        p.kwargs
            .iter()
            .map(|(k, v)| (Value::Str(k.clone()), v.clone()))
            .collect(),
    );
    let tuple = Value::Tuple(vec![
        Value::Str(p.func_name.clone()),
        Value::None,
        Value::Tuple(p.args.clone()),
        kwargs,
    ]);
    Ok(zlib_compress(&ser.dumps(&tuple)?))
}

/// `return_value` field of a result entry: `None` is left out (§4.2). A value the serializer
/// cannot express is stored as Python does: the serialized text "Unserializable return value".
pub fn encode_return_value(v: &Value, ser: Serializer) -> Option<String> {
    if *v == Value::None {
        return None;
    }
    let bytes = ser
        .dumps(v)
        .or_else(|_| ser.dumps(&Value::Str(UNSERIALIZABLE_RETURN_VALUE.into())));
    Some(B64.encode(bytes.unwrap_or_default()))
}

/// `return_value` field of a result entry from bytes already serialized by the job's
/// serializer (`serializer.dumps(value)`, e.g. by Python): stored as RQ's `Result.serialize`
/// stores them, base64; `None` (Python's `None`, left out) stays `None`.
pub fn encode_serialized_return_value(serialized: Option<&[u8]>) -> Option<String> {
    serialized.map(|b| B64.encode(b))
}

/// The function name of a job's `data` field, read without decoding the rest: for a payload
/// the full decoder refuses (objects outside its allowlist, a method's `instance`) but whose
/// function may still be run elsewhere. Pickle: the first string of the tuple, from the first
/// 64 KiB once inflated; JSON: the first item of the decoded list. `None` when it cannot be
/// read.
pub fn peek_func_name(raw: &[u8], ser: Serializer, limits: &Limits) -> Option<String> {
    match ser {
        Serializer::Pickle => {
            let head;
            let bytes = if looks_like_zlib(raw) {
                use std::io::Read;
                let mut out = Vec::new();
                flate2::read::ZlibDecoder::new(raw)
                    .take(64 << 10)
                    .read_to_end(&mut out)
                    .ok()?;
                head = out;
                &head[..]
            } else {
                raw
            };
            pickle_first_str(bytes)
        }
        Serializer::Json => {
            let inflated;
            let bytes = if looks_like_zlib(raw) {
                inflated = zlib_decompress(raw, limits.max_bytes).ok()?;
                &inflated[..]
            } else {
                raw
            };
            match json::decode(bytes, limits).ok()? {
                Value::List(items) | Value::Tuple(items) => match items.into_iter().next() {
                    Some(Value::Str(s)) => Some(s),
                    _ => None,
                },
                _ => None,
            }
        }
    }
}

/// The first item of a pickled tuple when it is a str: after `PROTO`, an optional `FRAME` and
/// an optional `MARK`, a `SHORT_BINUNICODE`, `BINUNICODE` or `BINUNICODE8`.
fn pickle_first_str(b: &[u8]) -> Option<String> {
    let mut i = 0usize;
    if *b.first()? == 0x80 {
        i = 2;
    }
    if *b.get(i)? == 0x95 {
        i += 9;
    }
    if *b.get(i)? == b'(' {
        i += 1;
    }
    let (len, start) = match *b.get(i)? {
        0x8c => (usize::from(*b.get(i + 1)?), i + 2),
        b'X' => {
            let n: [u8; 4] = b.get(i + 1..i + 5)?.try_into().ok()?;
            (usize::try_from(u32::from_le_bytes(n)).ok()?, i + 5)
        }
        0x8d => {
            let n: [u8; 8] = b.get(i + 1..i + 9)?.try_into().ok()?;
            (usize::try_from(u64::from_le_bytes(n)).ok()?, i + 9)
        }
        _ => return None,
    };
    let text = b.get(start..start.checked_add(len)?)?;
    String::from_utf8(text.to_vec()).ok()
}

/// Decodes a result entry's `return_value` field (base64 of the serialized value).
pub fn decode_return_value(
    b64: &str,
    ser: Serializer,
    limits: &Limits,
) -> Result<Value, CodecError> {
    let bytes = B64
        .decode(b64.trim())
        .map_err(|e| CodecError::Decode(format!("return_value is not base64: {e}")))?;
    ser.loads(&bytes, limits)
}

/// `exc_string` field: `base64(zlib(utf8))`.
pub fn encode_exc_string(text: &str) -> String {
    B64.encode(zlib_compress(text.as_bytes()))
}

/// Decodes an `exc_string` field (`base64(zlib(utf8))`) to its text; invalid UTF-8 is
/// replaced, as the text is only shown.
pub fn decode_exc_string(b64: &str) -> Result<String, CodecError> {
    let raw = B64
        .decode(b64.trim())
        .map_err(|e| CodecError::Decode(format!("exc_string is not base64: {e}")))?;
    let text = zlib_decompress(&raw, 16 << 20)?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Decodes a `meta` field (not compressed). Python's `Job.restore` turns an undecodable meta into
/// `{'unserialized': raw}`; callers decide what to do with the error.
pub fn decode_meta(raw: &[u8], ser: Serializer, limits: &Limits) -> Result<Value, CodecError> {
    ser.loads(raw, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `zlib.compress(pickle.dumps(('method', OrderedDict(a=1), (Counter('ab'),), {}),
    /// protocol=5))`: a method job on an object; the function name is read all the same.
    #[test]
    fn peeks_the_function_name_of_any_payload() {
        let limits = Limits::default();
        let data = hex("789c6b609d1acd00011a3d6cb9a92519f929537ab893f3737252934b32f3f38a813cffa294d4a2d41497cce4922993a768064de9614c9ce2cd589cc1d8c3ee9c5f9a57925a0414af9da20111ef614c0292a5ad5382a6b402454ba6e80100eb80253b");
        assert_eq!(
            peek_func_name(&data, Serializer::Pickle, &limits).as_deref(),
            Some("method")
        );
        // Protocol 4, a long name (BINUNICODE), not compressed.
        let mut raw = hex("8004953a0100000000000028582c010000");
        raw.extend(std::iter::repeat_n(b'x', 300));
        raw.extend(hex("944e297d9474942e"));
        assert_eq!(
            peek_func_name(&raw, Serializer::Pickle, &limits),
            Some("x".repeat(300))
        );
        let json = zlib_compress(br#"["app.f", null, [1], {}]"#);
        assert_eq!(
            peek_func_name(&json, Serializer::Json, &limits).as_deref(),
            Some("app.f")
        );
        assert_eq!(
            peek_func_name(b"\x80\x05K\x01.", Serializer::Pickle, &limits),
            None
        );
        assert_eq!(peek_func_name(b"", Serializer::Pickle, &limits), None);
        assert_eq!(
            encode_serialized_return_value(Some(b"\x80\x05K\x05.")).as_deref(),
            Some("gAVLBS4=")
        );
    }

    /// `zlib.compress(pickle.dumps(('tasks.add', None, (2, 3), {}), protocol=5))`, from Python 3.11.
    #[test]
    fn decodes_python_job_data_pickle() {
        let raw = hex("8005951900000000000000288c097461736b732e616464944e4b024b0386947d9474942e");
        let data = zlib_compress(&raw);
        let p = decode_data(&data, Serializer::Pickle, &Limits::default()).unwrap();
        assert_eq!(p.func_name, "tasks.add");
        assert_eq!(p.args, vec![Value::Int(2), Value::Int(3)]);
        assert!(p.kwargs.is_empty());
        // Raw, uncompressed data is accepted too, as Job.restore does.
        let p2 = decode_data(&raw, Serializer::Pickle, &Limits::default()).unwrap();
        assert_eq!(p, p2);
    }

    #[test]
    fn decodes_python_job_data_json() {
        let data = zlib_compress(br#"["tasks.add", null, [2, 3], {"k": "v"}]"#);
        let p = decode_data(&data, Serializer::Json, &Limits::default()).unwrap();
        assert_eq!(p.func_name, "tasks.add");
        assert_eq!(p.kwargs, vec![("k".to_string(), Value::Str("v".into()))]);
    }

    #[test]
    fn refuses_instance_and_bad_shapes() {
        let data = zlib_compress(br#"["m", {"x": 1}, [], {}]"#);
        assert_eq!(
            decode_data(&data, Serializer::Json, &Limits::default()),
            Err(CodecError::Instance)
        );
        let data = zlib_compress(br#"["m", null, []]"#);
        assert!(matches!(
            decode_data(&data, Serializer::Json, &Limits::default()),
            Err(CodecError::Shape(_))
        ));
        assert!(decode_data(b"\x78\x9cgarbage", Serializer::Pickle, &Limits::default()).is_err());
    }

    #[test]
    fn zlib_round_trip_truncation_and_reuse() {
        let text: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let z = zlib_compress(&text);
        for _ in 0..3 {
            assert_eq!(zlib_decompress(&z, 1 << 20).unwrap(), text);
        }
        assert!(zlib_decompress(&z[..z.len() / 2], 1 << 20).is_err());
        assert_eq!(zlib_decompress(&zlib_compress(b""), 10).unwrap(), b"");
        // Exactly at the limit is fine; one byte over is not.
        assert_eq!(zlib_decompress(&z, text.len()).unwrap().len(), text.len());
        assert_eq!(
            zlib_decompress(&z, text.len() - 1),
            Err(CodecError::TooLarge(text.len() - 1))
        );
    }

    #[test]
    fn zlib_bomb_is_refused() {
        let bomb = zlib_compress(&vec![0u8; 1 << 20]);
        assert_eq!(
            zlib_decompress(&bomb, 1000),
            Err(CodecError::TooLarge(1000))
        );
    }

    #[test]
    fn result_fields_match_python() {
        // pickle.dumps(5, protocol=5) base64 == 'gAVLBS4=' (rq-protocol.md §4.2, trace)
        assert_eq!(
            encode_return_value(&Value::Int(5), Serializer::Pickle).as_deref(),
            Some("gAVLBS4=")
        );
        assert_eq!(
            encode_return_value(&Value::Int(5), Serializer::Json).as_deref(),
            Some("NQ==")
        );
        assert_eq!(encode_return_value(&Value::None, Serializer::Pickle), None);
        let exc = encode_exc_string("ValueError: bad\n");
        assert_eq!(decode_exc_string(&exc).unwrap(), "ValueError: bad\n");
    }
}
