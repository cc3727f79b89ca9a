//! `rq::incrbyfloat` against a live Redis: the text it computes for a sum is the one Redis'
//! own `HINCRBYFLOAT` leaves, step after step, for working times of every size a job has (the
//! increments formatted as the worker formats them), and the probe the writer runs before it
//! trusts the module passes on this server.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::RedisServer;
use rq_protocol::incrbyfloat::{incr_by_float, probe_matches, PROBE};
use rq_protocol::time::py_float_repr;

/// xorshift64: a fixed, repeatable sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn sums_are_the_text_redis_leaves() {
    let server = RedisServer::start();
    let mut con = server.con();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Working times in whole microseconds, from 1 µs to about 3 hours: the way the worker
    // measures them (`num_microseconds() / 1e6`).
    let mut increments = Vec::new();
    for _ in 0..20_000 {
        let magnitude = rng.next() % 11; // 10^0 .. 10^10 µs
        let micros = rng.next() % 10u64.pow(magnitude as u32) + 1;
        increments.push(py_float_repr(micros as f64 / 1e6));
    }
    for (chain, incs) in increments.chunks(2_000).enumerate() {
        let key = format!("totals:{chain}");
        let mut p = redis::pipe();
        for inc in incs {
            p.cmd("HINCRBYFLOAT").arg(&key).arg("t").arg(inc);
        }
        let replies: Vec<String> = p.query(&mut con).unwrap();
        let mut current = "0".to_string();
        for (inc, reply) in incs.iter().zip(&replies) {
            let ours = incr_by_float(&current, inc).expect("in range");
            assert_eq!(&ours, reply, "{current} + {inc}");
            current = ours;
        }
    }
}

#[test]
fn the_probe_passes_on_this_server() {
    let server = RedisServer::start();
    let mut con = server.con();
    let mut p = redis::pipe();
    for inc in PROBE {
        p.cmd("HINCRBYFLOAT").arg("probe").arg("t").arg(inc);
    }
    let replies: Vec<String> = p.query(&mut con).unwrap();
    assert!(probe_matches(&replies), "{replies:?}");
}
