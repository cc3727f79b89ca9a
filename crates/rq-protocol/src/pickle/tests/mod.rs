//! Decoder and encoder tests: CPython-made fixtures, round trips, limits and hostile input, one
//! file per subject; the fixture helpers are here.

mod cpython;
mod encode;
mod fixtures;
mod hostile;
mod opcodes;
mod refusals;

use num_bigint::BigInt;

use super::*;
use crate::value::test_support::{hex, python, random_value, unhex, Rng};
use crate::value::Value;
use fixtures::FIXTURES;

/// Fixture bytes; `*` in the `str_70k` hex stands for 70,000 `x` bytes (the
/// expected repr uses `*` the same way) to keep this file small.
fn fixture(name: &str, hex: &str, repr: &str) -> (Vec<u8>, String) {
    if name == "str_70k" {
        let (a, b) = hex.split_once('*').expect("placeholder");
        let mut data = unhex(a);
        data.extend(std::iter::repeat_n(b'x', 70_000));
        data.extend(unhex(b));
        (data, repr.replace('*', &"x".repeat(70_000)))
    } else {
        (unhex(hex), repr.to_owned())
    }
}

fn all_fixtures() -> impl Iterator<Item = (&'static str, u8, Vec<u8>, String)> {
    FIXTURES.iter().map(|&(name, proto, hex, repr)| {
        let (data, repr) = fixture(name, hex, repr);
        (name, proto, data, repr)
    })
}

fn dec(data: &[u8]) -> Result<Value> {
    decode(data, &Limits::default())
}

fn s(text: &str) -> Value {
    Value::Str(text.into())
}
