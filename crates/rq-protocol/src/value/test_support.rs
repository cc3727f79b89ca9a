//! Helpers shared by the unit tests of `value`, `rq::pickle` and `rq::json`.

use super::Value;
use num_bigint::BigInt;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// xorshift64*: a tiny deterministic PRNG for fuzz and property tests.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub(crate) fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(h: &str) -> Vec<u8> {
    assert!(h.len() % 2 == 0, "odd hex length");
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Runs `python3 -c script` with `input` on stdin and returns its stdout, or
/// `None` (and the caller skips its CPython cross-check) when python3 is missing.
pub(crate) fn python(script: &str, input: &str) -> Option<String> {
    let mut child = match Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("python3 not available ({e}); skipping the CPython cross-check");
            return None;
        }
    };
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    // Write from another thread so a large input cannot deadlock on a full pipe.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("python3 output");
    writer
        .join()
        .expect("writer thread")
        .expect("write to python3");
    assert!(out.status.success(), "python3 failed");
    Some(String::from_utf8(out.stdout).expect("utf-8 from python3"))
}

/// A random string mixing ASCII, quotes, escapes, controls, Latin-1, BMP and
/// astral characters.
pub(crate) fn random_str(rng: &mut Rng) -> String {
    let len = rng.below(12);
    (0..len)
        .map(|_| {
            let cp = match rng.below(8) {
                0 => b"'\"\\\n\r\t\x00\x7f"[rng.below(8)] as u32,
                1 => rng.below(0x20) as u32,
                2 => 0x80 + rng.below(0x80) as u32,
                3 => 0x100 + rng.below(0xd700) as u32,
                4 => 0xe000 + rng.below(0x2000) as u32,
                5 => 0x10000 + rng.below(0x100000) as u32,
                _ => 0x20 + rng.below(0x5f) as u32,
            };
            char::from_u32(cp).unwrap_or('?')
        })
        .collect()
}

fn random_float(rng: &mut Rng) -> f64 {
    match rng.below(4) {
        0 => f64::from_bits(rng.next()),
        1 => (rng.next() % 2_000_001) as f64 / 1000.0 - 1000.0,
        2 => [
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e16,
            1e-5,
        ][rng.below(7)],
        _ => (rng.next() as i64) as f64 * 10f64.powi(rng.below(40) as i32 - 20),
    }
}

/// A random value. With `json_only`, only what `json.dumps` accepts and
/// `json.loads` gives back unchanged (no tuples, bytes, sets, non-str keys).
/// Set elements and dict keys are kept distinct under Python equality.
pub(crate) fn random_value(rng: &mut Rng, depth: usize, json_only: bool) -> Value {
    let kinds = if depth == 0 { 7 } else { 12 };
    match rng.below(kinds) {
        0 => Value::None,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::Int(match rng.below(3) {
            0 => rng.below(300) as i64 - 10,
            1 => rng.next() as i64,
            _ => (rng.next() as i64) >> rng.below(64),
        }),
        3 => {
            let bytes: Vec<u8> = (0..9 + rng.below(40)).map(|_| rng.next() as u8).collect();
            Value::from_bigint(BigInt::from_signed_bytes_le(&bytes))
        }
        4 => Value::Float(random_float(rng)),
        5 => Value::Str(random_str(rng)),
        6 if json_only => Value::Str(random_str(rng)),
        6 => Value::Bytes((0..rng.below(20)).map(|_| rng.next() as u8).collect()),
        7 | 8 => {
            let n = rng.below(5);
            let items = (0..n)
                .map(|_| random_value(rng, depth - 1, json_only))
                .collect();
            if json_only || rng.below(2) == 0 {
                Value::List(items)
            } else {
                Value::Tuple(items)
            }
        }
        9 | 10 => Value::Dict(
            (0..rng.below(5))
                .map(|i| {
                    let key = if json_only || rng.below(3) > 0 {
                        Value::Str(format!("{i}{}", random_str(rng)))
                    } else {
                        Value::Int(i as i64 * 1000 + 7)
                    };
                    (key, random_value(rng, depth - 1, json_only))
                })
                .collect(),
        ),
        _ if json_only => Value::List(vec![]),
        // One element at most: Python orders bigger sets by hash.
        _ => {
            let items = (0..rng.below(2))
                .map(|_| Value::Int(rng.below(100) as i64))
                .collect();
            if rng.below(2) == 0 {
                Value::Set(items)
            } else {
                Value::FrozenSet(items)
            }
        }
    }
}
