//! The encoder: CPython's opcodes byte for byte, round trips through our decoder, and
//! `pickle.loads` of our output in `python3`.

use super::*;

#[test]
fn encoder_literal_bytes_match_cpython_opcodes() {
    let enc = |v: Value| encode(&v);
    assert_eq!(enc(Value::None), b"\x80\x05N.");
    assert_eq!(enc(Value::Bool(true)), b"\x80\x05\x88.");
    assert_eq!(enc(Value::Int(255)), b"\x80\x05K\xff.");
    assert_eq!(enc(Value::Int(256)), b"\x80\x05M\x00\x01.");
    assert_eq!(enc(Value::Int(-1)), b"\x80\x05J\xff\xff\xff\xff.");
    // pickle.dumps(2**31) uses LONG1 with 5 bytes (sign byte), as here.
    assert_eq!(
        enc(Value::Int(1 << 31)),
        b"\x80\x05\x8a\x05\x00\x00\x00\x80\x00."
    );
    assert_eq!(
        enc(Value::Int(-(1 << 31) - 1)),
        b"\x80\x05\x8a\x05\xff\xff\xff\x7f\xff."
    );
    assert_eq!(
        enc(Value::Int(i64::MIN)),
        b"\x80\x05\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80."
    );
    // A non-normalised BigInt still takes the small-int opcodes.
    assert_eq!(enc(Value::BigInt(BigInt::from(7))), b"\x80\x05K\x07.");
    assert_eq!(
        enc(Value::Float(1.5)),
        b"\x80\x05G?\xf8\x00\x00\x00\x00\x00\x00."
    );
    assert_eq!(enc(s("ab")), b"\x80\x05\x8c\x02ab.");
    assert_eq!(enc(Value::Bytes(vec![0])), b"\x80\x05C\x01\x00.");
    assert_eq!(enc(Value::Tuple(vec![])), b"\x80\x05).");
    assert_eq!(enc(Value::Tuple(vec![Value::None; 2])), b"\x80\x05NN\x86.");
    assert_eq!(enc(Value::Tuple(vec![Value::None; 4])), b"\x80\x05(NNNNt.");
    assert_eq!(enc(Value::List(vec![Value::None])), b"\x80\x05]Na.");
    assert_eq!(enc(Value::List(vec![Value::None; 2])), b"\x80\x05](NNe.");
    assert_eq!(
        enc(Value::Dict(vec![(Value::None, Value::None)])),
        b"\x80\x05}NNs."
    );
    assert_eq!(enc(Value::Set(vec![])), b"\x80\x05\x8f.");
    assert_eq!(enc(Value::Set(vec![Value::None])), b"\x80\x05\x8f(N\x90.");
    assert_eq!(enc(Value::FrozenSet(vec![])), b"\x80\x05(\x91.");
    let long = enc(s(&"é".repeat(200)));
    assert_eq!(&long[..7], b"\x80\x05X\x90\x01\x00\x00");
    let many = enc(Value::List(vec![Value::Int(1); 2001]));
    assert_eq!(many.iter().filter(|&&b| b == b'e').count(), 2);
    assert_eq!(many[many.len() - 3..], *b"\x01a.");
}

#[test]
fn encoder_round_trips_through_our_decoder() {
    for (name, proto, data, repr) in all_fixtures() {
        let v = dec(&data).unwrap();
        let again = dec(&encode(&v)).unwrap();
        assert_eq!(again.py_repr(), repr, "{name} protocol {proto}");
    }
}

#[test]
fn random_values_round_trip() {
    let mut rng = Rng(3);
    for _ in 0..2000 {
        let v = random_value(&mut rng, 5, false);
        let back = dec(&encode(&v)).unwrap();
        // repr() compares NaN as equal text, unlike PartialEq.
        assert_eq!(back.py_repr(), v.py_repr());
        assert_eq!(format!("{back:?}").len(), format!("{v:?}").len());
    }
}

const PY_SAME: &str = r#"
import sys, pickle, math
def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return same(list(a.items()), list(b.items()))
    return a == b
for line in sys.stdin:
    h, expr = line.rstrip('\n').split('\t', 1)
    got = pickle.loads(bytes.fromhex(h))
    exp = eval(expr, {'nan': float('nan'), 'inf': float('inf')})
    print('OK' if same(got, exp) else 'FAIL %r: got %r' % (expr[:200], got))
"#;

fn check_with_python(cases: &[(Vec<u8>, String)]) {
    let input: String = cases
        .iter()
        .map(|(data, expr)| format!("{}\t{}\n", hex(data), expr))
        .collect();
    let Some(out) = python(PY_SAME, &input) else {
        return;
    };
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), cases.len());
    let failures: Vec<&&str> = lines.iter().filter(|l| **l != "OK").collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn python_loads_our_encoding_of_every_fixture() {
    // Re-encode each decoded protocol-5 fixture; Python must load a value of
    // the same types equal to the original object (eval of its repr).
    let cases: Vec<(Vec<u8>, String)> = all_fixtures()
        .filter(|(_, proto, _, _)| *proto == 5)
        .map(|(_, _, data, repr)| (encode(&dec(&data).unwrap()), repr))
        .collect();
    check_with_python(&cases);
}

#[test]
fn python_loads_our_encoding_of_edge_values() {
    let big = |e: u32, neg: bool| {
        let n = BigInt::from(2).pow(e);
        Value::from_bigint(if neg { -n } else { n })
    };
    let mut cases: Vec<(Value, String)> = vec![
        (Value::Int(i64::MAX), "2**63-1".into()),
        (Value::Int(i64::MIN), "-2**63".into()),
        (big(64, false), "2**64".into()),
        (big(100, true), "-2**100".into()),
        (big(2100, false), "2**2100".into()),
        (big(2100, true), "-2**2100".into()),
        (Value::Float(-0.0), "-0.0".into()),
        (Value::Float(f64::NAN), "nan".into()),
        (Value::Float(f64::NEG_INFINITY), "-inf".into()),
        (Value::Float(5e-324), "5e-324".into()),
        (s(&"x".repeat(70_000)), "'x' * 70000".into()),
        (Value::Bytes(vec![7; 300]), "b'\\x07' * 300".into()),
        (
            Value::List((0..2500).map(Value::Int).collect()),
            "list(range(2500))".into(),
        ),
        (
            Value::Set((0..2500).map(Value::Int).collect()),
            "set(range(2500))".into(),
        ),
        (
            Value::FrozenSet((0..1500).map(Value::Int).collect()),
            "frozenset(range(1500))".into(),
        ),
        (
            Value::Dict(
                (0..1500)
                    .map(|i| (Value::Str(format!("k{i}")), Value::Int(i)))
                    .collect(),
            ),
            "{'k%d' % i: i for i in range(1500)}".into(),
        ),
        (
            Value::Dict(vec![
                (Value::Tuple(vec![Value::Int(1), s("a")]), Value::None),
                (Value::Int(1), Value::Tuple(vec![Value::Bool(true)])),
                (Value::None, Value::FrozenSet(vec![Value::Int(1)])),
            ]),
            "{(1, 'a'): None, 1: (True,), None: frozenset({1})}".into(),
        ),
    ];
    let mut nested = Value::Int(0);
    let mut expr = "0".to_string();
    for i in 0..100 {
        nested = match i % 4 {
            0 => Value::List(vec![nested]),
            1 => Value::Tuple(vec![nested]),
            2 => Value::Dict(vec![(s("k"), nested)]),
            _ => Value::Tuple(vec![nested, Value::None, Value::None, Value::None]),
        };
        expr = match i % 4 {
            0 => format!("[{expr}]"),
            1 => format!("({expr},)"),
            2 => format!("{{'k': {expr}}}"),
            _ => format!("({expr}, None, None, None)"),
        };
    }
    cases.push((nested, expr));
    let cases: Vec<(Vec<u8>, String)> = cases.into_iter().map(|(v, e)| (encode(&v), e)).collect();
    check_with_python(&cases);
}
