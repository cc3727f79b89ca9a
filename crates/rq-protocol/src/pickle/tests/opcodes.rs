//! Hand-written pickles for the opcodes CPython 3 no longer writes (Python 2 strings, protocol
//! 0's text opcodes) and the stack opcodes.

use super::*;

#[test]
fn python2_strings_and_text_opcodes() {
    assert_eq!(dec(b"S'abc'\np0\n.").unwrap(), s("abc"));
    assert_eq!(dec(b"S\"it's\"\n.").unwrap(), s("it's"));
    assert_eq!(
        dec(b"S'a\\'b\\n\\x41\\101\\q'\n.").unwrap(),
        s("a'b\nAA\\q")
    );
    assert_eq!(dec(b"S'\\x80'\n.").unwrap(), Value::Bytes(vec![0x80]));
    assert!(dec(b"Sabc\n.").is_err());
    assert!(dec(b"S'\\x4'\n.").is_err());
    assert_eq!(dec(b"U\x03abc.").unwrap(), s("abc"));
    assert_eq!(dec(b"T\x03\x00\x00\x00abc.").unwrap(), s("abc"));
    assert!(dec(b"T\xff\xff\xff\xffabc.").is_err());
    assert_eq!(dec(b"I00\n.").unwrap(), Value::Bool(false));
    assert_eq!(dec(b"I01\n.").unwrap(), Value::Bool(true));
    assert_eq!(dec(b"I1\n.").unwrap(), Value::Int(1));
    assert_eq!(dec(b"I-5\n.").unwrap(), Value::Int(-5));
    assert_eq!(
        dec(b"I99999999999999999999\n.").unwrap().py_repr(),
        "99999999999999999999"
    );
    assert_eq!(dec(b"L123L\n.").unwrap(), Value::Int(123));
    assert_eq!(dec(b"L-123\n.").unwrap(), Value::Int(-123));
    assert!(dec(b"L12a\n.").is_err());
    let too_long = format!("L{}\n.", "9".repeat(4301));
    assert!(dec(too_long.as_bytes()).is_err());
    assert_eq!(dec(b"F1.5\n.").unwrap(), Value::Float(1.5));
    assert_eq!(dec(b"F-inf\n.").unwrap(), Value::Float(f64::NEG_INFINITY));
    assert!(matches!(dec(b"Fnan\n.").unwrap(), Value::Float(f) if f.is_nan()));
    assert!(dec(b"Fabc\n.").is_err());
    // raw-unicode-escape: \u escapes after an odd number of backslashes only.
    assert_eq!(
        dec(b"Va\\u005cb\\u20ac\\U0001f600\xe9\n.").unwrap(),
        s("a\\b\u{20ac}\u{1f600}\u{e9}")
    );
    assert_eq!(dec(b"V\\\\u0041\n.").unwrap(), s("\\\\u0041"));
    assert!(dec(b"V\\u12\n.").is_err());
    assert!(dec(b"V\\ud800\n.").is_err());
    // Protocol 0 list/dict spelled with MARK + LIST/DICT and text memo ops.
    assert_eq!(
        dec(b"(lp0\nI1\na(I2\nI3\nlp1\nag1\na.").unwrap().py_repr(),
        "[1, [2, 3], [2, 3]]"
    );
    assert_eq!(dec(b"(S'k'\nI1\nd.").unwrap().py_repr(), "{'k': 1}");
    assert_eq!(dec(b"(I1\nI2\nt.").unwrap().py_repr(), "(1, 2)");
}

#[test]
fn stack_opcodes() {
    assert_eq!(dec(b"N\x88\x85.").unwrap().py_repr(), "(True,)");
    assert_eq!(dec(b"NK\x010.").unwrap(), Value::None); // POP
    assert_eq!(dec(b"N(K\x01K\x021.").unwrap(), Value::None); // POP_MARK
    assert_eq!(dec(b"K\x012\x86.").unwrap().py_repr(), "(1, 1)"); // DUP
    assert_eq!(dec(b"N(0.").unwrap(), Value::None); // POP of a MARK
    assert_eq!(
        dec(b"\x80\x04\x8f\x94(K\x01\x90h\x00\x86.")
            .unwrap()
            .py_repr(),
        "({1}, {1})"
    );
    assert_eq!(
        dec(b"(K\x01K\x02\x91.").unwrap().py_repr(),
        "frozenset({1, 2})"
    );
    // Trailing bytes after STOP are ignored, as by pickle.loads.
    assert_eq!(dec(b"N.garbage\xff").unwrap(), Value::None);
    // bytearray from a list of ints, bytes(), _codecs.encode(str) with utf-8.
    assert_eq!(
        dec(b"\x80\x02c__builtin__\nbytearray\n]q\x00(K\x01K\xffe\x85R.").unwrap(),
        Value::Bytes(vec![1, 255])
    );
    assert_eq!(dec(b"cbuiltins\nbytes\n)R.").unwrap(), Value::Bytes(vec![]));
    assert_eq!(
        dec(b"c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xa9\x85R.").unwrap(),
        Value::Bytes(vec![0xc3, 0xa9])
    );
    // latin-1 cannot encode U+20AC.
    assert!(
        dec(b"c_codecs\nencode\nX\x03\x00\x00\x00\xe2\x82\xacX\x06\x00\x00\x00latin1\x86R.")
            .is_err()
    );
    // set() of something that is not a sequence.
    assert!(dec(b"cbuiltins\nset\nK\x01\x85R.").is_err());
}
