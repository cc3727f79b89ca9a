//! The decoder corpus (`tests/corpus/decoder/`, issue 9): every seed made by Python's own
//! `pickle`/`json` (see `fuzz/make_seeds.py`) decodes to exactly what Python's `repr()` shows,
//! and no file in the corpus (seeds, and `regress-*` inputs kept from fuzzing) makes the
//! decoders panic or exceed their limits, whatever the limits.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::fs;
use std::path::PathBuf;

use rq_protocol::codec::{self, Limits, Serializer};
use rq_protocol::{json, pickle};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/decoder");
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "bin").then_some(())?;
            let name = path.file_stem()?.to_str()?.to_string();
            Some((name, fs::read(&path).ok()?))
        })
        .collect();
    files.sort();
    files
}

fn expected_repr(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/decoder")
        .join(format!("{name}.repr"));
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn seeds_decode_as_python_does() {
    let seeds: Vec<_> = corpus()
        .into_iter()
        .filter(|(n, _)| n.starts_with("seed-"))
        .collect();
    assert!(seeds.len() >= 50, "only {} seeds", seeds.len());
    let mut mismatches = Vec::new();
    for (name, data) in &seeds {
        let decoded = if name.starts_with("seed-json-") {
            json::decode(data, &Limits::default()).map_err(|e| e.to_string())
        } else {
            pickle::decode(data, &Limits::default()).map_err(|e| e.to_string())
        };
        let want = expected_repr(name);
        match decoded {
            // Not plain data: Python would construct an object here; we refuse.
            Err(e) if want == "<refused>" && e.contains("refused") => {}
            Ok(v) if v.py_repr() == want => {}
            Ok(v) => mismatches.push(format!("{name}: got {} want {want}", v.py_repr())),
            Err(e) => mismatches.push(format!("{name}: {e}")),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn no_corpus_file_panics_under_any_limits() {
    let tight = Limits {
        max_depth: 3,
        max_items: 20,
        max_bytes: 256,
    };
    let files = corpus();
    assert!(!files.is_empty());
    for (name, data) in &files {
        for limits in [Limits::default(), tight] {
            // Errors are fine here; a panic fails the test.
            let _ = pickle::decode(data, &limits);
            let _ = json::decode(data, &limits);
            let packed = codec::zlib_compress(data);
            for ser in [Serializer::Pickle, Serializer::Json] {
                let _ = codec::decode_data(&packed, ser, &limits);
            }
        }
        // Regression inputs must stay refused or decoded the same way: never a panic, and a
        // tight limit is always honoured.
        if let Ok(v) = pickle::decode(data, &tight) {
            assert!(
                v.py_repr().len() < 64 * 1024,
                "{name}: tight limits not honoured"
            );
        }
    }
}
