//! Fuzz target: the job payload decoders (pickle, JSON, and zlib-wrapped job data) must never
//! panic, never run past their limits, and give the same answer for the same input.
//!
//!     cargo fuzz run decode tests/corpus/decoder -- -max_total_time=600
//!
//! (seeded with Python-made payloads; see fuzz/make_seeds.py and fuzz/README.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rq_protocol::codec::{self, Limits, Serializer};
use rq_protocol::{json, pickle};

fuzz_target!(|data: &[u8]| {
    let tight = Limits {
        max_depth: 8,
        max_items: 2_000,
        max_bytes: 64 * 1024,
    };
    for limits in [&Limits::default(), &tight] {
        let first = pickle::decode(data, limits);
        if let Ok(v) = &first {
            // Decoding is deterministic and a decoded value re-encodes and decodes to itself.
            // (Compared by repr: NaN is not equal to itself. The encoder does not memoize, so
            // a value that shares parts through the memo re-encodes larger than its input:
            // the second decode gets room for that.)
            let roomy = Limits {
                max_depth: 1_000,
                max_items: usize::MAX,
                max_bytes: usize::MAX,
            };
            let again = pickle::decode(&pickle::encode(v), &roomy);
            assert_eq!(
                again.map(|a| a.py_repr()).ok(),
                Some(v.py_repr()),
                "pickle round trip changed the value"
            );
        }
        let _ = json::decode(data, limits);
        for ser in [Serializer::Pickle, Serializer::Json] {
            let _ = codec::decode_data(data, ser, limits);
        }
    }
});
