//! Decoder and encoder tests: CPython fixtures, Python's extensions and errors, limits, fuzzing
//! and cross-checks against `python3`.

use super::*;
use crate::value::test_support::{hex, python, random_value, unhex, Rng};
use crate::value::Value;
use num_bigint::BigInt;

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
