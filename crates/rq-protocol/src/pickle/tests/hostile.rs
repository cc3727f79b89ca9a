//! Malformed and hostile input: huge length fields, deep nesting, recursion, memo bombs, limits,
//! truncation and fuzzing never panic nor exhaust memory.

use super::*;

#[test]
fn huge_length_fields_fail_before_allocating() {
    let err = dec(b"\x80\x05X\xff\xff\xff\xffabc").unwrap_err();
    assert_eq!(
        err,
        PickleError::Truncated {
            what: "BINUNICODE",
            offset: 2,
            needed: 0xffff_ffff,
            available: 3
        }
    );
    assert!(err.to_string().contains("byte offset 2"), "{err}");
    for data in [
        &b"\x80\x05\x8d\xff\xff\xff\xff\xff\xff\xff\xffabc"[..],
        b"\x80\x05\x8e\xff\xff\xff\xff\xff\xff\xff\xffabc",
        b"\x80\x05\x96\xff\xff\xff\xff\xff\xff\xff\x7fabc",
        b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\xffN.",
        b"\x80\x05B\xff\xff\xff\xffabc",
        b"\x80\x05\x8b\xff\xff\xff\x7f\x01",
        b"\x80\x05C\xffabc",
    ] {
        assert!(
            matches!(dec(data), Err(PickleError::Truncated { .. })),
            "{data:?}"
        );
    }
    assert!(matches!(
        dec(b"\x80\x05\x8b\xff\xff\xff\xff."),
        Err(PickleError::Invalid { .. })
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let deep = |n: usize| {
        let mut data = b"\x80\x02".to_vec();
        data.extend(std::iter::repeat_n(b']', n));
        data.extend(std::iter::repeat_n(b'a', n - 1));
        data.push(b'.');
        data
    };
    assert!(dec(&deep(200)).is_ok());
    let err = dec(&deep(201)).unwrap_err();
    assert!(err.to_string().contains("max_depth (200)"), "{err}");
    assert!(matches!(dec(&deep(10_000)), Err(PickleError::Limit { .. })));
    // Nesting through MARKs (protocol 0/1 style) is stopped while reading.
    let mut marks = vec![b'('; 10_000];
    marks.push(b'.');
    assert!(matches!(dec(&marks), Err(PickleError::Limit { .. })));
    let strict = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(decode(b"]]]aa.", &strict).is_ok());
    assert!(decode(b"]]]]aaa.", &strict).is_err());
}

#[test]
fn recursive_structures_are_errors_not_hangs() {
    for h in [
        "80025d71006800612e",                         // l = []; l.append(l), protocol 2
        "80059506000000000000005d946800612e",         // same, protocol 5
        "286470300a5673656c660a70310a67300a732e",     // d = {}; d['self'] = d, protocol 0
        "80025d71006800857101613068012e",             // t = ([],); t[0].append(t), protocol 2
        "28286c70300a2867300a7470310a61303067310a2e", // same, protocol 0
    ] {
        let err = dec(&unhex(h)).unwrap_err();
        assert!(
            err.to_string().contains("recursive structure"),
            "{h}: {err}"
        );
    }
}

#[test]
fn memo_bombs_are_bounded() {
    // v0 = None; v(i) = [v(i-1), v(i-1)]: 2**60 values once expanded.
    let mut data = b"\x80\x02Nq\x00".to_vec();
    for i in 1..=60u8 {
        data.extend_from_slice(&[b'(', b'h', i - 1, b'h', i - 1, b'l', b'q', i]);
    }
    data.push(b'.');
    let err = dec(&data).unwrap_err();
    assert!(err.to_string().contains("max_items"), "{err}");
    // A shared 1 MiB string repeated 100 times exceeds a 64 MiB... no: 100 MiB.
    let mut data = b"\x80\x05\x8e\x00\x00\x10\x00\x00\x00\x00\x00".to_vec();
    data.extend(std::iter::repeat_n(b'x', 1 << 20));
    data.extend_from_slice(b"\x94(");
    data.extend(std::iter::repeat_n(*b"h\x00", 100).flatten());
    data.extend_from_slice(b"l.");
    let err = dec(&data).unwrap_err();
    assert!(err.to_string().contains("max_bytes"), "{err}");
}

#[test]
fn repeated_reduce_on_one_memoized_argument_is_bounded() {
    // A 1000-item list memoized once, then set(list) applied 10,000 times.
    let mut data = b"\x80\x02cbuiltins\nset\nq\x00](".to_vec();
    data.extend(std::iter::repeat_n(*b"K\x01", 1000).flatten());
    data.extend_from_slice(b"eq\x01(");
    data.extend(std::iter::repeat_n(*b"h\x00h\x01\x85R0", 10_000).flatten());
    data.extend_from_slice(b"1N.");
    let limits = Limits {
        max_items: 100_000,
        ..Limits::default()
    };
    let err = decode(&data, &limits).unwrap_err();
    assert!(err.to_string().contains("max_items"), "{err}");
    // Same with bytes(str, 'latin1') on a 100 KB string.
    let mut data = b"\x80\x02cbuiltins\nbytes\nq\x00X\xa0\x86\x01\x00".to_vec();
    data.extend(std::iter::repeat_n(b'x', 100_000));
    data.extend_from_slice(b"q\x01\x8c\x06latin1q\x02(");
    data.extend(std::iter::repeat_n(*b"h\x00h\x01h\x02\x86R0", 1_000).flatten());
    data.extend_from_slice(b"1N.");
    let limits = Limits {
        max_bytes: 10_000_000,
        ..Limits::default()
    };
    let err = decode(&data, &limits).unwrap_err();
    assert!(
        err.to_string().contains("REDUCE built more than max_bytes"),
        "{err}"
    );
}

#[test]
fn limits_are_enforced() {
    let tiny = Limits {
        max_depth: 200,
        max_items: 10,
        max_bytes: 64,
    };
    assert!(decode(b"(K\x01K\x02K\x03l.", &tiny).is_ok());
    assert!(matches!(
        decode(&[b'N'; 20], &tiny),
        Err(PickleError::Limit { .. })
    ));
    let mut big = vec![b'N'];
    big.extend(std::iter::repeat_n(b'.', 100));
    assert!(matches!(
        decode(&big, &tiny),
        Err(PickleError::Limit { offset: 0, .. })
    ));
    // DUP cannot grow the stack without bound either.
    let mut dups = b"N".to_vec();
    dups.extend(std::iter::repeat_n(b'2', 30));
    assert!(matches!(
        decode(&dups, &tiny),
        Err(PickleError::Limit { .. })
    ));
}

#[test]
fn structural_errors() {
    let cases: &[(&[u8], &str)] = &[
        (b"\x80\x02h\x05.", "memo value not found at index 5"),
        (
            b"\x80\x02j\x00\x00\x01\x00.",
            "memo value not found at index 65536",
        ),
        (b"g7\n.", "memo value not found at index 7"),
        (b"p-1\n.", "invalid PUT memo index"),
        (b"\x80\x02q\x00.", "stack underflow"),
        (b"\x80\x02.", "stack underflow"),
        (b"a.", "stack underflow"),
        (b"]K\x01e.", "could not find MARK"),
        (b"N(.", "MARK is in the way"),
        (b"(K\x01a.", "stack underflow"),
        (b"(K\x01K\x02e.", "APPENDS has no object"),
        (b"}(K\x01u.", "odd number of items for SETITEMS"),
        (
            b"K\x01K\x01K\x01s.",
            "SETITEM on an object that is not a dict",
        ),
        (b"]K\x01\x90.", "could not find MARK"),
        (b"\x80\x06N.", "unsupported pickle protocol: 6"),
        (b"\xff", "unknown opcode 0xff"),
        (b"X\x03\x00\x00\x00\xed\xa0\x80.", "lone surrogates"),
        (b"\x85.", "stack underflow"),
    ];
    for (data, needle) in cases {
        let msg = dec(data).unwrap_err().to_string();
        assert!(
            msg.contains(needle),
            "{data:?}: {msg} should contain {needle}"
        );
        assert!(msg.contains("byte offset"), "{msg}");
    }
    assert!(matches!(dec(b""), Err(PickleError::Truncated { .. })));
    assert!(matches!(dec(b"N"), Err(PickleError::Truncated { .. })));
    assert!(matches!(dec(b"I12"), Err(PickleError::Truncated { .. })));
}

#[test]
fn every_truncation_is_an_error() {
    for (name, proto, data, _) in all_fixtures() {
        if data.len() > 4096 {
            continue;
        }
        // The last byte is STOP: every shorter prefix lacks it.
        for end in 0..data.len() {
            assert!(
                dec(&data[..end]).is_err(),
                "{name} protocol {proto} cut at {end}"
            );
        }
    }
}

#[test]
fn fuzz_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let limits = [
        Limits::default(),
        Limits {
            max_depth: 4,
            max_items: 50,
            max_bytes: 4096,
        },
    ];
    let mut corpus: Vec<Vec<u8>> = all_fixtures()
        .filter(|(_, _, data, _)| data.len() <= 4096)
        .map(|(_, _, data, _)| data)
        .collect();
    corpus.push(encode(&dec(&unhex(FIXTURES[0].2)).unwrap()));
    let mut runs = 0;
    for data in &corpus {
        for end in (0..data.len()).step_by(3) {
            for l in &limits {
                let _ = decode(&data[..end], l);
                runs += 1;
            }
        }
        for _ in 0..150 {
            let mut mutated = data.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(mutated.len());
                match rng.below(4) {
                    0 => mutated[i] = rng.next() as u8,
                    1 => mutated[i] ^= 1 << rng.below(8),
                    2 => {
                        mutated[i] = [0x00, 0x7f, 0x80, 0xff, b'(', b'.', 0x94, b'h'][rng.below(8)]
                    }
                    _ => {
                        let j = rng.below(mutated.len());
                        mutated.insert(j, rng.next() as u8);
                    }
                }
            }
            for l in &limits {
                let _ = decode(&mutated, l);
                runs += 1;
            }
        }
    }
    // Pure random bytes, biased towards opcodes.
    for _ in 0..20_000 {
        let len = rng.below(64);
        let data: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(2) == 0 {
                    b"()]}.0125ahgqeltuKMJNVXS\x80\x85\x86\x8c\x94\x8f\x90\x91"[rng.below(30)]
                } else {
                    rng.next() as u8
                }
            })
            .collect();
        let _ = decode(&data, &limits[rng.below(2)]);
        runs += 1;
    }
    assert!(runs > 50_000, "{runs}");
}
