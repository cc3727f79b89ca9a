//! Real CPython 3.11 pickles, protocols 0-5: fixtures, RQ job tuples, types and memo sharing.

use super::*;

#[test]
fn decodes_cpython_fixtures_all_protocols() {
    let mut count = 0;
    for (name, proto, data, repr) in all_fixtures() {
        let v = dec(&data).unwrap_or_else(|e| panic!("{name} protocol {proto}: {e}"));
        assert_eq!(v.py_repr(), repr, "{name} protocol {proto}");
        count += 1;
    }
    assert!(count >= 300, "{count} fixtures");
}

#[test]
fn rq_job_tuple_all_protocols() {
    let expected = Value::Tuple(vec![
        s("tasks.add"),
        Value::None,
        Value::Tuple(vec![Value::Int(2), Value::Int(3)]),
        Value::Dict(vec![]),
    ]);
    let mut protocols = 0;
    for (name, _, data, _) in all_fixtures() {
        if name == "job_rq" {
            assert_eq!(dec(&data).unwrap(), expected);
            protocols += 1;
        }
    }
    assert_eq!(protocols, 6);
}

#[test]
fn backend_job_all_protocols() {
    for (name, proto, data, _) in all_fixtures() {
        if name != "job_backend" {
            continue;
        }
        let Value::Tuple(job) = dec(&data).unwrap() else {
            panic!("not a tuple")
        };
        assert_eq!(
            job[0].as_str(),
            Some("ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper")
        );
        assert_eq!(job[1], Value::None);
        assert_eq!(
            job[2],
            Value::Tuple(vec![
                s("example_long_running"),
                Value::Dict(vec![(s("duration"), Value::Int(10))])
            ]),
            "protocol {proto}"
        );
        assert_eq!(job[3].get("retry_limit"), Some(&Value::Int(3)));
        assert_eq!(job[3].get("delay"), Some(&Value::None));
    }
}

#[test]
fn types_survive_decoding() {
    for (name, proto, data, _) in all_fixtures() {
        let v = dec(&data).unwrap();
        let ty = match name {
            "int_2p63" | "int_m2p100" | "int_2p100" => "BigInt",
            "int_m2p63" | "int_2p31" | "int_0" => "Int",
            "bytearray" | "bytearray_empty" | "bytes_empty" | "bytes_300" => "Bytes",
            "set" | "set_empty" | "set_str" => "Set",
            "frozenset" | "frozenset_empty" => "FrozenSet",
            "tuple_0" | "tuple_1" | "tuple_5" => "Tuple",
            "true" => "Bool",
            "float_negzero" => "Float",
            _ => continue,
        };
        let got = format!("{v:?}");
        assert!(got.starts_with(ty), "{name} protocol {proto}: {got}");
    }
    let neg_zero = FIXTURES.iter().find(|f| f.0 == "float_negzero").unwrap();
    let Value::Float(f) = dec(&unhex(neg_zero.2)).unwrap() else {
        panic!()
    };
    assert!(f == 0.0 && f.is_sign_negative());
}

#[test]
fn memo_shares_are_copied() {
    // x = [1, 2]; s = 'shared-string'; [x, x, s, s, (x,)]
    for (name, _, data, _) in all_fixtures() {
        if name == "memo_shared" {
            let Value::List(items) = dec(&data).unwrap() else {
                panic!()
            };
            assert_eq!(items[0], items[1]);
            assert_eq!(items[2], items[3]);
            assert_eq!(items[4], Value::Tuple(vec![items[0].clone()]));
        }
    }
}
