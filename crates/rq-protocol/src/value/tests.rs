//! Tests of the value model: float and str reprs (against `python3` too), the JSON mapping and
//! the small helpers.

use super::float::{halfway_big, halfway_u128};
use super::test_support::{hex, python, random_value, unhex, Rng};
use super::*;
use crate::pickle;
use serde_json::json;

fn s(text: &str) -> Value {
    Value::Str(text.into())
}

#[test]
// The tie cases below are written with their exact binary value on purpose.
#[allow(clippy::excessive_precision)]
fn float_repr_literals() {
    let cases = [
        (5.0, "5.0"),
        (0.5, "0.5"),
        (0.1, "0.1"),
        (-0.0, "-0.0"),
        (0.0, "0.0"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (9999999999999998.0, "9999999999999998.0"),
        (1.5e-7, "1.5e-07"),
        (100000.0, "100000.0"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1e300, "1e+300"),
        (-1.2345e-300, "-1.2345e-300"),
        (5e-324, "5e-324"),
        (123456789012345680.0, "1.2345678901234568e+17"),
        // Halfway between two 17-digit candidates: Python picks the even digit.
        (1633131807795815.25, "1633131807795815.2"),
        (1633131807795815.75, "1633131807795815.8"),
        (-1125899906842624.25, "-1125899906842624.2"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
    ];
    for (f, want) in cases {
        assert_eq!(float_repr(f), want, "{f:e}");
    }
}

/// The u128 shortcut of the tie check agrees with the big-integer one wherever it answers,
/// and answers for the timestamps every job end formats.
#[test]
#[allow(clippy::excessive_precision)] // the tie is written with its exact binary value
fn halfway_shortcut_agrees_with_big_integers() {
    let mut answered = 0;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for i in 0..20_000u64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let x = if i % 2 == 0 {
            // A unix time with microseconds, as `unix_float` makes them.
            1.7e9 + (seed % 300_000_000_000_000) as f64 / 1e6
        } else {
            f64::from_bits(seed >> 2)
        };
        if !x.is_finite() || x == 0.0 {
            continue;
        }
        let bits = x.to_bits();
        let (m, q) = match (bits >> 52) as i32 {
            0 => (bits & ((1 << 52) - 1), -1074),
            e => ((bits & ((1 << 52) - 1)) | (1 << 52), e - 1075),
        };
        let twice = (seed % (1 << 56)) | 1;
        for k in [-30, -9, -7, -1, 0, 3, 20] {
            if let Some(fast) = halfway_u128(m, q, twice, k) {
                assert_eq!(fast, halfway_big(m, q, twice, k), "{x:e} {twice} {k}");
                if i % 2 == 0 && (k == -7 || k == -9) {
                    answered += 1;
                }
            }
        }
    }
    // A real tie: 2x = 32662636155916305 * 10^-1 exactly.
    let half = 1633131807795815.25f64.to_bits();
    let (hm, hq) = (
        (half & ((1 << 52) - 1)) | (1 << 52),
        (half >> 52) as i32 - 1075,
    );
    assert_eq!(halfway_u128(hm, hq, 32_662_636_155_916_305, -1), Some(true));
    assert_eq!(
        halfway_u128(hm, hq, 32_662_636_155_916_307, -1),
        Some(false)
    );
    assert!(answered > 15_000, "{answered}");
}

#[test]
fn repr_literals() {
    let cases: Vec<(Value, &str)> = vec![
        (Value::None, "None"),
        (Value::Bool(true), "True"),
        (Value::Int(42), "42"),
        (Value::Int(i64::MIN), "-9223372036854775808"),
        (
            Value::from_bigint(BigInt::from(2).pow(100)),
            "1267650600228229401496703205376",
        ),
        (Value::Float(5.0), "5.0"),
        (s("a'b"), "\"a'b\""),
        (s("a\"b"), "'a\"b'"),
        (s("a'\"b"), "'a\\'\"b'"),
        (
            s("tab\t nl\n cr\r bs\\ nul\0 del\x7f nbsp\u{a0} é ☃ 😀 \u{200b}"),
            "'tab\\t nl\\n cr\\r bs\\\\ nul\\x00 del\\x7f nbsp\\xa0 é ☃ 😀 \\u200b'",
        ),
        (s("\u{e000}\u{10ffff}"), "'\\ue000\\U0010ffff'"),
        (Value::Bytes(vec![0]), "b'\\x00'"),
        (
            Value::Bytes(b"it's \"q\" \\ \xff".to_vec()),
            "b'it\\'s \"q\" \\\\ \\xff'",
        ),
        (Value::Bytes(b"it's".to_vec()), "b\"it's\""),
        (Value::List(vec![Value::Int(1), s("a")]), "[1, 'a']"),
        (Value::Tuple(vec![Value::Int(1)]), "(1,)"),
        (Value::Tuple(vec![]), "()"),
        (Value::Tuple(vec![Value::Int(1), Value::None]), "(1, None)"),
        (Value::Dict(vec![(s("k"), Value::Int(1))]), "{'k': 1}"),
        (Value::Dict(vec![]), "{}"),
        (Value::Set(vec![]), "set()"),
        (Value::Set(vec![Value::Int(1), Value::Int(2)]), "{1, 2}"),
        (Value::FrozenSet(vec![Value::Int(1)]), "frozenset({1})"),
        (Value::FrozenSet(vec![]), "frozenset()"),
    ];
    for (v, want) in cases {
        assert_eq!(v.py_repr(), want);
    }
    assert_eq!(s("a'b").py_str(), "a'b");
    assert_eq!(Value::List(vec![s("x")]).py_str(), "['x']");
    assert_eq!(Value::Float(1e16).py_str(), "1e+16");
}

#[test]
fn small_helpers() {
    let d = Value::Dict(vec![
        (s("a"), Value::Int(1)),
        (Value::Int(1), s("int key")),
        (s("a"), Value::Int(2)),
    ]);
    assert_eq!(d.get("a"), Some(&Value::Int(2)));
    assert_eq!(d.get("missing"), None);
    assert_eq!(Value::List(vec![]).get("a"), None);
    assert_eq!(s("x").as_str(), Some("x"));
    assert_eq!(Value::Int(3).as_i64(), Some(3));
    assert_eq!(Value::Bool(true).as_i64(), None);
    assert_eq!(Value::Int(3).as_f64(), Some(3.0));
    assert_eq!(Value::Float(2.5).as_f64(), Some(2.5));
    assert_eq!(
        Value::from_bigint(BigInt::from(2).pow(70)).as_f64(),
        Some(2f64.powi(70))
    );
    assert_eq!(s("1").as_f64(), None);
    assert_eq!(Value::from_bigint(BigInt::from(5)), Value::Int(5));
    assert_eq!(Value::from(BigInt::from(i64::MIN)), Value::Int(i64::MIN));
    assert!(matches!(
        Value::from(BigInt::from(i64::MAX) + 1),
        Value::BigInt(_)
    ));
    let names = [
        (Value::None, "NoneType"),
        (Value::Bool(false), "bool"),
        (Value::Int(0), "int"),
        (Value::BigInt(BigInt::from(0)), "int"),
        (Value::Float(0.0), "float"),
        (s(""), "str"),
        (Value::Bytes(vec![]), "bytes"),
        (Value::List(vec![]), "list"),
        (Value::Tuple(vec![]), "tuple"),
        (Value::Set(vec![]), "set"),
        (Value::FrozenSet(vec![]), "frozenset"),
        (Value::Dict(vec![]), "dict"),
    ];
    for (v, name) in &names {
        assert_eq!(v.py_type_name(), *name);
        // Every empty/zero value above is falsy.
        assert!(!v.is_truthy(), "{v:?}");
    }
    for v in [
        Value::Bool(true),
        Value::Int(-1),
        Value::BigInt(BigInt::from(2).pow(64)),
        Value::Float(f64::NAN),
        s(" "),
        Value::Bytes(vec![0]),
        Value::List(vec![Value::None]),
        Value::Tuple(vec![Value::None]),
        Value::Set(vec![Value::None]),
        Value::FrozenSet(vec![Value::None]),
        Value::Dict(vec![(Value::None, Value::None)]),
    ] {
        assert!(v.is_truthy(), "{v:?}");
    }
}

#[test]
fn to_json_mapping() {
    let v = Value::Dict(vec![
        (s("none"), Value::None),
        (s("bool"), Value::Bool(true)),
        (s("int"), Value::Int(-3)),
        (s("big"), Value::from_bigint(BigInt::from(2).pow(100))),
        (s("float"), Value::Float(1.5)),
        (s("nan"), Value::Float(f64::NAN)),
        (s("inf"), Value::Float(f64::INFINITY)),
        (s("-inf"), Value::Float(f64::NEG_INFINITY)),
        (s("str"), s("é")),
        (s("bytes"), Value::Bytes(b"hi\xff".to_vec())),
        (s("list"), Value::List(vec![Value::Int(1)])),
        (s("tuple"), Value::Tuple(vec![Value::Int(2)])),
        (s("set"), Value::Set(vec![Value::Int(3)])),
        (s("frozenset"), Value::FrozenSet(vec![Value::Int(4)])),
        (
            s("keys"),
            Value::Dict(vec![
                (Value::Int(1), s("a")),
                (Value::None, s("b")),
                (Value::Tuple(vec![Value::Int(1), Value::Int(2)]), s("c")),
                (Value::Bool(false), s("d")),
            ]),
        ),
    ]);
    let want = json!({
        "none": null, "bool": true, "int": -3,
        "big": "1267650600228229401496703205376",
        "float": 1.5, "nan": "NaN", "inf": "Infinity", "-inf": "-Infinity",
        "str": "é", "bytes": {"$bytes": "aGn/"},
        "list": [1], "tuple": [2], "set": [3], "frozenset": [4],
        "keys": {"1": "a", "None": "b", "(1, 2)": "c", "False": "d"}
    });
    assert_eq!(v.to_json(), want);
    // Key order is preserved (serde_json preserve_order).
    assert_eq!(
        serde_json::to_string(&v.to_json()["keys"]).unwrap(),
        r#"{"1":"a","None":"b","(1, 2)":"c","False":"d"}"#
    );
}

#[test]
fn from_json_mapping() {
    let j: serde_json::Value = serde_json::from_str(
        r#"{"z": [null, true, 1, -1, 18446744073709551615, 1.5, 1e300, "s"], "a": {}}"#,
    )
    .unwrap();
    let v = Value::from_json(&j);
    assert_eq!(
        v.py_repr(),
        "{'z': [None, True, 1, -1, 18446744073709551615, 1.5, 1e+300, 's'], 'a': {}}"
    );
    let Value::Dict(pairs) = &v else { panic!() };
    let Value::List(items) = &pairs[0].1 else {
        panic!()
    };
    assert!(matches!(items[4], Value::BigInt(_)));
    // A round trip keeps JSON-native values (big ints go out as strings).
    let Value::Dict(mut pairs) = v else { panic!() };
    if let Value::List(items) = &mut pairs[0].1 {
        items.remove(4);
    }
    let v = Value::Dict(pairs);
    assert_eq!(Value::from_json(&v.to_json()), v);
}

const PY_REPR: &str = r#"
import sys, pickle, unicodedata
print(unicodedata.unidata_version)
for line in sys.stdin:
    v = pickle.loads(bytes.fromhex(line.strip()))
    print(repr(v).encode('utf-8').hex(), str(v).encode('utf-8').hex())
"#;

/// Compares `py_repr`/`py_str` with CPython's for values sent over as pickles.
fn check_repr_with_python(values: &[Value]) {
    let input: String = values
        .iter()
        .map(|v| hex(&pickle::encode(v)) + "\n")
        .collect();
    let Some(out) = python(PY_REPR, &input) else {
        return;
    };
    let mut lines = out.lines();
    // The isprintable table is Unicode 14.0.0 (Python 3.11). Other Pythons
    // print characters assigned in other Unicode versions differently, so
    // with them only values within Latin-1 must match exactly.
    let same_unicode = lines.next() == Some("14.0.0");
    if !same_unicode {
        eprintln!("python3 uses another Unicode version: comparing Latin-1 text only");
    }
    let lines: Vec<&str> = lines.collect();
    assert_eq!(lines.len(), values.len());
    for (v, line) in values.iter().zip(lines) {
        let (repr, text) = line.split_once(' ').expect("two fields");
        let repr = String::from_utf8(unhex(repr)).unwrap();
        let text = String::from_utf8(unhex(text)).unwrap();
        if !same_unicode && !within_latin1(v) {
            continue;
        }
        assert_eq!(v.py_repr(), repr, "{v:?}");
        assert_eq!(v.py_str(), text, "{v:?}");
    }
}

fn within_latin1(v: &Value) -> bool {
    match v {
        Value::Str(s) => s.chars().all(|c| u32::from(c) < 0x100),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) | Value::FrozenSet(items) => {
            items.iter().all(within_latin1)
        }
        Value::Dict(pairs) => pairs
            .iter()
            .all(|(k, v)| within_latin1(k) && within_latin1(v)),
        _ => true,
    }
}

#[test]
fn repr_of_every_code_point_matches_python() {
    // Every Unicode scalar value, 2048 per string: checks the isprintable table
    // and the escape rules against this python3's repr().
    let chars: Vec<char> = (0..=0x10ffff).filter_map(char::from_u32).collect();
    let values: Vec<Value> = chars
        .chunks(2048)
        .map(|c| Value::Str(c.iter().collect()))
        .collect();
    check_repr_with_python(&values);
}

#[test]
fn repr_of_floats_matches_python() {
    let mut rng = Rng(42);
    let mut floats: Vec<Value> = (0..3000)
        .map(|i| {
            let f = match i % 3 {
                0 => f64::from_bits(rng.next()),
                1 => (rng.next() % 1_000_000) as f64 * 10f64.powi(rng.below(50) as i32 - 25),
                _ => 10f64.powi(rng.below(40) as i32 - 20) * if i % 2 == 0 { 1.0 } else { -1.5 },
            };
            Value::Float(f)
        })
        .collect();
    floats.extend([1e16, 1e15, 1e-4, 1e-5, 0.1 + 0.2, 2f64.powi(53)].map(Value::Float));
    // Binades where shortest-digit ties are common (x = N + 0.25 near 2**50):
    // random mantissas with exponents 2**40 .. 2**62, and their negatives.
    for binade in 40..63u64 {
        for _ in 0..150 {
            let bits = ((binade + 1023) << 52) | (rng.next() >> 12);
            floats.push(Value::Float(f64::from_bits(bits)));
            floats.push(Value::Float(-f64::from_bits(bits ^ 1)));
        }
    }
    check_repr_with_python(&floats);
}

#[test]
fn repr_of_random_values_matches_python() {
    let mut rng = Rng(7);
    let mut values: Vec<Value> = (0..400).map(|_| random_value(&mut rng, 4, false)).collect();
    values.push(Value::Bytes((0..=255).collect()));
    values.extend(["'", "\"", "'\"", "", "\\'"].map(s));
    values.extend([&b"'"[..], b"\"", b"'\"", b""].map(|b| Value::Bytes(b.to_vec())));
    check_repr_with_python(&values);
}
