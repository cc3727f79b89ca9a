"""Writes the decoder corpus seeds: real payloads made by Python's own pickle and json modules.

    python3 fuzz/make_seeds.py        # rewrites tests/corpus/decoder/seed-*

Each seed is the raw serializer output (pickle protocols 0-5, or JSON) of an RQ call tuple
`(func_name, instance, args, kwargs)` or of a plain value, next to a `.repr` file holding
Python's `repr()` of what it decodes to. `tests/decoder_corpus.rs` checks that the Rust decoder
gives the same repr for every seed and never panics on any file in the corpus; the fuzz target
(`fuzz/fuzz_targets/decode.rs`) starts from these seeds. Files named `regress-*` are inputs
the fuzzer once found interesting or that broke the decoder; they stay as regression tests.
"""
import datetime
import json
import pickle
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "decoder"
WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"

VALUES = {
    "call-echo": ("echo", None, (1, "two", 3.0), {"k": [None, True]}),
    "call-wrapper": (WRAPPER, None, ("student_test_execution",
                                     {"test_id": "t-1", "repository": {"url": "https://x/r.git",
                                                                       "token": "s3cr3t"}}),
                     {"retry_limit": 3, "delay": None}),
    "call-sleep": ("sleep", None, (), {"seconds": 0.25}),
    "ints": [0, -1, 255, 256, 65535, 2**31, -2**31 - 1, 2**63, -2**64, 2**200],
    "floats": [0.5, -0.0, 1e300, 5e-324, float("inf"), float("-inf")],
    "strings": ["", "plain", "ünïcödé ✓ 😀", "\x00\n\\'\"", "x" * 300],
    "bytes": [b"", b"\x00\xff", b"y" * 300],
    "containers": [[], (), {}, set(), frozenset({1, 2}), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
    "shared": (lambda s: [s, s, {"again": s}])(["shared"]),
    "nested": {"a": {"b": {"c": [[[["deep"]]]]}}},
    "dict-keys": {1: "int", None: "none", (1, 2): "tuple", "s": "str", 2.5: "float"},
}

# Objects that are not plain data: the decoder refuses them (never constructs arbitrary objects).
# Their `.repr` file says `<refused>`.
REFUSED = {
    "datetime": [datetime.datetime(2026, 11, 29, 12, 30, 45, 123456)],
    "date": datetime.date(2026, 2, 3),
    "timedelta": datetime.timedelta(days=1, seconds=2),
    "path": __import__("pathlib").PurePosixPath("/etc/passwd"),
    "exception": ValueError("boom"),
    "builtin-function": len,
}

JSON_VALUES = {
    "call-echo": ["echo", None, [1, "two", 3.0], {"k": [None, True]}],
    "call-wrapper": [WRAPPER, None, ["student_test_execution", {"test_id": "t-1"}],
                     {"retry_limit": 3, "delay": None}],
    "numbers": [0, -1, 2**63, 1e300, -0.0, 0.1],
    "strings": ["", "ünïcödé ✓ 😀", "\u0000\n\\\"", "\ud83d\ude00"],
    "nested": {"a": {"b": [[[{}]]]}},
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("seed-*"):
        old.unlink()
    count = 0
    for name, value in VALUES.items():
        for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
            try:
                data = pickle.dumps(value, protocol=proto)
            except Exception:
                continue
            base = OUT / f"seed-pickle-{name}-p{proto}"
            base.with_suffix(".bin").write_bytes(data)
            base.with_suffix(".repr").write_text(repr(pickle.loads(data)))
            count += 1
    for name, value in REFUSED.items():
        for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
            base = OUT / f"seed-pickle-refused-{name}-p{proto}"
            base.with_suffix(".bin").write_bytes(pickle.dumps(("echo", None, (value,), {}),
                                                              protocol=proto))
            base.with_suffix(".repr").write_text("<refused>")
            count += 1
    for name, value in JSON_VALUES.items():
        data = json.dumps(value).encode()
        base = OUT / f"seed-json-{name}"
        base.with_suffix(".bin").write_bytes(data)
        base.with_suffix(".repr").write_text(repr(json.loads(data)))
        count += 1
    print(f"wrote {count} seeds to {OUT}")


if __name__ == "__main__":
    main()
